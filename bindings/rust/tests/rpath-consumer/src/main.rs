// SPDX-License-Identifier: Apache-2.0
//! One typed completion through the mock provider; prints the answer.
use providermux::{ChatRequest, Message, Router};

fn main() {
    let router = Router::new(r#"{"providers":[{"name":"m","type":"mock"}]}"#).expect("router");
    let request = ChatRequest::new("mock/any").message(Message::user("from an application"));
    let response = router.complete(&request).expect("complete");
    println!(
        "{}",
        response.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );
}
