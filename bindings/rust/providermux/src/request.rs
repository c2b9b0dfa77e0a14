// SPDX-License-Identifier: Apache-2.0
//! Typed chat requests: [`ChatRequest`] and its [`Message`]s, content parts and tools, in
//! OpenAI's JSON shape (docs/VOCABULARY.md, "Request"), serialized with serde.
//!
//! Fields this crate does not name (router extras such as `route`, `lane`, `metadata`, or
//! vendor options) go through [`ChatRequest::param`] into `extra`, which is written inline.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::sys;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

/// One part of a multi-part message (`{"type": "text", ...}`, `{"type": "image_url", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// An image by URL (`https://…` or a `data:image/png;base64,…` URL).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    /// "low", "high" or "auto".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A message's `content`: a string or a list of parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl From<&str> for Content {
    fn from(text: &str) -> Content {
        Content::Text(text.to_string())
    }
}

impl From<String> for Content {
    fn from(text: String) -> Content {
        Content::Text(text)
    }
}

impl From<Vec<ContentPart>> for Content {
    fn from(parts: Vec<ContentPart>) -> Content {
        Content::Parts(parts)
    }
}

/// One message of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// Absent for an assistant message that only calls tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An assistant message's tool calls (sent back with the tools' answers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A `tool` message: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with `role` and `content` (text or parts).
    pub fn new(role: Role, content: impl Into<Content>) -> Message {
        Message {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<Content>) -> Message {
        Message::new(Role::System, content)
    }

    pub fn user(content: impl Into<Content>) -> Message {
        Message::new(Role::User, content)
    }

    pub fn assistant(content: impl Into<Content>) -> Message {
        Message::new(Role::Assistant, content)
    }

    /// The assistant turn that asked for `calls` (content absent), to send back before the
    /// [`Message::tool`] answers.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Message {
        Message {
            role: Role::Assistant,
            content: None,
            name: None,
            tool_calls: calls,
            tool_call_id: None,
        }
    }

    /// A tool's answer to the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<Content>) -> Message {
        Message {
            tool_call_id: Some(tool_call_id.into()),
            ..Message::new(Role::Tool, content)
        }
    }
}

/// A function the model may call (`{"type":"function","function":{...}}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// "function".
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionDef,
}

/// A tool's function: its name, what it does and its parameters' JSON Schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

impl Tool {
    /// A function tool; `parameters` is a JSON Schema object (e.g. `serde_json::json!({...})`).
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Tool {
        Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
            },
        }
    }
}

/// A tool call of an answer (`choices[].message.tool_calls[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    /// "function".
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_kind() -> String {
    "function".into()
}

/// The function a tool call names and its arguments as the model wrote them (JSON text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

impl FunctionCall {
    /// The arguments decoded into `T` (a model can write invalid JSON: the error says so,
    /// as `ErrorKind::InvalidJson`).
    pub fn parse_arguments<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.arguments).map_err(|e| {
            Error::new(
                sys::PMX_ERR_INVALID_JSON,
                format!(
                    "tool call {}: arguments are not the expected JSON: {e}",
                    self.name
                ),
            )
        })
    }
}

