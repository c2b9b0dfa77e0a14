# SPDX-License-Identifier: Apache-2.0
"""pmx_router_call through the library for the vendor shapes of issue 16's leftovers: Gemini
image output (generateContent with the IMAGE modality) as OpenAI's images result, and
Mistral's moderations as OpenAI's moderation result, against the fake upstream speaking each
vendor's own wire format (Tests/upstream/protocols/gemini.py, ops_mistral.py).
"""

import base64

import pytest

import providermux
from pmx_testlib import SECRET
from test_openai_operations import sdk  # the openai package, or a failed test (never a skip)
from test_operations_media import provider, router  # noqa: F401 (the same provider / router helpers)


# -- Gemini images ------------------------------------------------------------------------------

def test_gemini_images_b64_usage_and_cost(up):
    gm = provider(up, "gm", "gemini", root=True)
    with router(gm, pricing={"gm/*": {"input_per_mtok": 1, "output_per_mtok": 30}}) as r:
        out = r.call("images.generate", {"model": "gm/gemini-2.5-flash-image", "prompt": "a red fox",
                                         "n": 2, "size": "1792x1024"})
    assert [base64.b64decode(d["b64_json"]) for d in out["data"]] == [
        b"\x89PNG\r\n\x1a\na red fox|16:9|0", b"\x89PNG\r\n\x1a\na red fox|16:9|1"]
    assert out["output_format"] == "png" and out["provider"] == "gm"
    assert out["usage"]["input_tokens"] == out["usage"]["prompt_tokens"] == 3
    assert out["usage"]["output_tokens"] == out["usage"]["completion_tokens"] == 2 * (1290 + 4)
    assert out["usage"]["cost_usd"] == pytest.approx((3 * 1 + 2588 * 30) / 1e6)
    (req,) = up.requests("gm")
    assert req["path"] == "/gm/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert req["headers"]["x-goog-api-key"] == SECRET + "-gm"
    assert req["json"]["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]


def test_gemini_images_safety_stop_is_content_filtered(up):
    with router(provider(up, "gm", "gemini", root=True)) as r:
        with pytest.raises(providermux.ProviderMuxError) as e:
            r.call("images.generate", {"model": "gm/gemini-2.5-flash-image", "prompt": "something forbidden"})
    assert e.value.status_name == "PMX_ERR_CONTENT_FILTERED" and "IMAGE_SAFETY" in str(e.value)


def test_gemini_images_url_fails_over_without_sending(up):
    gm = provider(up, "gm", "gemini", root=True, models=["img"])
    oa = provider(up, "oa", "openai", models=["img"])
    with router(gm, oa, routing={"strategy": "priority"}) as r:
        out = r.call("images.generate", {"model": "img", "prompt": "a cat", "response_format": "url"})
    assert out["provider"] == "oa"
    first = out["attempts"][0]
    assert first["provider"] == "gm" and first["status_name"] == "PMX_ERR_UNSUPPORTED"
    assert 'response_format "url"' in first["message"]
    assert up.requests("gm") == []


# -- Mistral moderations ------------------------------------------------------------------------

def test_mistral_moderations_in_openai_shape(up):
    mi = provider(up, "mi", "mistral")
    with router(mi) as r:
        out = r.call("moderations.create", {"model": "mi/mistral-moderation-latest",
                                             "input": ["hello", "I will kill it, mail me at a@b.io"]})
    calm, hot = out["results"]
    assert calm["flagged"] is False and hot["flagged"] is True
    # Mistral's names kept, OpenAI's added where they mean the same, the rest of OpenAI's false
    assert hot["categories"]["violence_and_threats"] is True and hot["categories"]["violence"] is True
    assert hot["categories"]["pii"] is True and hot["categories"]["harassment"] is False
    assert hot["category_scores"]["violence"] == hot["category_scores"]["violence_and_threats"] == 0.93
    assert hot["category_applied_input_types"]["pii"] == ["text"]
    assert out["provider"] == "mi" and out["usage"]["prompt_tokens"] == 9
    (req,) = up.requests("mi")
    assert req["path"] == "/mi/v1/moderations"
    assert req["json"] == {"model": "mistral-moderation-latest", "input": ["hello", "I will kill it, mail me at a@b.io"]}


def test_mistral_moderations_image_parts_fail_over(up):
    mi = provider(up, "mi", "mistral", models=["mod"])
    oa = provider(up, "oa", "openai", models=["mod"])
    with router(mi, oa, routing={"strategy": "priority"}) as r:
        out = r.call("moderations.create", {"model": "mod", "input": [
            {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]})
    assert out["provider"] == "oa"
    assert out["attempts"][0]["status_name"] == "PMX_ERR_UNSUPPORTED" and "text only" in out["attempts"][0]["message"]
    assert up.requests("mi") == []


# -- the results read by openai's own types -----------------------------------------------------

def test_results_validate_with_openais_types(up):
    types = sdk().types
    gm = provider(up, "gm", "gemini", root=True)
    mi = provider(up, "mi", "mistral")
    with router(gm, mi) as r:
        img = r.call("images.generate", {"model": "gm/gemini-2.5-flash-image", "prompt": "a fox", "n": 2})
        mod = r.call("moderations.create", {"model": "mi/mistral-moderation-latest", "input": ["a", "kill it"]})
    images = types.ImagesResponse.model_validate(img)
    assert images.output_format == "png" and images.usage.output_tokens == 2 * 1294
    checked = types.ModerationCreateResponse.model_validate(mod)
    assert checked.results[1].flagged and checked.results[1].categories.violence is True
    assert checked.results[0].categories.self_harm_intent is False
    assert checked.results[1].category_applied_input_types.violence == ["text"]
