//! Stream events: [`Event`] and [`EventKind`] (docs/VOCABULARY.md, "Stream events").

use crate::error::Error;
use crate::json;

/// The `type` of a stream event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `start`: `provider`, `model`, `attempt` (1-based over the whole request).
    Start,
    /// `delta`: `content` (text) and/or `tool_calls`.
    Delta,
    /// `retry`: `provider`, `attempt`, `delay_ms`, `code`, `status_name`, `http_status`, `message`.
    Retry,
    /// `fallback`: `from`, `to`, `code`, `status_name`, `message`.
    Fallback,
    /// `usage`: `usage` object.
    Usage,
    /// `done` (terminal): `response`, the full response object.
    Done,
    /// `error` (terminal): `code`, `status_name`, `http_status`, `provider`, `message`, `attempts`.
    Error,
    /// Any other `type` (a newer library); holds the type string ("" when missing).
    Other(String),
}

impl EventKind {
    /// The kind for a `type` string.
    pub fn from_type(t: &str) -> EventKind {
        match t {
            "start" => EventKind::Start,
            "delta" => EventKind::Delta,
            "retry" => EventKind::Retry,
            "fallback" => EventKind::Fallback,
            "usage" => EventKind::Usage,
            "done" => EventKind::Done,
            "error" => EventKind::Error,
            other => EventKind::Other(other.to_string()),
        }
    }

    /// The `type` string.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Start => "start",
            EventKind::Delta => "delta",
            EventKind::Retry => "retry",
            EventKind::Fallback => "fallback",
            EventKind::Usage => "usage",
            EventKind::Done => "done",
            EventKind::Error => "error",
            EventKind::Other(t) => t,
        }
    }

    /// `done` or `error`: exactly one of them ends every stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, EventKind::Done | EventKind::Error)
    }
}

/// One stream event.
///
/// `json` is the raw event object exactly as the library produced it: parse it with your own
/// JSON library for anything beyond the convenience accessors. `kind` and `content` are read
/// with the crate's small scanner ([`crate::json`]), the only parsing this crate does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event's `type`.
    pub kind: EventKind,
    /// The raw event JSON.
    pub json: String,
    /// The `content` text of a `delta` event (None for other events or tool-call-only deltas).
    pub content: Option<String>,
}

impl Event {
    /// Builds an event from its JSON text.
    pub fn from_json(json: String) -> Event {
        let kind = EventKind::from_type(&json::string_field(&json, "type").unwrap_or_default());
        let content = if kind == EventKind::Delta {
            json::string_field(&json, "content")
        } else {
            None
        };
        Event {
            kind,
            json,
            content,
        }
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Event {
        Event::from_json(String::from_utf8_lossy(bytes).into_owned())
    }

    /// `done` or `error`.
    pub fn is_terminal(&self) -> bool {
        self.kind.is_terminal()
    }

    /// The raw JSON of a top-level member of the event (e.g. `"usage"`, `"tool_calls"`).
    pub fn field(&self, key: &str) -> Option<&str> {
        json::field(&self.json, key)
    }

    /// A top-level string member, decoded (e.g. `"provider"` of `start`).
    pub fn str_field(&self, key: &str) -> Option<String> {
        json::string_field(&self.json, key)
    }

    /// A top-level integer member (e.g. `"attempt"` of `start`).
    pub fn int_field(&self, key: &str) -> Option<i64> {
        json::int_field(&self.json, key)
    }

    /// For a `done` event: the raw JSON of the full response.
    pub fn response(&self) -> Option<&str> {
        if self.kind == EventKind::Done {
            self.field("response")
        } else {
            None
        }
    }

    /// For an `error` event: the error it carries.
    pub fn error(&self) -> Option<Error> {
        if self.kind == EventKind::Error {
            Some(Error::from_event_json(&self.json))
        } else {
            None
        }
    }
}
