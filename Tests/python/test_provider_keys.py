# SPDX-License-Identifier: Apache-2.0
"""Issue 15: a cloud provider with no key anywhere is refused at router creation (its requests
would go out unauthenticated), naming the variable; `"api_key": ""` is an intentional no-key.
Through the C ABI (pmx_router_new, pmx_provider_new), with the real process environment."""

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import dumps  # noqa: E402

CONFIG_ERROR = -4  # PMX_ERR_CONFIG (test_abi checks the table against the header)


def config(provider):
    return dumps({"providers": [{"name": "m", "type": "mock"}, provider]})


@pytest.mark.parametrize("ptype,variable", [
    ("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY"), ("gemini", "GEMINI_API_KEY"),
    ("cohere", "COHERE_API_KEY"), ("mistral", "MISTRAL_API_KEY"), ("huggingface", "HF_TOKEN"),
])
def test_cloud_type_without_key_is_refused_naming_the_variable(monkeypatch, ptype, variable):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(providermux.ConfigError) as info:
        providermux.Router(config({"name": "c", "type": ptype}))
    assert info.value.code == CONFIG_ERROR
    assert "providers[1].api_key" in info.value.message and variable in info.value.message
    # Set but empty: still no credentials, still refused.
    monkeypatch.setenv(variable, "")
    with pytest.raises(providermux.ConfigError):
        providermux.Router(config({"name": "c", "type": ptype}))


def test_azure_without_key_is_refused(monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    with pytest.raises(providermux.ConfigError) as info:
        providermux.Router(config({"name": "c", "type": "azure", "base_url": "https://r.openai.azure.com"}))
    assert "AZURE_OPENAI_API_KEY" in info.value.message


def test_key_from_the_variable_or_intentionally_empty(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk-from-env-0123456789")
    providermux.Router(config({"name": "c", "type": "groq"})).close()
    monkeypatch.delenv("GROQ_API_KEY")
    providermux.Router(config({"name": "c", "type": "groq", "api_key": ""})).close()


def test_local_types_need_no_key():
    for provider in ({"name": "c", "type": "ollama"}, {"name": "c", "type": "lmstudio"},
                     {"name": "c", "type": "llamacpp"},
                     {"name": "c", "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"}):
        providermux.Router(config(provider)).close()
