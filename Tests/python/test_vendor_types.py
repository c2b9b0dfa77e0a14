# SPDX-License-Identifier: Apache-2.0
"""The strict checker of the vendor SDK tests (vendor_types.py, vendor_requests.py) catches
what pydantic alone lets through: a misspelled key, a wrong item inside an Iterable field, a
missing required key, an undeclared key in a pydantic model, an unknown multipart field."""

import pytest

pytest.importorskip("anthropic")

from anthropic.types.message_create_params import MessageCreateParamsNonStreaming as Params  # noqa: E402
from mistralai.client import models as mm  # noqa: E402

from vendor_requests import check_sent  # noqa: E402
from vendor_types import Mismatch, check_model, check_typed  # noqa: E402

GOOD = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def test_a_good_body_passes():
    check_typed(GOOD, Params)


@pytest.mark.parametrize("bad,fragment", [
    (dict(GOOD, max_token=5), "unknown key 'max_token'"),
    ({k: v for k, v in GOOD.items() if k != "max_tokens"}, "required key 'max_tokens'"),
    (dict(GOOD, messages=[{"role": "user", "content": [{"type": "text", "txt": "x"}]}]), "messages[0].content[0]"),
    (dict(GOOD, messages=[{"role": "robot", "content": "x"}]), "messages[0]"),
    (dict(GOOD, max_tokens="10"), "max_tokens"),
], ids=["misspelled", "missing", "inside-iterable", "literal", "scalar"])
def test_typed_dict_differences_fail(bad, fragment):
    with pytest.raises(Mismatch) as info:
        check_typed(bad, Params)
    assert fragment in str(info.value)


def test_model_undeclared_key_fails():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    check_model(mm.ChatCompletionRequest, body)
    with pytest.raises(Mismatch, match="unknown key 'seed'"):
        check_model(mm.ChatCompletionRequest, dict(body, seed=1))
    with pytest.raises(Mismatch, match="messages"):
        check_model(mm.ChatCompletionRequest, dict(body, messages=[{"role": "user", "content": "hi", "x": 1}]))


def test_multipart_unknown_field_fails():
    def record(extra):
        parts = [('file"; filename="a.wav', "RIFF"), ("model", "whisper-1")] + extra
        body = "".join('--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % p for p in parts) + "--b--\r\n"
        return {"method": "POST", "path": "/s/v1/audio/transcriptions", "json": None, "body": body,
                "headers": {"content-type": "multipart/form-data; boundary=b"}}
    assert check_sent("openai", record([("timestamp_granularities[]", "word")])) == "TranscriptionCreateParamsNonStreaming"
    with pytest.raises(Mismatch, match="unknown field 'langauge'"):
        check_sent("openai", record([("langauge", "en")]))
    with pytest.raises(Mismatch, match="response_format"):
        check_sent("openai", record([("response_format", "xml")]))
