# SPDX-License-Identifier: Apache-2.0
"""providermux.OpenAI / AsyncOpenAI: code written for the openai SDK runs unchanged on them.

The same user code (written once, below) runs through the real openai SDK against the fake
upstream and through providermux against the same fake upstream; the results must agree. The
results' model_dump() is validated by openai's own pydantic types. The openai package is needed:
scripts/setup.sh installs it; without it these tests FAIL (they are never skipped).
"""

import asyncio
import json

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, SECRET  # noqa: E402

try:
    import openai
    from openai.types import CreateEmbeddingResponse as OAEmbeddings
    from openai.types import Model as OAModel
    from openai.types.chat import ChatCompletion as OACompletion
    from openai.types.chat import ChatCompletionChunk as OAChunk
except ImportError as exc:  # pragma: no cover - the failure this guards against
    openai = None
    OPENAI_MISSING = "the openai package is missing (%s): run scripts/setup.sh" % exc
else:
    OPENAI_MISSING = None


@pytest.fixture(autouse=True)
def _require_openai():
    if openai is None:
        pytest.fail(OPENAI_MISSING)


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]

# The requests user_code makes, in order, each taking one entry of the fake upstream's script.
SCRIPT = [{}, {}, {}, {}, {}, {}, {"status": 429, "times": 1}, {"error_event_after_chunks": 3}]


def user_code(client, sdk):
    """A user's openai-SDK code. `sdk` is what they imported (openai or providermux): only the
    import and the constructor (which made `client`) differ."""
    out = {}
    resp = client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "hello there world"}],
        temperature=0)
    out["content"] = resp.choices[0].message.content
    out["finish_reason"] = resp.choices[0].finish_reason
    out["usage"] = (resp.usage.prompt_tokens, resp.usage.completion_tokens,
                    resp.usage.total_tokens)

    resp = client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "what is the weather"}],
        tools=TOOLS)
    call = resp.choices[0].message.tool_calls[0]
    out["tool_call"] = (call.type, call.function.name, json.loads(call.function.arguments))

    text = ""
    for chunk in client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "one two three four"}],
            stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    out["streamed"] = text

    usage = None
    finish = None
    stream = client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "count my tokens"}],
        stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    out["stream_usage"] = (usage.prompt_tokens, usage.completion_tokens)
    out["stream_finish"] = finish

    embeddings = client.embeddings.create(model="fake-small", input=["alpha", "beta"])
    out["embeddings"] = [(e.index, len(e.embedding)) for e in embeddings.data]

    out["models"] = sorted(model.id for model in client.models.list())

    try:
        client.chat.completions.create(model="fake-small",
                                       messages=[{"role": "user", "content": "too fast"}])
        out["rate_limit"] = "no error"
    except sdk.RateLimitError as exc:
        out["rate_limit"] = exc.status_code

    text = ""
    try:
        for chunk in client.chat.completions.create(
                model="fake-small", messages=[{"role": "user", "content": "a b c d e f g"}],
                stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        out["stream_error"] = "ended quietly"
    except sdk.APIError as exc:
        out["stream_error"] = (isinstance(exc, sdk.APIError), text)
    return out


async def async_user_code(client, sdk):
    """The asyncio flavour of user_code (AsyncOpenAI)."""
    out = {}
    resp = await client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "hello async world"}])
    out["content"] = resp.choices[0].message.content
    text = ""
    stream = await client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "one two three"}],
        stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    out["streamed"] = text
    embeddings = await client.embeddings.create(model="fake-small", input="alpha")
    out["embeddings"] = len(embeddings.data[0].embedding)
    out["models"] = sorted([model.id async for model in client.models.list()])
    try:
        stream = await client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "a b c d e f g"}],
            stream=True)
        async for chunk in stream:
            pass
        out["stream_error"] = "ended quietly"
    except sdk.APIError:
        out["stream_error"] = "raised"
    return out


