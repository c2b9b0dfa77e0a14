// SPDX-License-Identifier: Apache-2.0
//! Typed requests and responses (serde): `complete` returns a `ChatCompletion`, streams end
//! in one, tool calls come out typed, errors carry their status. Against the mock provider
//! and the project's fake upstream (Tests/upstream/fake_upstream.py).

mod common;

use common::FakeUpstream;
use providermux::{
    json, ChatCompletion, ChatRequest, ContentPart, ErrorKind, EventKind, ImageUrl, Message, Role,
    Router, Tool,
};
use serde_json::{json, Value};

fn upstream_router(up: &FakeUpstream, scope: &str) -> Router {
    Router::new(&format!(
        r#"{{"providers":[{{"name":"up","type":"openai-compatible","base_url":{},
            "default_model":"fake-small"}}]}}"#,
        json::quote(&up.base(scope))
    ))
    .unwrap()
}

fn weather_request() -> ChatRequest {
    ChatRequest::new("fake-small")
        .message(Message::system("Answer with tools."))
        .message(Message::user("weather in Paris?"))
        .tool(Tool::function(
            "get_weather",
            "The current weather of a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        ))
}

#[derive(serde::Deserialize)]
struct WeatherArgs {
    city: String,
}

#[test]
fn typed_completion_with_usage_cost_provider_and_attempts() {
    // 1,000,000 USD per million prompt tokens: cost_usd == prompt_tokens.
    let router = Router::new(
        r#"{"providers":[{"name":"m","type":"mock"}],
            "pricing":{"m/any":{"input_per_mtok":1000000,"output_per_mtok":0}}}"#,
    )
    .unwrap();
    let request = ChatRequest::new("m/any").message(Message::user("typed hello"));
    let resp = router.complete(&request).unwrap();
    assert_eq!(resp.object, "chat.completion");
    assert_eq!(resp.choices[0].message.role, Role::Assistant);
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("mock: typed hello")
    );
    assert_eq!(resp.text(), Some("mock: typed hello"));
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(resp.provider, "m");
    assert_eq!(resp.attempts.len(), 1);
    assert!(resp.attempts[0].is_ok(), "{:?}", resp.attempts);
    assert_eq!(resp.attempts[0].provider, "m");
    assert!(resp.latency_ms > 0.0);
    let usage = resp.usage.as_ref().expect("usage");
    assert!(usage.prompt_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert_eq!(usage.cost_usd, Some(usage.prompt_tokens as f64));

    // The raw escape hatch returns the same document.
    let raw = router.complete_json(&request).unwrap();
    let again = ChatCompletion::from_json(&raw).unwrap();
    assert_eq!(again.text(), resp.text());
    // JSON text and serde_json::Value are requests too.
    let from_text = router
        .complete(r#"{"model":"m/any","messages":[{"role":"user","content":"as text"}]}"#)
        .unwrap();
    assert_eq!(from_text.text(), Some("mock: as text"));
    let from_value = router
        .complete(&json!({"model": "m/any", "messages": [{"role": "user", "content": "as value"}]}))
        .unwrap();
    assert_eq!(from_value.text(), Some("mock: as value"));
}

#[test]
fn typed_tool_calls_from_the_fake_upstream_in_complete() {
    let up = FakeUpstream::start();
    let router = upstream_router(&up, "rust-tools-complete");
    let resp = router.complete(&weather_request()).unwrap();
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(resp.choices[0].message.content, None);
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 1, "{resp:?}");
    assert_eq!(calls[0].id, "call_fake_1");
    assert_eq!(calls[0].kind, "function");
    assert_eq!(calls[0].function.name, "get_weather");
    let args: WeatherArgs = calls[0].function.parse_arguments().unwrap();
    assert_eq!(args.city, "Paris");
    assert_eq!(resp.provider, "up");

    // The conversation continues with the typed call and the tool's answer.
    let follow_up = weather_request()
        .message(Message::assistant_tool_calls(calls.to_vec()))
        .message(Message::tool(&calls[0].id, "18 degrees"))
        .message(Message::user("thanks"));
    let resp = router.complete(&follow_up).unwrap();
    assert_eq!(resp.text(), Some("echo: thanks"));
}

#[test]
fn typed_tool_calls_from_the_fake_upstream_in_stream() {
    let up = FakeUpstream::start();
    let router = upstream_router(&up, "rust-tools-stream");
    let events: Vec<_> = router.stream(&weather_request()).unwrap().collect();
    let pieces: Vec<_> = events.iter().flat_map(|e| e.tool_calls.iter()).collect();
    let name: String = pieces.iter().filter_map(|p| p.name.as_deref()).collect();
    let arguments: String = pieces
        .iter()
        .filter_map(|p| p.arguments.as_deref())
        .collect();
    assert_eq!(name, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap()["city"],
        "Paris"
    );

    // The done event carries the whole answer, typed, with the joined call.
    let done = events.last().unwrap();
    assert_eq!(done.kind, EventKind::Done);
    let resp = done.completion().expect("done").unwrap();
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 1, "{resp:?}");
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(
        calls[0]
            .function
            .parse_arguments::<WeatherArgs>()
            .unwrap()
            .city,
        "Paris"
    );

    // stream_with and StreamIter::completion return the same typed response.
    let mut deltas = 0;
    let resp = router
        .stream_with(&weather_request(), |event| {
            deltas += usize::from(!event.tool_calls.is_empty());
            true
        })
        .unwrap();
    assert!(deltas > 0);
    assert_eq!(resp.tool_calls()[0].function.name, "get_weather");
    let resp = router
        .stream(&weather_request())
        .unwrap()
        .completion()
        .unwrap();
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("tool_calls"));
}

