# SPDX-License-Identifier: Apache-2.0
"""Every network provider type the Python host tests drive against the fake upstream
(Tests/upstream/fake_upstream.py and its protocol plugins), with what the tests need to know
about its wire format. Shared by test_protocols.py and test_fault_matrix.py.

Azure is included only when its fake-upstream plugin (Tests/upstream/protocols/azure.py)
exists.
"""

import os
from collections import namedtuple

from pmx_testlib import ROOT

HAVE_AZURE = os.path.exists(os.path.join(ROOT, "Tests", "upstream", "protocols", "azure.py"))

MODEL = "fake-small"

# name       provider type (= the scope test_protocols.py uses)
# base       how base_url is formed:
#              "v1":   http://127.0.0.1:PORT/<scope>/v1   (OpenAI-style servers)
#              "root": http://127.0.0.1:PORT/<scope>      (host-root protocols)
# key        whether it takes an api key
# embed      whether embeddings are supported
# text_after how many stream data chunks the fake upstream sends before the first two text
#            deltas are complete (a fault "after N chunks" with this N comes after output)
# early_usage  the protocol reports prompt tokens before the first text delta (Anthropic's
#            message_start, Gemini's usageMetadata on every chunk): an interrupted stream's
#            partial usage then carries the real prompt tokens
Protocol = namedtuple("Protocol", "name base key embed text_after early_usage")

PROVIDERS = [
    #        name,                base,   key,   embed, text_after, early_usage
    Protocol("openai-compatible", "v1",   True,  True,  3, False),  # role chunk + 2 word chunks
    Protocol("openai",            "v1",   True,  True,  3, False),
    Protocol("anthropic",         "root", True,  False, 5, True),   # message_start, block_start, ping, 2 deltas
    Protocol("gemini",            "root", True,  True,  2, True),   # one GenerateContentResponse per word
    Protocol("ollama",            "root", False, True,  2, False),  # one NDJSON line per word
    Protocol("cohere",            "root", True,  True,  4, False),  # message-start, content-start, 2 deltas
    Protocol("lmstudio",          "v1",   True,  True,  3, False),
    Protocol("llamacpp",          "v1",   True,  True,  3, False),
    Protocol("openrouter",        "v1",   True,  True,  3, False),
    Protocol("groq",              "v1",   True,  True,  3, False),
    Protocol("mistral",           "v1",   True,  True,  3, False),
]
if HAVE_AZURE:
    # Azure streams open with a prompt_filter_results chunk (choices: []), then OpenAI's.
    PROVIDERS.insert(6, Protocol("azure", "root", True, True, 4, False))

NETWORK = [p.name for p in PROVIDERS]
BY_NAME = {p.name: p for p in PROVIDERS}


def key_of(name):
    return "test-key-" + name


def base_url(server_url, protocol, scope):
    """The base_url of a provider of `protocol` (a name or a Protocol) on `scope` of the fake
    upstream at `server_url` (http://127.0.0.1:PORT, or https:// for the TLS one)."""
    p = BY_NAME[protocol] if isinstance(protocol, str) else protocol
    return server_url + "/" + scope + ("/v1" if p.base == "v1" else "")


def provider_entry(server_url, protocol, name=None, scope=None):
    """A provider config object of `protocol`'s type named `name` (default: the type) on
    `scope` (default: the name)."""
    p = BY_NAME[protocol] if isinstance(protocol, str) else protocol
    name = name or p.name
    entry = {"name": name, "type": p.name, "base_url": base_url(server_url, p, scope or name)}
    if p.key:
        entry["api_key"] = key_of(p.name)
    if p.name == "azure":
        entry.update({"api_version": "2024-10-21", "deployment": "d1"})
    return entry