def router_config(up, scope):
    return {"providers": [{"name": "fake", "type": "openai-compatible",
                           "base_url": up.base(scope), "api_key": SECRET}],
            "retry": dict(FAST_RETRY, max_attempts=1)}


def bare_ids(ids):
    """providermux lists models as "provider/model" (the router's names); openai as the
    upstream's ids."""
    return sorted(i.split("/", 1)[1] if "/" in i else i for i in ids)


def test_openai_code_runs_unchanged(up):
    up.script("oa", SCRIPT)
    expected = user_code(openai.OpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0),
                         openai)
    assert expected["stream_error"] != "ended quietly"  # the SDK's behaviour this mirrors

    up.script("pmx", SCRIPT)
    with providermux.OpenAI(router_config(up, "pmx")) as client:
        got = user_code(client, providermux)

    assert bare_ids(got.pop("models")) == expected.pop("models")
    assert got == expected
    assert got["content"] == "echo: hello there world"
    assert got["tool_call"] == ("function", "get_weather", {"city": "Paris"})
    assert got["rate_limit"] == 429
    assert got["stream_error"][0] is True and got["stream_error"][1]


def test_async_openai_code_runs_unchanged(up):
    script = [{}, {}, {}, {}, {"error_event_after_chunks": 2}]
    up.script("oa", script)
    expected = asyncio.run(async_user_code(
        openai.AsyncOpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0), openai))

    async def ours():
        up.script("pmx", script)
        async with providermux.AsyncOpenAI(router_config(up, "pmx")) as client:
            return await async_user_code(client, providermux)

    got = asyncio.run(ours())
    assert bare_ids(got.pop("models")) == expected.pop("models")
    assert got == expected
    assert got["stream_error"] == "raised"


def test_results_validate_with_openais_types(up):
    with providermux.OpenAI(router_config(up, "v")) as client:
        resp = client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "what is the weather"}],
            tools=TOOLS)
        checked = OACompletion.model_validate(resp.model_dump())
        assert checked.choices[0].message.tool_calls[0].function.name == "get_weather"
        assert OACompletion.model_validate_json(resp.model_dump_json()) == checked

        resp = client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "hi"}])
        checked = OACompletion.model_validate(resp.model_dump())
        assert checked.choices[0].message.content == "echo: hi"
        assert checked.usage.prompt_tokens == resp.usage.prompt_tokens == 1
        # The router's extras ride along (openai's models keep extra members).
        assert resp.provider == "fake" and checked.provider == "fake"
        assert resp.attempts[0].outcome == "ok"
        assert resp.latency_ms is not None

        for request in ({"content": "what is the weather", "tools": TOOLS},
                        {"content": "one two", "stream_options": {"include_usage": True}}):
            content = request.pop("content")
            stream = client.chat.completions.create(
                model="fake-small", messages=[{"role": "user", "content": content}],
                stream=True, **request)
            chunks = list(stream)
            for chunk in chunks:
                OAChunk.model_validate(chunk.model_dump())
            assert len({chunk.id for chunk in chunks}) == 1
            assert chunks[0].choices[0].delta.role == "assistant"
            assert stream.completion is not None and stream.completion.provider == "fake"
        assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0

        embeddings = client.embeddings.create(model="fake-small", input=["x", "y"])
        checked = OAEmbeddings.model_validate(embeddings.model_dump())
        assert [len(e.embedding) for e in checked.data] == [8, 8]
        b64 = client.embeddings.create(model="fake-small", input="x", encoding_format="base64")
        assert isinstance(b64.data[0].embedding, str)

        for model in client.models.list():
            OAModel.model_validate(model.model_dump())
        assert client.models.retrieve("fake/fake-small").id == "fake/fake-small"
        with pytest.raises(providermux.NotFoundError):
            client.models.retrieve("fake/nope")