#[test]
fn content_parts_reach_the_provider() {
    let up = FakeUpstream::start();
    let router = upstream_router(&up, "rust-parts");
    let request = ChatRequest::new("fake-small").message(Message::user(vec![
        ContentPart::Text {
            text: "describe".into(),
        },
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: "data:image/png;base64,iVBORw0KGgo=".into(),
                detail: None,
            },
        },
        ContentPart::Text {
            text: "this".into(),
        },
    ]));
    // The fake upstream echoes the text parts of the last user message, joined by spaces.
    assert_eq!(
        router.complete(&request).unwrap().text(),
        Some("echo: describe this")
    );
}

#[test]
fn typed_errors_carry_the_status() {
    let router = Router::new(r#"{"providers":[{"name":"m","type":"mock"}]}"#).unwrap();
    let err = router.complete(&ChatRequest::new("m/any")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.code, providermux::sys::PMX_ERR_INVALID_REQUEST);
    assert_eq!(err.status_name, "PMX_ERR_INVALID_REQUEST");
    assert!(err.message.contains("messages"), "{err}");

    let dead = Router::new(
        r#"{"providers":[{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:1/v1",
            "retry":{"max_attempts":1},"timeouts":{"connect_ms":500}}]}"#,
    )
    .unwrap();
    let request = ChatRequest::new("any").message(Message::user("nobody home"));
    let err = dead.complete(&request).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.provider, "dead");
    let err = dead.stream(&request).unwrap().completion().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
}

#[test]
fn typed_embeddings_and_models() {
    use providermux::EmbeddingRequest;
    let router = Router::new(r#"{"providers":[{"name":"m","type":"mock"}]}"#).unwrap();
    let resp = router
        .embeddings(&EmbeddingRequest::new("m/e", vec!["first text", "second"]))
        .unwrap();
    assert_eq!(resp.data.len(), 2);
    assert_eq!((resp.data[0].index, resp.data[1].index), (0, 1));
    assert!(!resp.data[0].embedding.is_empty());
    assert_eq!(resp.data[0].embedding.len(), resp.data[1].embedding.len());
    assert_ne!(resp.data[0].embedding, resp.data[1].embedding);
    assert_eq!(resp.provider, "m");
    assert!(resp.usage.as_ref().map_or(0, |u| u.prompt_tokens) > 0);
    assert!(resp.attempts[0].is_ok());
    // One text is a list of one.
    let one = router
        .embeddings(&EmbeddingRequest::new("m/e", "first text"))
        .unwrap();
    assert_eq!(one.data.len(), 1);
    assert_eq!(one.data[0].embedding, resp.data[0].embedding);

    let models = router.list_models().unwrap();
    let mock = models
        .data
        .iter()
        .find(|m| m.provider == "m")
        .expect("the mock's model");
    assert_eq!(mock.id, format!("m/{}", mock.model));
    assert!(mock.capabilities.iter().any(|c| c == "chat"), "{mock:?}");
    assert!(models.errors.is_empty(), "{:?}", models.errors);
}

#[test]
fn response_members_round_trip_and_unknown_ones_are_kept() {
    // A newer library's member and a refusal survive decoding (extra) and re-encoding.
    let text = r#"{"id":"x","object":"chat.completion","created":1,"model":"m","provider":"p",
        "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,
        "refusal":"no","audio":{"id":"a1"}}}],"usage":{"prompt_tokens":1,"completion_tokens":2,
        "total_tokens":3,"prompt_tokens_details":{"cached_tokens":1},"cost_usd":0.5},
        "attempts":[{"provider":"p","model":"m","outcome":"ok","http_status":200,"latency_ms":1.5}],
        "latency_ms":2.0,"future_member":[1,2]}"#;
    let resp = ChatCompletion::from_json(text).unwrap();
    assert_eq!(resp.choices[0].message.refusal.as_deref(), Some("no"));
    assert_eq!(resp.choices[0].message.extra["audio"], json!({"id": "a1"}));
    assert_eq!(resp.extra["future_member"], json!([1, 2]));
    let usage = resp.usage.as_ref().unwrap();
    assert_eq!(
        usage.prompt_tokens_details.as_ref().unwrap().cached_tokens,
        Some(1)
    );
    assert_eq!(usage.cost_usd, Some(0.5));
    let again: Value = serde_json::to_value(&resp).unwrap();
    assert_eq!(again["future_member"], json!([1, 2]));
    assert_eq!(again["choices"][0]["message"]["audio"]["id"], "a1");
    // Not a chat.completion: an Internal error naming what was expected.
    let err = ChatCompletion::from_json(r#"{"choices":"nope"}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.message.contains("chat.completion"), "{err}");
}
