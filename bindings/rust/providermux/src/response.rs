// SPDX-License-Identifier: Apache-2.0
//! Typed responses: [`ChatCompletion`] (what `Router::complete` returns and a stream's `done`
//! event carries) with the router's extras (`provider`, `attempts`, `latency_ms`,
//! `usage.cost_usd`), and [`Attempt`]. docs/VOCABULARY.md, "Response", is the reference.
//!
//! Every struct keeps the members it does not name in `extra`, so a newer library's additions
//! are not lost; a member this crate names but the answer lacks takes its default.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::request::{Role, ToolCall};
use crate::sys;

/// An OpenAI `chat.completion` plus the router's members.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    #[serde(default)]
    pub id: String,
    /// "chat.completion".
    #[serde(default)]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// The model that answered (as the provider named it).
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// The provider that answered (its name in the router config).
    #[serde(default)]
    pub provider: String,
    /// Every attempt made, in order (at most 100: see `attempts_omitted`).
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// How many attempts were left out of `attempts` (0 when none).
    #[serde(default)]
    pub attempts_omitted: u64,
    /// The whole call, in milliseconds (fractional).
    #[serde(default)]
    pub latency_ms: f64,
    /// Streams: milliseconds to the first delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// Served from the router's response cache.
    #[serde(default)]
    pub cached: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletion {
    /// Decodes a response document (the JSON `complete_json` returns).
    pub fn from_json(text: &str) -> Result<ChatCompletion, Error> {
        from_json_text(text, "a chat.completion")
    }

    /// `choices[0].message.content`, when there is one.
    pub fn text(&self) -> Option<&str> {
        self.choices.first()?.message.content.as_deref()
    }

    /// `choices[0].message.tool_calls` (empty when none).
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.choices.first().map_or(&[], |c| &c.message.tool_calls)
    }
}

/// Decodes a document the library wrote into `T`; `what` names the expected document in the
/// error (`ErrorKind::Internal`: the library's output is the contract this crate reads).
pub(crate) fn from_json_text<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::new(
            sys::PMX_ERR_INTERNAL,
            format!("response: not {what} this crate can read: {e}"),
        )
    })
}

/// One choice of an answer (the router merges one: `n` is 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: u32,
    pub message: ResponseMessage,
    /// "stop", "length", "tool_calls", "content_filter", … (absent: `None`).
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The assistant's message of a choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    pub role: Role,
    /// The text; `None` when the answer only calls tools.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The model's refusal message, when the provider reports one (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts and cost of an answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// The router's pricing table's cost in USD (absent when the model has no price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// What the provider itself reported (reported only, never computed with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_cost_usd: Option<f64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.prompt_tokens_details`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One attempt of a request: which provider and model, and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    /// "ok", "error" or "skipped" (passed over without sending: circuit open, rate limit).
    #[serde(default)]
    pub outcome: String,
    /// Errors and skips: the `pmx_status` and its name, e.g. -13, "PMX_ERR_CONNECTION".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// The provider's HTTP status (0 or absent when none).
    #[serde(default)]
    pub http_status: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub latency_ms: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Attempt {
    /// True for the attempt that answered.
    pub fn is_ok(&self) -> bool {
        self.outcome == "ok"
    }
}