def test_stream_tool_call_chunks_have_openais_shape(up):
    with providermux.OpenAI(router_config(up, "t")) as client:
        stream = client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "weather please"}],
            tools=TOOLS, stream=True)
        name, arguments = "", ""
        for chunk in stream:
            OAChunk.model_validate(chunk.model_dump())
            for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                name += call.function.name or ""
                arguments += call.function.arguments or ""
        assert name == "get_weather"
        assert json.loads(arguments) == {"city": "Paris"}
        assert stream.completion.choices[0].finish_reason == "tool_calls"


def test_errors_carry_openai_names_and_the_old_ones():
    config = {"providers": [{"name": "m", "type": "mock",
                             "script": [{"status": 429, "times": 5}]}],
              "retry": {"max_attempts": 1}}
    with providermux.OpenAI(config) as client:
        with pytest.raises(providermux.RateLimitError) as info:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert isinstance(info.value, providermux.RateLimitedError)  # old code still catches it
        assert isinstance(info.value, providermux.APIStatusError)
        assert isinstance(info.value, providermux.OpenAIError)
        assert info.value.status_code == 429
        with pytest.raises(providermux.RateLimitError) as info:
            for _ in client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}], stream=True):
                pass
        assert info.value.event["type"] == "error"
    pairs = {
        providermux.ERR_TIMEOUT: providermux.APITimeoutError,
        providermux.ERR_CONNECTION: providermux.APIConnectionError,
        providermux.ERR_AUTH: providermux.AuthenticationError,
        providermux.ERR_UPSTREAM_BAD_REQUEST: providermux.BadRequestError,
        providermux.ERR_INVALID_REQUEST: providermux.BadRequestError,
        providermux.ERR_MODEL_NOT_FOUND: providermux.NotFoundError,
        providermux.ERR_UPSTREAM_SERVER: providermux.InternalServerError,
        providermux.ERR_STREAM_INTERRUPTED: providermux.APIError,
        providermux.ERR_PERMISSION: providermux.APIStatusError,
    }
    for code, openai_class in pairs.items():
        exc = providermux.ProviderMuxError.from_code(code, "x")
        assert isinstance(exc, openai_class), (code, type(exc).__mro__)
        assert isinstance(exc, providermux.ProviderMuxError)
    assert issubclass(providermux.APITimeoutError, providermux.APIConnectionError)
    assert providermux.PermissionDeniedError(message="no").status_code == 403


def test_client_options_and_bad_input(up, tmp_path):
    path = tmp_path / "router.json"
    path.write_text(json.dumps(router_config(up, "o")))
    for config in (str(path), path, json.dumps(router_config(up, "o"))):
        with providermux.OpenAI(config) as client:
            resp = client.chat.completions.create(
                model="fake-small", messages=[{"role": "user", "content": "hi"}],
                extra_body={"seed": 7})
            assert resp.choices[0].message.content == "echo: hi"
    assert up.requests("o")[-1]["json"]["seed"] == 7

    with pytest.raises(providermux.ConfigError, match="router-missing.json"):
        providermux.OpenAI(str(tmp_path / "router-missing.json"))
    with providermux.OpenAI(router_config(up, "o")) as client:
        with pytest.raises(providermux.InvalidArgumentError, match="extra_headers"):
            client.chat.completions.create(model="fake-small", messages=[],
                                           extra_headers={"x": "y"})
        with pytest.raises(providermux.InvalidArgumentError, match="timeout"):
            client.chat.completions.create(model="fake-small", messages=[], timeout="soon")
        up.script("o", [{"hang": True}])
        with pytest.raises(providermux.APITimeoutError):
            client.chat.completions.create(
                model="fake-small", messages=[{"role": "user", "content": "hi"}], timeout=0.3)
        router = client.router
    assert router.closed  # the client made it, the client closed it

    with providermux.Router(router_config(up, "o")) as shared:
        providermux.OpenAI(router=shared).close()
        assert not shared.closed  # a router given to the client stays the caller's
