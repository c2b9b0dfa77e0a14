// SPDX-License-Identifier: Apache-2.0
//! Typed embeddings and model listing: [`EmbeddingRequest`] / [`EmbeddingResponse`]
//! (`Router::embeddings`) and [`ModelList`] (`Router::list_models`), in OpenAI's shape plus the
//! router's members (docs/VOCABULARY.md). Unnamed members are kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::request::RequestBody;
use crate::response::{Attempt, CompletionUsage};

/// What to embed: one text or several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for EmbeddingInput {
    fn from(text: &str) -> EmbeddingInput {
        EmbeddingInput::One(text.to_string())
    }
}

impl From<String> for EmbeddingInput {
    fn from(text: String) -> EmbeddingInput {
        EmbeddingInput::One(text)
    }
}

impl From<Vec<String>> for EmbeddingInput {
    fn from(texts: Vec<String>) -> EmbeddingInput {
        EmbeddingInput::Many(texts)
    }
}

impl From<Vec<&str>> for EmbeddingInput {
    fn from(texts: Vec<&str>) -> EmbeddingInput {
        EmbeddingInput::Many(texts.into_iter().map(str::to_string).collect())
    }
}

/// An embeddings request: `{"model": ..., "input": ..., "dimensions": ...}` plus any other
/// member (`route`, …) through [`EmbeddingRequest::param`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub input: EmbeddingInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbeddingRequest {
    pub fn new(model: impl Into<String>, input: impl Into<EmbeddingInput>) -> EmbeddingRequest {
        EmbeddingRequest {
            model: Some(model.into()),
            input: input.into(),
            dimensions: None,
            extra: Map::new(),
        }
    }

    pub fn dimensions(mut self, n: u32) -> EmbeddingRequest {
        self.dimensions = Some(n);
        self
    }

    /// Any other member, e.g. `param("route", json!({"max_attempts": 2}))`.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> EmbeddingRequest {
        self.extra.insert(key.into(), value.into());
        self
    }
}

impl RequestBody for EmbeddingRequest {
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
        crate::request::to_json_text(self, "embedding request").map(std::borrow::Cow::Owned)
    }
}

/// One vector of an [`EmbeddingResponse`]; `index` is the input's position.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    #[serde(default)]
    pub index: usize,
    #[serde(default)]
    pub embedding: Vec<f64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to an embeddings request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    #[serde(default)]
    pub data: Vec<Embedding>,
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub latency_ms: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One model a provider serves (`id` is "provider/model", usable as a request's `model`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    #[serde(default)]
    pub owned_by: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    /// "chat", "embeddings", …
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Every provider's models; `errors` lists the providers that could not be asked (as JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    #[serde(default)]
    pub data: Vec<Model>,
    #[serde(default)]
    pub errors: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
