// SPDX-License-Identifier: Apache-2.0
//! Typed forms of [`Router::call`] for the operations beyond chat: text completions
//! ([`Router::complete_text`]), images ([`Router::generate_image`]), moderations
//! ([`Router::moderate`]), rerank ([`Router::rerank`]) and token counts
//! ([`Router::count_tokens`]). Each request serializes to the operation's OpenAI JSON (any other
//! member through `param`, e.g. `route`); each result is the operation's OpenAI shape plus the
//! router's `provider` and `attempts`, with unnamed members kept in `extra`. Usage is chat's
//! [`CompletionUsage`]: images' `input_tokens` / `output_tokens` sit in its `extra`, and the
//! library adds `prompt_tokens` / `completion_tokens` beside them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::request::RequestBody;
use crate::response::{from_json_text, Attempt, CompletionUsage};
use crate::{operations, Router};

macro_rules! request_body {
    ($t:ty, $what:literal) => {
        impl RequestBody for $t {
            fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
                crate::request::to_json_text(self, $what).map(std::borrow::Cow::Owned)
            }
        }

        impl $t {
            /// Any other member, e.g. `param("route", json!({"max_attempts": 2}))`.
            pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
                self.extra.insert(key.into(), value.into());
                self
            }
        }
    };
}

// ---- completions.create -----------------------------------------------------------------------

/// A `completions.create` request: `prompt`, and `suffix` for fill-in-the-middle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextCompletionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextCompletionRequest {
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> TextCompletionRequest {
        TextCompletionRequest { model: Some(model.into()), prompt: prompt.into(), ..Default::default() }
    }

    pub fn suffix(mut self, suffix: impl Into<String>) -> TextCompletionRequest {
        self.suffix = Some(suffix.into());
        self
    }

    pub fn max_tokens(mut self, n: u32) -> TextCompletionRequest {
        self.max_tokens = Some(n);
        self
    }
}
request_body!(TextCompletionRequest, "completion request");

/// One choice of a [`TextCompletion`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// OpenAI's `text_completion`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextCompletion {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<TextChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextCompletion {
    /// The first choice's text.
    pub fn text(&self) -> Option<&str> {
        self.choices.first().map(|c| c.text.as_str())
    }
}

// ---- images.generate --------------------------------------------------------------------------

/// An `images.generate` request. `response_format` is "b64_json" or "url" (Gemini has b64_json
/// only: "url" fails over to another provider).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageRequest {
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> ImageRequest {
        ImageRequest { model: Some(model.into()), prompt: prompt.into(), ..Default::default() }
    }

    pub fn n(mut self, n: u32) -> ImageRequest {
        self.n = Some(n);
        self
    }

    pub fn size(mut self, size: impl Into<String>) -> ImageRequest {
        self.size = Some(size.into());
        self
    }

    pub fn response_format(mut self, format: impl Into<String>) -> ImageRequest {
        self.response_format = Some(format.into());
        self
    }
}
request_body!(ImageRequest, "image request");

/// One generated image: `b64_json` (base64 bytes) or `url`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// OpenAI's images result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagesResponse {
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub data: Vec<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---- moderations.create -----------------------------------------------------------------------

/// A `moderations.create` request: `input` is a string, strings (one result each) or content
/// parts (one result), as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub input: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModerationRequest {
    pub fn new(model: impl Into<String>, input: impl Into<Value>) -> ModerationRequest {
        ModerationRequest { model: Some(model.into()), input: input.into(), extra: Map::new() }
    }
}
request_body!(ModerationRequest, "moderation request");

/// One moderation result: OpenAI's categories and, from vendors with their own (Mistral),
/// those names too; `flagged` is whether any is true.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moderation {
    #[serde(default)]
    pub flagged: bool,
    #[serde(default)]
    pub categories: std::collections::BTreeMap<String, bool>,
    #[serde(default)]
    pub category_scores: std::collections::BTreeMap<String, f64>,
    #[serde(default)]
    pub category_applied_input_types: std::collections::BTreeMap<String, Vec<String>>,
}

/// OpenAI's moderation result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub results: Vec<Moderation>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---- rerank -----------------------------------------------------------------------------------

/// A `rerank` request: `query` against `documents`, the best `top_n` kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub query: String,
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_n: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RerankRequest {
    pub fn new<D: Into<String>>(model: impl Into<String>, query: impl Into<String>, documents: impl IntoIterator<Item = D>) -> RerankRequest {
        RerankRequest {
            model: Some(model.into()),
            query: query.into(),
            documents: documents.into_iter().map(Into::into).collect(),
            top_n: None,
            extra: Map::new(),
        }
    }

    pub fn top_n(mut self, n: u32) -> RerankRequest {
        self.top_n = Some(n);
        self
    }
}
request_body!(RerankRequest, "rerank request");

/// One ranked document: `index` into the request's documents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankResult {
    #[serde(default)]
    pub index: usize,
    #[serde(default)]
    pub relevance_score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
}

/// The results, best-first and cut to `top_n`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankResponse {
    #[serde(default)]
    pub results: Vec<RerankResult>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---- tokens.count -----------------------------------------------------------------------------

/// A `tokens.count` request: `messages` (with `tools`, as JSON) or `input`, a text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenCountRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TokenCountRequest {
    /// Counts a text.
    pub fn text(model: impl Into<String>, input: impl Into<String>) -> TokenCountRequest {
        TokenCountRequest { model: Some(model.into()), input: Some(input.into()), ..Default::default() }
    }

    /// Counts chat messages (an array of OpenAI messages).
    pub fn messages(model: impl Into<String>, messages: Value) -> TokenCountRequest {
        TokenCountRequest { model: Some(model.into()), messages: Some(messages), ..Default::default() }
    }
}
request_body!(TokenCountRequest, "token count request");

/// A token count; `estimated` is true for the router's own estimate (nothing was sent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenCount {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub estimated: bool,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Router {
    /// `completions.create` (text completion or FIM), typed.
    pub fn complete_text(&self, request: &TextCompletionRequest) -> Result<TextCompletion, Error> {
        from_json_text(&self.call(operations::COMPLETIONS, request)?, "a text_completion")
    }

    /// `images.generate`, typed.
    pub fn generate_image(&self, request: &ImageRequest) -> Result<ImagesResponse, Error> {
        from_json_text(&self.call(operations::IMAGES_GENERATE, request)?, "an images result")
    }

    /// `moderations.create`, typed.
    pub fn moderate(&self, request: &ModerationRequest) -> Result<ModerationResponse, Error> {
        from_json_text(&self.call(operations::MODERATIONS, request)?, "a moderation result")
    }

    /// `rerank`, typed.
    pub fn rerank(&self, request: &RerankRequest) -> Result<RerankResponse, Error> {
        from_json_text(&self.call(operations::RERANK, request)?, "a rerank result")
    }

    /// `tokens.count`, typed.
    pub fn count_tokens(&self, request: &TokenCountRequest) -> Result<TokenCount, Error> {
        from_json_text(&self.call(operations::TOKENS_COUNT, request)?, "a token count")
    }
}
