// SPDX-License-Identifier: Apache-2.0
//! Test helpers: requests and the project's fake upstream as a child process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use providermux::json;

pub fn request(text: &str) -> String {
    format!(
        r#"{{"messages":[{{"role":"user","content":{}}}]}}"#,
        json::quote(text)
    )
}

pub fn request_with(text: &str, extra: &str) -> String {
    format!(
        r#"{{"messages":[{{"role":"user","content":{}}}],{extra}}}"#,
        json::quote(text)
    )
}

/// The assistant message content of a chat.completion response.
pub fn response_content(response: &str) -> String {
    let key = "\"content\":";
    let choices = json::field(response, "choices").expect("choices");
    let at = choices.find(key).expect("content") + key.len();
    let rest = &choices[at..];
    // The content string runs to the first unescaped quote after the opening one.
    let bytes = rest.as_bytes();
    let mut i = 1;
    while bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    json::decode_string(&rest[..=i]).expect("content string")
}

pub fn repo_root() -> PathBuf {
    // bindings/rust/providermux -> the repository root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("..")
}

/// `python3 Tests/upstream/fake_upstream.py --port 0 --exit-on-stdin-eof`, killed on drop.
/// Its stdin stays open (held here) for its whole lifetime.
pub struct FakeUpstream {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
}

impl FakeUpstream {
    pub fn start() -> FakeUpstream {
        let script = repo_root().join("Tests/upstream/fake_upstream.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", script.display()));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {} // drain until the child exits
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("fake upstream did not print PORT within 20 s");
            }
        };
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from fake upstream: {line:?}"));
        FakeUpstream {
            child,
            _stdin: stdin,
            port,
        }
    }

    pub fn base(&self, scope: &str) -> String {
        format!("http://127.0.0.1:{}/{scope}/v1", self.port)
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
