#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""openai_client.py — openai-SDK code on libprovidermux: only the import and the constructor
differ from a program written for `openai`.

Usage: openai_client.py [-c CONFIG] [-m MODEL] PROMPT...

Streams the answer to stdout, then prints "[provider=... prompt_tokens=... completion_tokens=...
cost_usd=...]" to stderr. CONFIG defaults to $PMX_CONFIG, else examples/router.json. Exit
status: 0 done, 1 the request failed (the openai-named exception's message on stderr).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))

from providermux import APIError, OpenAI  # noqa: E402  (was: from openai import APIError, OpenAI)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="openai_client.py")
    parser.add_argument("-c", "--config", default=os.environ.get("PMX_CONFIG")
                        or os.path.join("examples", "router.json"))
    parser.add_argument("-m", "--model", default="mock/any")
    parser.add_argument("prompt", nargs="+")
    args = parser.parse_args(argv)

    with OpenAI(args.config) as client:  # was: OpenAI(api_key=...)
        # From here on, the code is what one writes for the openai SDK.
        try:
            stream = client.chat.completions.create(
                model=args.model, messages=[{"role": "user", "content": " ".join(args.prompt)}],
                stream=True, stream_options={"include_usage": True})
            usage = None
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
                if chunk.usage:
                    usage = chunk.usage
            print()
        except APIError as err:
            print("\nopenai_client.py: error: %s" % err, file=sys.stderr)
            return 1
        # The router's extras: which provider answered, and the cost where priced.
        print("[provider=%s prompt_tokens=%d completion_tokens=%d cost_usd=%s]" % (
            chunk.provider, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd),
            file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
