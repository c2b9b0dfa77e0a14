// SPDX-License-Identifier: Apache-2.0
//! The typed operations (`complete_text`, `generate_image`, `moderate`, `rerank`,
//! `count_tokens`) against the mock and the fake upstream's vendor shapes (Gemini image output,
//! Mistral moderations), and the per-request observer (`set_observer`).

mod common;

use std::sync::{Arc, Mutex};

use common::{request, FakeUpstream};
use providermux::{
    json, ErrorKind, ImageRequest, ModerationRequest, RequestRecord, RerankRequest, Router,
    TextCompletionRequest, TokenCountRequest,
};
use serde_json::json as value;

const MOCK: &str = r#"{"providers":[{"name":"m","type":"mock"}]}"#;

#[test]
fn text_completion_rerank_and_token_count_from_the_mock() {
    let router = Router::new(MOCK).unwrap();
    let c = router
        .complete_text(&TextCompletionRequest::new("m/x", "def f(").suffix("pass"))
        .unwrap();
    assert_eq!(c.object, "text_completion");
    assert_eq!(c.text(), Some("mock: def f( … pass"));
    assert_eq!(c.provider, "m");
    assert!(c.usage.as_ref().map_or(0, |u| u.total_tokens) > 0);

    let r = router
        .rerank(&RerankRequest::new("m/r", "red fox", ["blue sky", "a red fox", "red"]).top_n(2))
        .unwrap();
    let order: Vec<usize> = r.results.iter().map(|x| x.index).collect();
    assert_eq!(order, vec![1, 2]);
    assert_eq!(r.results[0].relevance_score, 1.0);

    let n = router.count_tokens(&TokenCountRequest::text("m/x", "one two three")).unwrap();
    assert_eq!((n.input_tokens, n.estimated), (3, false));
    let n = router
        .count_tokens(&TokenCountRequest::messages("m/x", value!([{"role": "user", "content": "a b"}])))
        .unwrap();
    assert_eq!(n.input_tokens, 2);

    // A field the router reads is checked: a bad value is an invalid request naming it.
    let err = router
        .complete_text(&TextCompletionRequest::new("m/x", "p").param("max_tokens", -1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(err.to_string().contains("max_tokens"), "{err}");
}

#[test]
fn gemini_image_and_mistral_moderation_from_the_fake_upstream() {
    let up = FakeUpstream::start();
    let config = format!(
        r#"{{"providers":[
              {{"name":"gm","type":"gemini","base_url":{},"api_key":"k"}},
              {{"name":"mi","type":"mistral","base_url":{},"api_key":"k"}}],
            "pricing":{{"gm/*":{{"input_per_mtok":1,"output_per_mtok":30}}}}}}"#,
        json::quote(&format!("http://127.0.0.1:{}/rsimg", up.port)),
        json::quote(&up.base("rsmod"))
    );
    let router = Router::new(&config).unwrap();

    let images = router
        .generate_image(&ImageRequest::new("gm/gemini-2.5-flash-image", "a red fox").n(2))
        .unwrap();
    assert_eq!(images.data.len(), 2);
    assert_eq!(images.output_format.as_deref(), Some("png"));
    assert_eq!(images.provider, "gm");
    let usage = images.usage.expect("usage");
    assert_eq!(usage.completion_tokens, 2 * 1294);
    assert!(usage.cost_usd.is_some());
    let err = router
        .generate_image(&ImageRequest::new("gm/gemini-2.5-flash-image", "x").response_format("url"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");

    let m = router
        .moderate(&ModerationRequest::new("mi/mistral-moderation-latest", value!(["hello", "I will kill it"])))
        .unwrap();
    assert_eq!(m.results.len(), 2);
    assert!(!m.results[0].flagged && m.results[1].flagged);
    assert_eq!(m.results[1].categories.get("violence"), Some(&true));
    assert_eq!(m.results[1].categories.get("violence_and_threats"), Some(&true));
    assert_eq!(m.results[1].category_scores.get("violence"), Some(&0.93));
}

#[test]
fn observer_gets_one_record_per_request_and_can_be_replaced_and_cleared() {
    let router = Router::new(MOCK).unwrap();
    let seen: Arc<Mutex<Vec<RequestRecord>>> = Arc::default();
    let sink = Arc::clone(&seen);
    router
        .set_observer(move |r: &RequestRecord| sink.lock().unwrap().push(r.clone()))
        .unwrap();
    router.complete_json(&request("observed")).unwrap();
    router.complete_text(&TextCompletionRequest::new("m/x", "p")).unwrap();
    {
        let records = seen.lock().unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0].ok() && records[0].operation == "chat.completions.create");
        assert_eq!(records[0].provider.as_deref(), Some("m"));
        assert!(!records[0].request_id.is_empty() && records[0].raw.contains("\"request_id\""));
        assert_eq!(records[1].operation, "completions.create");
    }

    // A replacement: the old one is not called again. A panicking observer never unwinds into C.
    let second: Arc<Mutex<usize>> = Arc::default();
    let count = Arc::clone(&second);
    router
        .set_observer(move |_: &RequestRecord| {
            *count.lock().unwrap() += 1;
            panic!("observer panics");
        })
        .unwrap();
    router.complete_json(&request("again")).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(*second.lock().unwrap(), 1);

    router.clear_observer().unwrap();
    router.complete_json(&request("unobserved")).unwrap();
    assert_eq!(*second.lock().unwrap(), 1);
}
