# SPDX-License-Identifier: Apache-2.0
"""The raw answers a vendor SDK received from the fake upstream. The SDKs parse leniently
(they drop or keep unknown keys, fill defaults), so a wrong shape can pass through them
unnoticed; the tests take the bytes from the SDK's own httpx client instead and check them
strictly (vendor_types.py). Every SDK here is built on httpx and takes a client or transport.
"""

import json

import httpx
import pytest

# The one OpenAI-shaped function tool the SDK tests ask with (Cohere, Mistral and Ollama take
# this shape too).
WEATHER_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


class Recording(httpx.BaseTransport):
    """An httpx transport that keeps each response's body (streams too, as they are read)."""

    def __init__(self):
        self._inner = httpx.HTTPTransport()
        self.exchanges = []  # [(request path, status, content type, bytearray)]

    def handle_request(self, request):
        response = self._inner.handle_request(request)
        body = bytearray()
        self.exchanges.append((request.url.path, response.status_code, response.headers.get("content-type", ""), body))
        inner = response.stream

        class Tee(httpx.SyncByteStream):
            def __iter__(self):
                for chunk in inner:
                    body.extend(chunk)
                    yield chunk

            def close(self):
                inner.close()
        return httpx.Response(response.status_code, headers=response.headers, stream=Tee(),
                              extensions=response.extensions, request=request)

    def close(self):
        self._inner.close()

    def last(self):
        return self.exchanges[-1]

    def json(self):
        """The last answer's body as JSON."""
        return json.loads(bytes(self.last()[3]))

    def sse(self):
        """The last answer's SSE events' data, each parsed as JSON (CRLF or LF framing)."""
        text = bytes(self.last()[3]).decode().replace("\r\n", "\n")
        events = []
        for block in text.split("\n\n"):
            data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
            if data and data != ["[DONE]"]:
                events.append(json.loads("\n".join(data)))
        return events

    def ndjson(self):
        return [json.loads(line) for line in bytes(self.last()[3]).decode().splitlines() if line.strip()]


@pytest.fixture
def wire():
    """A fresh Recording for one test; the SDK client fixtures hand it to their httpx client."""
    return Recording()
