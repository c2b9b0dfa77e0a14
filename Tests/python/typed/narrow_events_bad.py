# SPDX-License-Identifier: Apache-2.0
"""What mypy must refuse (Tests/python/test_typing.py): without narrowing, `event` may be any
event type, and `response` is Optional on the others; a str is not an int."""

import providermux


def wrong(router: providermux.Router) -> str:
    for event in router.stream({"messages": [{"role": "user", "content": "hi"}]}):
        if event.type == "delta":
            return event.response.content  # a DeltaEvent's response is Optional: an error
    return ""


def wrong_usage(client: providermux.OpenAI) -> int:
    resp = client.chat.completions.create(model="m", messages=[])
    return resp.choices[0].message.content  # Optional[str], not int: an error
