# SPDX-License-Identifier: Apache-2.0
"""A typed user of providermux: mypy --strict must accept it (Tests/python/test_typing.py).
Events are narrowed by `event.type`; the openai surface's results are typed attributes."""

from typing import List

import providermux


def text_of(router: providermux.Router) -> str:
    parts: List[str] = []
    for event in router.stream({"messages": [{"role": "user", "content": "hi"}]}):
        if event.type == "delta":
            parts.append(event.content or "")
        elif event.type == "done":
            # Narrowed to DoneEvent: `response` is a Response, not Optional.
            parts.append(event.response.content)
        elif event.type == "error":
            code: int = event.code  # never reached (the stream raises), but typed
            parts.append(str(code))
        elif event.type == "start":
            parts.append(str(event.provider))
    return "".join(parts)


def reply(client: providermux.OpenAI) -> str:
    resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    content = resp.choices[0].message.content
    tokens: int = resp.usage.prompt_tokens if resp.usage is not None else 0
    return (content or "") + str(tokens) + resp.provider
