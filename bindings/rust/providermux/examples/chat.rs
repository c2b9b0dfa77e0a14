// SPDX-License-Identifier: Apache-2.0
//! Streams an answer and prints the deltas as they arrive.
//!
//!     cargo run --example chat -- ../../examples/router.json [-m MODEL] [PROMPT...]
//!
//! Without PROMPT words the prompt is read from stdin. `-m mock/any` pins the mock provider.

use std::io::{Read, Write};
use std::process::ExitCode;

use providermux::{ChatRequest, EventKind, Message, Router};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config_path = None;
    let mut model = None;
    let mut words = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-m" | "--model" => model = args.next(),
            "-h" | "--help" => {
                eprintln!("usage: chat CONFIG.json [-m MODEL] [PROMPT...]");
                return ExitCode::SUCCESS;
            }
            _ if config_path.is_none() => config_path = Some(arg),
            _ => words.push(arg),
        }
    }
    let Some(config_path) = config_path else {
        eprintln!("usage: chat CONFIG.json [-m MODEL] [PROMPT...]");
        return ExitCode::from(2);
    };
    let config = match std::fs::read_to_string(&config_path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("chat: cannot read {config_path}: {e}");
            return ExitCode::from(2);
        }
    };
    let prompt = if words.is_empty() {
        let mut text = String::new();
        let _ = std::io::stdin().read_to_string(&mut text);
        text.trim().to_string()
    } else {
        words.join(" ")
    };

    let router = match Router::new(&config) {
        Ok(router) => router,
        Err(e) => {
            eprintln!("chat: {config_path}: {e}");
            return ExitCode::from(2);
        }
    };
    // No model: the router's default.
    let request = ChatRequest {
        model,
        ..ChatRequest::default()
    }
    .message(Message::user(prompt));

    let stream = match router.stream(&request) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("chat: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    for event in stream {
        match event.kind {
            EventKind::Delta => {
                let mut out = stdout.lock();
                let _ = out.write_all(event.content.as_deref().unwrap_or("").as_bytes());
                let _ = out.flush();
            }
            EventKind::Fallback => {
                eprintln!(
                    "[fallback {} -> {}]",
                    event.provider.as_deref().unwrap_or_default(),
                    event.next_provider.as_deref().unwrap_or_default()
                );
            }
            EventKind::Done => {
                println!();
                // The whole answer, typed: provider, usage and cost.
                match event.completion() {
                    Some(Ok(resp)) => {
                        let usage = resp.usage.unwrap_or_default();
                        eprintln!(
                            "[provider {}, {} tokens, ${:.6}]",
                            resp.provider,
                            usage.total_tokens,
                            usage.cost_usd.unwrap_or(0.0)
                        );
                    }
                    _ => eprintln!(
                        "[provider {}]",
                        event.provider.as_deref().unwrap_or_default()
                    ),
                }
            }
            EventKind::Error => {
                println!();
                eprintln!("chat: {}", event.error().expect("error event"));
                return ExitCode::FAILURE;
            }
            _ => {}
        }
    }
    ExitCode::SUCCESS
}
