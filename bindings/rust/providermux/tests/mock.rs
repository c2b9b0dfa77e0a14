// SPDX-License-Identifier: Apache-2.0
//! Against the in-process mock provider (no network).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{request, request_with, response_content};
use providermux::{json, ErrorKind, EventKind, Router};

const MOCK: &str = r#"{"providers":[{"name":"m","type":"mock"}]}"#;

#[test]
fn version_and_status_names() {
    assert_eq!(
        providermux::version_number() / 10000,
        providermux::sys::PMX_VERSION_MAJOR
    );
    assert!(!providermux::version().is_empty());
    assert_eq!(providermux::status_name(-12), "PMX_ERR_TIMEOUT");
    assert_eq!(providermux::status_name(-12345), "PMX_UNKNOWN_STATUS");
    // Every known kind round-trips and has a name the library knows. The list is the header's
    // (sys::PMX_ERR_ALL, written from abi/abi.json): a new status is covered without an edit.
    assert!(providermux::sys::PMX_ERR_ALL.contains(&providermux::sys::PMX_ERR_INTERNAL));
    for &code in providermux::sys::PMX_ERR_ALL {
        let kind = ErrorKind::from_code(code);
        assert!(!matches!(kind, ErrorKind::Unknown(_)), "{code}");
        assert_eq!(kind.code(), code);
        assert_ne!(providermux::status_name(code), "PMX_UNKNOWN_STATUS");
    }
}

#[test]
fn complete_with_mock() {
    let router = Router::new(MOCK).unwrap();
    let response = router.complete_json(&request("hello \"world\" é")).unwrap();
    assert_eq!(response_content(&response), "mock: hello \"world\" é");
    assert_eq!(
        json::string_field(&response, "provider").as_deref(),
        Some("m")
    );
}

#[test]
fn stream_iterator_with_mock() {
    let router = Router::new(MOCK).unwrap();
    let events: Vec<_> = router.stream(&request("one two three")).unwrap().collect();
    assert_eq!(events.first().unwrap().kind, EventKind::Start);
    assert_eq!(events.first().unwrap().provider.as_deref(), Some("m"));
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::Done);
    assert_eq!(events.iter().filter(|e| e.is_terminal()).count(), 1);
    let text: String = events.iter().filter_map(|e| e.content.clone()).collect();
    assert_eq!(text, "mock: one two three");
    assert!(events.iter().any(|e| e.kind == EventKind::Usage));
    let response = last.response().unwrap();
    assert_eq!(response_content(response), "mock: one two three");

    let text = router
        .stream(&request("again"))
        .unwrap()
        .collect_text()
        .unwrap();
    assert_eq!(text, "mock: again");
}

#[test]
fn stream_with_mock() {
    let router = Router::new(MOCK).unwrap();
    let caller = std::thread::current().id();
    let mut text = String::new();
    let mut kinds = Vec::new();
    let response = router
        .stream_with(&request("blocking stream"), |event| {
            assert_eq!(
                std::thread::current().id(),
                caller,
                "events on the caller's thread"
            );
            if let Some(c) = &event.content {
                text.push_str(c);
            }
            kinds.push(event.kind);
            true
        })
        .unwrap();
    assert_eq!(text, "mock: blocking stream");
    assert_eq!(kinds.first(), Some(&EventKind::Start));
    assert_eq!(kinds.last(), Some(&EventKind::Done));
    assert_eq!(response.text(), Some("mock: blocking stream"));
}

