// SPDX-License-Identifier: Apache-2.0
//! Against the project's fake upstream (Tests/upstream/fake_upstream.py), an OpenAI-compatible
//! server on loopback started per test.

mod common;

use common::{request, response_content, FakeUpstream};
use providermux::{json, ErrorKind, EventKind, Router};

fn config(up: &FakeUpstream) -> String {
    format!(
        r#"{{"providers":[{{"name":"up","type":"openai-compatible","base_url":{},"default_model":"fake-small",
                            "api_key":"sk-rust-test-SECRET-91c2d"}}],
            "timeouts":{{"connect_ms":2000,"total_ms":20000}}}}"#,
        json::quote(&up.base("a"))
    )
}

#[test]
fn streamed_answer_from_openai_compatible_provider() {
    let up = FakeUpstream::start();
    let router = Router::new(&config(&up)).unwrap();

    let text = router
        .stream(&request("hello from rust"))
        .unwrap()
        .collect_text()
        .unwrap();
    assert_eq!(text, "echo: hello from rust");

    let mut deltas = 0;
    let mut streamed = String::new();
    let response = router
        .stream_with(&request("the blocking way"), |event| {
            if event.kind == EventKind::Delta {
                deltas += 1;
                streamed.push_str(event.content.as_deref().unwrap_or(""));
            }
            true
        })
        .unwrap();
    assert_eq!(streamed, "echo: the blocking way");
    assert!(deltas >= 3, "streamed word by word, got {deltas} deltas");
    assert_eq!(response.text(), Some("echo: the blocking way"));
    assert_eq!(response.provider, "up");

    let response = router.complete_json(&request("not streamed")).unwrap();
    assert_eq!(response_content(&response), "echo: not streamed");

    let metrics = router.stats_ex("prometheus", false).unwrap();
    assert!(metrics.contains("pmx_router_requests_total"), "{metrics}");
    assert!(metrics.contains("provider=\"up\""), "{metrics}");
}

#[test]
fn fallback_from_a_dead_provider() {
    let up = FakeUpstream::start();
    // Port 1 on loopback refuses connections: a connection error, then failover.
    let config = format!(
        r#"{{"providers":[
              {{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:1/v1",
                "api_key":"sk-rust-dead-SECRET-04aa7","retry":{{"max_attempts":1}},"timeouts":{{"connect_ms":500}}}},
              {{"name":"up","type":"openai-compatible","base_url":{}}}]}}"#,
        json::quote(&up.base("b"))
    );
    let router = Router::new(&config).unwrap();
    let events: Vec<_> = router.stream(&request("fail over")).unwrap().collect();
    assert!(
        events.iter().any(|e| e.kind == EventKind::Fallback),
        "{events:?}"
    );
    let text: String = events.iter().filter_map(|e| e.content.clone()).collect();
    assert_eq!(text, "echo: fail over");

    let only_dead = Router::new(
        r#"{"providers":[{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:1/v1",
            "retry":{"max_attempts":1},"timeouts":{"connect_ms":500}}]}"#,
    )
    .unwrap();
    let err = only_dead
        .complete_json(&request("nobody home"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.provider, "dead");
    assert!(err.attempts >= 1);
    assert!(err.is_transient());
}