/// A chat completion request, built typed:
///
/// ```
/// use providermux::{ChatRequest, Message, Tool};
/// let request = ChatRequest::new("gpt-4o-mini")
///     .message(Message::system("Be brief."))
///     .message(Message::user("Weather in Paris?"))
///     .tool(Tool::function("get_weather", "Current weather", serde_json::json!({
///         "type": "object", "properties": {"city": {"type": "string"}}})))
///     .max_tokens(100)
///     .param("route", serde_json::json!({"max_attempts": 2}));
/// assert!(request.to_json().unwrap().contains(r#""tools":[{"type":"function""#));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model ("provider/model" pins a provider); absent: the router's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// "auto", "none", "required" or `{"type":"function","function":{"name":...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// `{"type": "json_object"}` or `{"type": "json_schema", "json_schema": {...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Passed through to providers that sample deterministically with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Every other member (router extras: `route`, `lane`, `metadata`, …; vendor options),
    /// written inline.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request for `model` with no messages yet.
    pub fn new(model: impl Into<String>) -> ChatRequest {
        ChatRequest {
            model: Some(model.into()),
            ..ChatRequest::default()
        }
    }

    pub fn message(mut self, message: Message) -> ChatRequest {
        self.messages.push(message);
        self
    }

    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> ChatRequest {
        self.messages.extend(messages);
        self
    }

    pub fn tool(mut self, tool: Tool) -> ChatRequest {
        self.tools.push(tool);
        self
    }

    pub fn tool_choice(mut self, choice: impl Into<Value>) -> ChatRequest {
        self.tool_choice = Some(choice.into());
        self
    }

    pub fn temperature(mut self, t: f64) -> ChatRequest {
        self.temperature = Some(t);
        self
    }

    pub fn top_p(mut self, p: f64) -> ChatRequest {
        self.top_p = Some(p);
        self
    }

    pub fn max_tokens(mut self, n: u64) -> ChatRequest {
        self.max_tokens = Some(n);
        self
    }

    pub fn response_format(mut self, format: Value) -> ChatRequest {
        self.response_format = Some(format);
        self
    }

    pub fn seed(mut self, seed: i64) -> ChatRequest {
        self.seed = Some(seed);
        self
    }

    pub fn stop(mut self, s: impl Into<String>) -> ChatRequest {
        self.stop.push(s.into());
        self
    }

    /// Any other member, e.g. `param("lane", "cheap")` or `param("metadata", json!({...}))`.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<Value>) -> ChatRequest {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The request's JSON text.
    pub fn to_json(&self) -> Result<String, Error> {
        to_json_text(self, "request")
    }
}

/// A typed request's JSON text; `what` names it in the error.
pub(crate) fn to_json_text<T: Serialize>(value: &T, what: &str) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::new(
            sys::PMX_ERR_INVALID_ARGUMENT,
            format!("{what}: cannot serialize: {e}"),
        )
    })
}

/// What the router's request methods accept: a typed [`ChatRequest`], a `serde_json::Value`,
/// or the JSON text itself (`&str`, `String`: the raw escape hatch, passed through as is).
pub trait RequestBody {
    /// The request's JSON text.
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error>;
}

impl RequestBody for ChatRequest {
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
        self.to_json().map(std::borrow::Cow::Owned)
    }
}

impl RequestBody for Value {
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
        Ok(std::borrow::Cow::Owned(self.to_string()))
    }
}

impl RequestBody for str {
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
        Ok(std::borrow::Cow::Borrowed(self))
    }
}

impl RequestBody for String {
    fn request_json(&self) -> Result<std::borrow::Cow<'_, str>, Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_in_openai_shape() {
        let request = ChatRequest::new("gpt-4o-mini")
            .message(Message::user(vec![
                ContentPart::Text {
                    text: "what is this?".into(),
                },
                ContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url: "https://x/y.png".into(),
                        detail: Some("low".into()),
                    },
                },
            ]))
            .message(Message::tool("call_1", "42"))
            .tool(Tool::function("f", "does f", json!({"type": "object"})))
            .tool_choice("auto")
            .max_tokens(5)
            .response_format(json!({"type": "json_object"}))
            .seed(7)
            .param("route", json!({"max_attempts": 2}));
        let value: Value = serde_json::from_str(&request.to_json().unwrap()).unwrap();
        assert_eq!(
            value,
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "user", "content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]},
                    {"role": "tool", "content": "42", "tool_call_id": "call_1"}],
                "tools": [{"type": "function",
                           "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}}}],
                "tool_choice": "auto",
                "max_tokens": 5,
                "response_format": {"type": "json_object"},
                "seed": 7,
                "route": {"max_attempts": 2}
            })
        );
        // And back: the same request.
        assert_eq!(
            serde_json::from_value::<ChatRequest>(value).unwrap(),
            request
        );
    }

    #[test]
    fn bad_tool_arguments_are_an_invalid_json_error() {
        let call = FunctionCall {
            name: "f".into(),
            arguments: "{not json".into(),
        };
        let err = call.parse_arguments::<Value>().unwrap_err();
        assert_eq!(err.code, sys::PMX_ERR_INVALID_JSON);
        assert!(err.message.contains("tool call f"), "{err}");
    }
}