#[test]
fn stream_with_returning_false_cancels() {
    let router =
        Router::new(r#"{"providers":[{"name":"m","type":"mock","token_delay_ms":5}]}"#).unwrap();
    let mut seen = Vec::new();
    let err = router
        .stream_with(&request("a b c d e f g h"), |event| {
            let stop = event.kind == EventKind::Delta;
            seen.push(event.kind);
            !stop
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(err.is_cancelled());
    assert_eq!(
        seen.last(),
        Some(&EventKind::Error),
        "the terminal event still arrives"
    );
}

#[test]
fn bad_config_names_the_field() {
    let err = Router::new(r#"{"providers":[{"name":"m","type":"mock","bogus":1}]}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.code, -4);
    assert_eq!(err.status_name, "PMX_ERR_CONFIG");
    assert!(
        err.message.contains("providers[0].bogus"),
        "{}",
        err.message
    );
    assert!(err.to_string().starts_with("PMX_ERR_CONFIG: "), "{err}");
    let as_dyn: &dyn std::error::Error = &err;
    assert!(as_dyn.to_string().contains("bogus"));

    let err = Router::new(r#"{"providers":[{"name":"m","type":"nope"}]}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProviderType);
    let err = Router::new(r#"{"providers":["#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidJson);
    assert!(err.kind().is_input_error());
    let err = Router::new("{\"providers\":[]}\0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = Router::new(
        r#"{"providers":[{"name":"m","type":"mock","api_key":"${PMX_RUST_TEST_UNSET_VAR}"}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::EnvVarMissing);
    assert!(err.message.contains("PMX_RUST_TEST_UNSET_VAR"));
}

#[test]
fn unknown_lane_is_invalid_request() {
    let router = Router::new(MOCK).unwrap();
    let req = request_with("x", r#""route":{"lane":"nope"}"#);
    let err = router.complete_json(&req).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.message.contains("nope"), "{}", err.message);
    // Input errors of a stream come back at once, for both kinds of stream.
    assert_eq!(
        router.stream(&req).unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    let mut called = false;
    let err = router
        .stream_with(&req, |_| {
            called = true;
            true
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!called);
    let err = router.complete_json(r#"{"messages":[]}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn panic_in_stream_with_is_reraised_on_the_caller() {
    // Long enough (200 deltas, 20 ms apart) that the cancel lands while it still runs, even if
    // the panic hook spends a while printing a backtrace.
    let router =
        Router::new(r#"{"providers":[{"name":"m","type":"mock","token_delay_ms":20}]}"#).unwrap();
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        router.stream_with(&request(&vec!["w"; 200].join(" ")), |event| {
            calls.fetch_add(1, Ordering::SeqCst);
            if event.kind == EventKind::Delta {
                panic!("boom from the closure");
            }
            true
        })
    }));
    let payload = result.expect_err("the panic must come back to the caller");
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap();
    assert_eq!(message, "boom from the closure");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "start, then the panicking delta; never again"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the panic cancelled the request"
    );
    // The request was cancelled and the router still works.
    assert_eq!(
        router
            .stream(&request("after"))
            .unwrap()
            .collect_text()
            .unwrap(),
        "mock: after"
    );
    let stats = router.stats().unwrap();
    assert_eq!(json::int_field(&stats, "failures"), Some(1), "{stats}");
}

#[test]
fn dropping_stream_iter_early_cancels() {
    let router =
        Router::new(r#"{"providers":[{"name":"m","type":"mock","token_delay_ms":50}]}"#).unwrap();
    let long_prompt = vec!["word"; 200].join(" "); // about 10 s of deltas at 50 ms each
    let started = Instant::now();
    let mut stream = router.stream(&request(&long_prompt)).unwrap();
    assert_eq!(stream.next().unwrap().kind, EventKind::Start);
    assert_eq!(stream.next().unwrap().kind, EventKind::Delta);
    let dropping = Instant::now();
    drop(stream);
    assert!(
        dropping.elapsed() < Duration::from_secs(1),
        "drop must not wait for the stream"
    );

    // The request ends as a cancelled failure long before its 10 s of deltas.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = router.stats().unwrap();
        if json::int_field(&stats, "failures") == Some(1) {
            assert!(stats.contains(r#""in_flight":0"#), "{stats}");
            break;
        }
        assert!(Instant::now() < deadline, "stream not cancelled: {stats}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A new request on the same router still works.
    let text = router
        .stream(&request("short"))
        .unwrap()
        .collect_text()
        .unwrap();
    assert_eq!(text, "mock: short");
    assert_eq!(
        response_content(&router.complete_json(&request("x")).unwrap()),
        "mock: x"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn explicit_cancel_ends_with_cancelled_error() {
    let router =
        Router::new(r#"{"providers":[{"name":"m","type":"mock","token_delay_ms":50}]}"#).unwrap();
    let mut stream = router.stream(&request(&vec!["w"; 200].join(" "))).unwrap();
    assert_eq!(stream.next().unwrap().kind, EventKind::Start);
    stream.cancel();
    let last = stream.by_ref().last().unwrap();
    assert_eq!(last.kind, EventKind::Error);
    let err = last.error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(err.provider, "m");
    assert!(stream.is_finished());
    assert!(stream.next().is_none());
    assert_eq!(stream.terminal().unwrap().kind, EventKind::Error);
}

#[test]
fn router_shared_across_threads() {
    let router = Arc::new(Router::new(MOCK).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let router = Arc::clone(&router);
            std::thread::spawn(move || {
                for i in 0..25 {
                    let text = format!("thread {t} request {i}");
                    let response = router.complete_json(&request(&text)).unwrap();
                    assert_eq!(response_content(&response), format!("mock: {text}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = router.stats().unwrap();
    assert_eq!(json::int_field(&stats, "requests"), Some(200));
    assert_eq!(json::int_field(&stats, "successes"), Some(200));
}

#[test]
fn stream_iter_outlives_router_and_moves_threads() {
    let router =
        Router::new(r#"{"providers":[{"name":"m","type":"mock","token_delay_ms":2}]}"#).unwrap();
    let stream = router.stream(&request("moved across threads")).unwrap();
    drop(router); // the iterator keeps the library router alive
    let text = std::thread::spawn(move || stream.collect_text())
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(text, "mock: moved across threads");
}

#[test]
fn providers_routing_and_documents() {
    let router = Router::new(MOCK).unwrap();
    router
        .add_provider(r#"{"name":"m2","type":"mock","reply":"from m2"}"#)
        .unwrap();
    let response = router
        .complete_json(&request_with("x", r#""route":{"providers":["m2"]}"#))
        .unwrap();
    assert_eq!(
        json::string_field(&response, "provider").as_deref(),
        Some("m2")
    );
    assert_eq!(response_content(&response), "from m2");
    let err = router
        .add_provider(r#"{"name":"m2","type":"mock"}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DuplicateProvider);
    let err = router
        .add_provider(r#"{"name":"m3","type":"mock","zzz":1}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);

    router.update_routing(r#"{"order":["m2","m"]}"#).unwrap();
    let response = router.complete_json(&request("y")).unwrap();
    assert_eq!(
        json::string_field(&response, "provider").as_deref(),
        Some("m2")
    );
    let err = router
        .update_routing(r#"{"lanes":{"code":{"providers":["ghost"]}}}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.message.contains("routing.lanes.code"),
        "{}",
        err.message
    );

    router.remove_provider("m2").unwrap();
    let err = router.remove_provider("m2").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderNotFound);
    let err = router
        .complete_json(&request_with("x", r#""route":{"providers":["m2"]}"#))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderNotFound);

    let embeddings = router
        .embed(r#"{"model":"m/e","input":["a","b"]}"#)
        .unwrap();
    assert_eq!(
        json::field(&embeddings, "data").and_then(json::array_len),
        Some(2)
    );
    let models = router.models().unwrap();
    assert!(json::field(&models, "data").is_some(), "{models}");
    let health = router.health().unwrap();
    assert!(health.contains(r#""healthy":true"#), "{health}");

    let json_stats = router.stats_ex("json", true).unwrap();
    assert!(json::int_field(&json_stats, "requests").unwrap() >= 2);
    let after_reset = router.stats().unwrap();
    assert_eq!(json::int_field(&after_reset, "requests"), Some(0));
    let prometheus = router.stats_ex("prometheus", false).unwrap();
    assert!(
        prometheus.contains("pmx_router_requests_total"),
        "{prometheus}"
    );
    let err = router.stats_ex("xml", false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let err = router
        .model_manage(r#"{"action":"show","provider":"m","model":"x"}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[test]
fn log_callback_receives_lines() {
    let lines = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&lines);
    providermux::set_log_callback(providermux::log_level::TRACE, move |_level, line| {
        assert!(!line.is_empty());
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let router = Router::new(MOCK).unwrap();
    router.complete_json(&request("log me")).unwrap();
    drop(router);
    providermux::clear_log_callback();
    let after = lines.load(Ordering::SeqCst);
    assert!(after > 0, "router creation logs at debug level");
    // Nothing may arrive after clear_log_callback returned.
    let router = Router::new(MOCK).unwrap();
    router.complete_json(&request("quiet")).unwrap();
    assert_eq!(lines.load(Ordering::SeqCst), after);
}

#[test]
fn models_query_filters_by_search_and_provider() {
    let router = Router::new(
        r#"{"providers":[{"name":"a","type":"mock","models":["claude-x","gpt-4o"]},
                         {"name":"b","type":"mock","models":["Claude-Y"]}]}"#,
    )
    .unwrap();
    let found = router.models_query(Some("claude"), None).unwrap();
    assert!(
        found.contains(r#""a/claude-x""#) && found.contains(r#""b/Claude-Y""#),
        "{found}"
    );
    assert!(!found.contains("gpt-4o"), "{found}");
    let only_b = router.models_query(Some("claude"), Some("b")).unwrap();
    assert!(
        !only_b.contains("claude-x") && only_b.contains("Claude-Y"),
        "{only_b}"
    );
    let err = router.models_query(None, Some("ghost")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderNotFound);
}

#[test]
fn call_completions_by_name() {
    let router = Router::new(MOCK).unwrap();
    let out = router
        .call(providermux::operations::COMPLETIONS, r#"{"model":"m/x","prompt":"def f(","suffix":"pass"}"#)
        .unwrap();
    assert!(out.contains(r#""object":"text_completion""#), "{out}");
    assert!(out.contains(r#""text":"mock: def f( … pass""#), "{out}");
    let mut text = String::new();
    let mut kinds = Vec::new();
    let done = router
        .call_stream_with(providermux::operations::COMPLETIONS, r#"{"prompt":"a b"}"#, |e| {
            if e.kind == EventKind::Delta {
                text.push_str(e.content.as_deref().unwrap_or(""));
            }
            kinds.push(e.kind.clone());
            true
        })
        .unwrap();
    assert_eq!(text, "mock: a b");
    assert_eq!(kinds.last(), Some(&EventKind::Done));
    assert!(done.contains("text_completion"), "{done}");
    let err = router.call("completion.create", r#"{"prompt":"x"}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("\"completions.create\""), "{err}");
}
