// SPDX-License-Identifier: Apache-2.0
//! Typed stream events: the fields copied from the library's `pmx_event` view (no JSON per
//! event), against the mock provider and the fake upstream.

mod common;

use std::time::Duration;

use common::{request, FakeUpstream};
use providermux::{json, ErrorKind, EventKind, Router};

const MOCK: &str = r#"{"providers":[{"name":"m","type":"mock"}]}"#;

#[test]
fn typed_fields_from_the_mock() {
    let router = Router::new(MOCK).unwrap();
    let events: Vec<_> = router.stream(&request("typed fields")).unwrap().collect();
    let start = events.first().unwrap();
    assert_eq!(start.kind, EventKind::Start);
    assert_eq!(start.provider.as_deref(), Some("m"));
    assert_eq!(start.attempt, 1);
    for event in &events[..events.len() - 1] {
        assert!(
            event.json.is_none(),
            "{:?} carries JSON unasked",
            event.kind
        );
    }
    let usage = events
        .iter()
        .find(|e| e.kind == EventKind::Usage)
        .and_then(|e| e.usage.clone())
        .expect("a usage event with numbers");
    let total = usage.total_tokens.expect("total_tokens");
    assert!(total > 0);
    assert_eq!(
        Some(total),
        usage
            .prompt_tokens
            .zip(usage.completion_tokens)
            .map(|(p, c)| p + c)
    );

    let done = events.last().unwrap();
    assert_eq!(done.kind, EventKind::Done);
    assert_eq!(done.answer.as_deref(), Some("mock: typed fields"));
    assert_eq!(done.finish_reason.as_deref(), Some("stop"));
    assert_eq!(done.provider.as_deref(), Some("m"));
    assert_eq!(done.attempt, 1);
    assert!(
        done.usage
            .as_ref()
            .and_then(|u| u.total_tokens)
            .unwrap_or(0)
            > 0
    );
    let response = done.response().expect("done carries the response");
    assert_eq!(
        json::string_field(response, "provider").as_deref(),
        Some("m")
    );

    // stream_with_json: every event also carries its JSON, saying what the typed fields say.
    for event in router.stream_with_json(&request("with json")).unwrap() {
        let text = event.json.as_deref().expect("json");
        assert_eq!(
            json::string_field(text, "type").as_deref(),
            Some(event.kind.as_str())
        );
        if event.kind == EventKind::Delta {
            assert_eq!(json::string_field(text, "content"), event.content);
        }
    }
}

#[test]
fn retry_and_error_events_are_typed() {
    let router = Router::new(
        r#"{"providers":[{"name":"m","type":"mock","script":[{"status":500}]}],
            "retry":{"max_attempts":3,"initial_backoff_ms":10,"jitter":0}}"#,
    )
    .unwrap();
    let events: Vec<_> = router.stream(&request("retried")).unwrap().collect();
    let retry = events
        .iter()
        .find(|e| e.kind == EventKind::Retry)
        .expect("a retry event");
    assert_eq!(retry.status, providermux::sys::PMX_ERR_UPSTREAM_SERVER);
    assert_eq!(retry.http_status, 500);
    assert_eq!(retry.provider.as_deref(), Some("m"));
    assert_eq!(retry.attempt, 1);
    assert!(retry.delay_ms >= 0);
    assert!(retry.message.as_deref().map_or(false, |m| !m.is_empty()));
    let done = events.last().unwrap();
    assert_eq!((done.kind.clone(), done.attempt), (EventKind::Done, 2));

    let failing = Router::new(
        r#"{"providers":[{"name":"f","type":"mock","script":[{"status":401,"message":"bad key","times":2}]}]}"#,
    )
    .unwrap();
    let last = failing.stream(&request("x")).unwrap().last().unwrap();
    assert_eq!(last.kind, EventKind::Error);
    assert_eq!(last.status, providermux::sys::PMX_ERR_AUTH);
    assert_eq!(last.http_status, 401);
    assert_eq!(last.provider.as_deref(), Some("f"));
    assert!(last
        .json
        .as_deref()
        .map_or(false, |j| j.contains(r#""type":"error""#)));
    let err = last.error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.provider, "f");
    assert!(err.message.contains("bad key"), "{err}");
    // stream_with returns the same error.
    let err = failing.stream_with(&request("y"), |_| true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.http_status, 401);
}

#[test]
fn tool_call_deltas_from_the_fake_upstream() {
    let up = FakeUpstream::start();
    let router = Router::new(&format!(
        r#"{{"providers":[{{"name":"up","type":"openai-compatible","base_url":{}}}]}}"#,
        json::quote(&up.base("tools"))
    ))
    .unwrap();
    let tools = r#"{"model":"fake-small","messages":[{"role":"user","content":"weather in Paris?"}],
      "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"city":{"type":"string"}}}}}]}"#;
    let events: Vec<_> = router.stream(tools).unwrap().collect();
    let pieces: Vec<_> = events.iter().flat_map(|e| e.tool_calls.iter()).collect();
    assert!(!pieces.is_empty(), "{events:?}");
    assert!(pieces.iter().all(|p| p.index == Some(0)), "{pieces:?}");
    let name: String = pieces.iter().filter_map(|p| p.name.as_deref()).collect();
    let arguments: String = pieces
        .iter()
        .filter_map(|p| p.arguments.as_deref())
        .collect();
    assert_eq!(name, "get_weather");
    assert!(pieces[0].id.as_deref().map_or(false, |id| !id.is_empty()));
    assert!(
        json::field(&arguments, "city").is_some(),
        "arguments {arguments:?}"
    );
    let done = events.last().unwrap();
    assert_eq!(done.finish_reason.as_deref(), Some("tool_calls"));
}

#[test]
fn next_timeout_and_cancel_mid_stream() {
    let router =
        Router::new(r#"{"providers":[{"name":"slow","type":"mock","token_delay_ms":200}]}"#)
            .unwrap();
    let mut stream = router.stream(&request(&vec!["w"; 100].join(" "))).unwrap();
    let mut first_delta = None;
    while first_delta.is_none() {
        match stream.next_timeout(Duration::from_secs(30)) {
            Ok(Some(e)) if e.kind == EventKind::Delta => first_delta = Some(e),
            Ok(Some(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(first_delta.unwrap().content.unwrap().starts_with("mock:"));
    stream.cancel();
    let mut deltas = 1;
    let last = loop {
        let event = stream.next().expect("events up to the terminal one");
        if event.kind == EventKind::Delta {
            deltas += 1;
        }
        if event.is_terminal() {
            break event;
        }
    };
    assert!(deltas < 100);
    assert_eq!(last.kind, EventKind::Error);
    assert_eq!(last.status, providermux::sys::PMX_ERR_CANCELLED);
    assert_eq!(last.provider.as_deref(), Some("slow"));
    assert!(stream.next().is_none());
    assert!(matches!(
        stream.next_timeout(Duration::from_millis(1)),
        Ok(None)
    ));
}
