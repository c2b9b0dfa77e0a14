// SPDX-License-Identifier: Apache-2.0
//! One mock stream of N words read through the crate's `Router::stream`; prints "DELTAS BYTES".
//! Copied into a scratch copy of bindings/rust (as providermux/examples/reader.rs) by
//! bench/bindings/per-delta.sh.
use providermux::{json, EventKind, Router};

fn main() {
    let words: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let router = Router::new(r#"{"providers":[{"name":"m","type":"mock"}]}"#).unwrap();
    let request = format!(
        r#"{{"messages":[{{"role":"user","content":{}}}]}}"#,
        json::quote(&"w ".repeat(words))
    );
    let (mut deltas, mut bytes) = (0usize, 0usize);
    for event in router.stream(&request).unwrap() {
        if event.kind == EventKind::Delta {
            deltas += 1;
            bytes += event.content.as_deref().map_or(0, str::len);
        }
    }
    println!("{deltas} {bytes}");
}
