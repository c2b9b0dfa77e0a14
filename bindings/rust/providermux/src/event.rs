// SPDX-License-Identifier: Apache-2.0
//! Stream events: [`Event`], [`EventKind`], [`ToolCallDelta`] and [`Usage`]
//! (docs/VOCABULARY.md, "Stream events").

use crate::error::Error;
use crate::json;
use crate::sys;

/// The `type` of a stream event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `start`: `provider`, `model`, `attempt` (1-based over the whole request).
    Start,
    /// `delta`: `content` (text), `reasoning` and/or `tool_calls`.
    Delta,
    /// `retry`: `provider`, `attempt`, `delay_ms`, `status`, `http_status`, `message`.
    Retry,
    /// `fallback`: `provider` (the one left), `next_provider`, `status`, `message`.
    Fallback,
    /// `usage`: `usage`.
    Usage,
    /// `done` (terminal): the full response ([`Event::response`]), `answer`, `finish_reason`,
    /// `usage`.
    Done,
    /// `error` (terminal): [`Event::error`].
    Error,
    /// Any other `type` (a newer library, or a progress event of model management); holds the
    /// type string ("" when unknown).
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

    /// The kind for a `pmx_event.type` (PMX_EVENT_*).
    pub fn from_code(code: i32) -> EventKind {
        match code {
            sys::PMX_EVENT_START => EventKind::Start,
            sys::PMX_EVENT_DELTA => EventKind::Delta,
            sys::PMX_EVENT_RETRY => EventKind::Retry,
            sys::PMX_EVENT_FALLBACK => EventKind::Fallback,
            sys::PMX_EVENT_USAGE => EventKind::Usage,
            sys::PMX_EVENT_DONE => EventKind::Done,
            sys::PMX_EVENT_ERROR => EventKind::Error,
            _ => EventKind::Other(String::new()),
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

/// One piece of a streamed tool call (OpenAI's shape: a call's arguments arrive in pieces,
/// joined by `index`). Absent members are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ToolCallDelta {
    /// Which call of the answer this piece belongs to.
    pub index: Option<i64>,
    /// The call's id (usually only on its first piece).
    pub id: Option<String>,
    /// The call's `type` ("function").
    pub kind: Option<String>,
    /// The function's name (usually only on the first piece).
    pub name: Option<String>,
    /// The next piece of the arguments' JSON text.
    pub arguments: Option<String>,
}

/// The usage numbers of a `usage`, `done` (or `error`) event; `None` when absent.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub total_tokens: Option<i64>,
    /// `prompt_tokens_details.cached_tokens`.
    pub cached_tokens: Option<i64>,
    /// The router's pricing.
    pub cost_usd: Option<f64>,
    /// What the provider reported.
    pub upstream_cost_usd: Option<f64>,
    pub tokens_per_second: Option<f64>,
}

/// One stream event, with typed fields.
///
/// Events of [`Router::stream`](crate::Router::stream) and
/// [`Router::stream_with`](crate::Router::stream_with) are filled from the library's typed
/// view (`pmx_event`): no JSON is parsed per event. Which fields a kind fills is listed at
/// `pmx_event` in providermux.h; the others are `None`, empty or 0. `json` is the event's JSON
/// object, present for `done` and `error`, and for every event of a stream started with
/// [`Router::stream_with_json`](crate::Router::stream_with_json) (and for model-management
/// progress events, which come as JSON only).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The event's `type`.
    pub kind: EventKind,
    /// The event's JSON object, when the library gave it (see above).
    pub json: Option<String>,
    /// The `content` text of a `delta` event (None for other events or tool-call-only deltas).
    pub content: Option<String>,
    /// `delta`: the reasoning piece.
    pub reasoning: Option<String>,
    /// `delta`: the tool call pieces (empty when none).
    pub tool_calls: Vec<ToolCallDelta>,
    /// `start`, `retry`, `done`, `error`: the provider; `fallback`: the provider left.
    pub provider: Option<String>,
    /// `fallback`: the provider tried next.
    pub next_provider: Option<String>,
    /// `start`, `done`: the model.
    pub model: Option<String>,
    /// `start`: the attempt's number (1-based); `retry`: the failed attempt's; `done`,
    /// `error`: the number of attempts made. 0 otherwise.
    pub attempt: i32,
    /// `retry`: milliseconds before the next attempt.
    pub delay_ms: i64,
    /// `retry`, `fallback`: the failure's status; `error`: the terminal status. 0 otherwise.
    pub status: i32,
    /// `retry`, `fallback`, `error`: the provider's HTTP status, 0 when none.
    pub http_status: i32,
    /// `retry`, `fallback`, `error`: the failure's message.
    pub message: Option<String>,
    /// `done`: the answer (`choices[0].message.content`).
    pub answer: Option<String>,
    /// `done`: `choices[0].finish_reason`.
    pub finish_reason: Option<String>,
    /// `usage`, `done` (and `error` when it carries a partial usage).
    pub usage: Option<Usage>,
}

/// A borrowed `pmx_str` copied into a String (`None` when absent; invalid UTF-8 replaced).
///
/// # Safety
/// `s` must be a view the library handed out and that is still valid.
unsafe fn owned(s: &sys::pmx_str) -> Option<String> {
    if s.ptr.is_null() {
        return None;
    }
    let bytes = std::slice::from_raw_parts(s.ptr as *const u8, s.len);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn count(v: i64) -> Option<i64> {
    (v >= 0).then_some(v)
}

fn amount(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl Event {
    fn empty(kind: EventKind) -> Event {
        Event {
            kind,
            json: None,
            content: None,
            reasoning: None,
            tool_calls: Vec::new(),
            provider: None,
            next_provider: None,
            model: None,
            attempt: 0,
            delay_ms: 0,
            status: 0,
            http_status: 0,
            message: None,
            answer: None,
            finish_reason: None,
            usage: None,
        }
    }

    /// Copies a typed event view (`pmx_stream_next`'s output) into an owned Event.
    ///
    /// # Safety
    /// `e` must come from `pmx_stream_next` and its views must still be valid (no later
    /// `pmx_stream_next` / `pmx_stream_free` on its stream).
    pub unsafe fn from_view(e: &sys::pmx_event) -> Event {
        let kind = EventKind::from_code(e.type_);
        let mut ev = Event::empty(kind);
        ev.json = owned(&e.json);
        ev.attempt = e.attempt;
        match ev.kind {
            EventKind::Start => {
                ev.provider = owned(&e.provider);
                ev.model = owned(&e.model);
            }
            EventKind::Delta => {
                ev.content = owned(&e.text);
                ev.reasoning = owned(&e.reasoning);
                if !e.tool_calls.is_null() && e.tool_call_count > 0 {
                    let views = std::slice::from_raw_parts(e.tool_calls, e.tool_call_count);
                    ev.tool_calls = views
                        .iter()
                        .map(|v| ToolCallDelta {
                            index: count(v.index),
                            id: owned(&v.id),
                            kind: owned(&v.type_),
                            name: owned(&v.name),
                            arguments: owned(&v.arguments),
                        })
                        .collect();
                }
            }
            EventKind::Retry | EventKind::Fallback => {
                ev.provider = owned(&e.provider);
                ev.next_provider = owned(&e.next_provider);
                ev.delay_ms = e.delay_ms;
                ev.status = e.status;
                ev.http_status = e.http_status;
                ev.message = owned(&e.text);
            }
            EventKind::Usage => ev.usage = Some(Event::usage_of(e)),
            EventKind::Done => {
                ev.provider = owned(&e.provider);
                ev.model = owned(&e.model);
                ev.answer = owned(&e.text);
                ev.finish_reason = owned(&e.finish_reason);
                ev.usage = Some(Event::usage_of(e));
            }
            EventKind::Error => {
                ev.provider = owned(&e.provider);
                ev.status = e.status;
                ev.http_status = e.http_status;
                ev.message = owned(&e.text);
                let usage = Event::usage_of(e);
                if usage != Usage::default() {
                    ev.usage = Some(usage);
                }
            }
            EventKind::Other(_) => {}
        }
        ev
    }

    fn usage_of(e: &sys::pmx_event) -> Usage {
        Usage {
            prompt_tokens: count(e.prompt_tokens),
            completion_tokens: count(e.completion_tokens),
            total_tokens: count(e.total_tokens),
            cached_tokens: count(e.cached_tokens),
            cost_usd: amount(e.cost_usd),
            upstream_cost_usd: amount(e.upstream_cost_usd),
            tokens_per_second: amount(e.tokens_per_second),
        }
    }

    /// An `error` event made on the Rust side (a refused `pmx_stream_next` ends a stream so).
    pub(crate) fn from_error(error: &Error) -> Event {
        let mut ev = Event::empty(EventKind::Error);
        ev.status = error.code;
        ev.http_status = error.http_status;
        ev.attempt = error.attempts;
        ev.provider = Some(error.provider.clone()).filter(|p| !p.is_empty());
        ev.message = Some(error.message.clone());
        ev
    }

    /// Builds an event from its JSON text (events that come as JSON only: model-management
    /// progress). Reads `type` and a delta's `content` with the crate's scanner ([`json`]).
    pub fn from_json(text: String) -> Event {
        let kind = EventKind::from_type(&json::string_field(&text, "type").unwrap_or_default());
        let mut ev = Event::empty(kind);
        if ev.kind == EventKind::Delta {
            ev.content = json::string_field(&text, "content");
        }
        ev.json = Some(text);
        ev
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Event {
        Event::from_json(String::from_utf8_lossy(bytes).into_owned())
    }

    /// `done` or `error`.
    pub fn is_terminal(&self) -> bool {
        self.kind.is_terminal()
    }

    /// The raw JSON of a top-level member of the event's JSON (e.g. `"usage"`); `None` when
    /// absent or when the event carries no JSON (see [`Event`]).
    pub fn field(&self, key: &str) -> Option<&str> {
        json::field(self.json.as_deref()?, key)
    }

    /// A top-level string member of the event's JSON, decoded (e.g. `"status"` of a progress
    /// event); `None` without JSON.
    pub fn str_field(&self, key: &str) -> Option<String> {
        json::string_field(self.json.as_deref()?, key)
    }

    /// A top-level integer member of the event's JSON; `None` without JSON.
    pub fn int_field(&self, key: &str) -> Option<i64> {
        json::int_field(self.json.as_deref()?, key)
    }

    /// For a `done` event: the raw JSON of the full response (the one place a stream's JSON is
    /// scanned, once per stream).
    pub fn response(&self) -> Option<&str> {
        if self.kind == EventKind::Done {
            self.field("response")
        } else {
            None
        }
    }

    /// For a `done` event: the full response, typed (`None` for other events).
    pub fn completion(&self) -> Option<Result<crate::response::ChatCompletion, Error>> {
        self.response()
            .map(crate::response::ChatCompletion::from_json)
    }

    /// For an `error` event: the error it carries, from the typed fields (or from the JSON
    /// for an event built with [`Event::from_json`]).
    pub fn error(&self) -> Option<Error> {
        if self.kind != EventKind::Error {
            return None;
        }
        if self.status == 0 {
            if let Some(text) = &self.json {
                return Some(Error::from_event_json(text));
            }
        }
        let code = if self.status != 0 {
            self.status
        } else {
            sys::PMX_ERR_INTERNAL
        };
        Some(Error {
            code,
            status_name: crate::status_name(code),
            http_status: self.http_status,
            attempts: self.attempt,
            provider: self.provider.clone().unwrap_or_default(),
            message: self.message.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::null;

    fn s(text: &'static str) -> sys::pmx_str {
        sys::pmx_str {
            ptr: text.as_ptr() as *const std::os::raw::c_char,
            len: text.len(),
        }
    }

    const ABSENT: sys::pmx_str = sys::pmx_str {
        ptr: null(),
        len: 0,
    };

    fn view(type_: i32) -> sys::pmx_event {
        sys::pmx_event {
            type_,
            attempt: 0,
            status: 0,
            http_status: 0,
            delay_ms: 0,
            text: ABSENT,
            reasoning: ABSENT,
            provider: ABSENT,
            model: ABSENT,
            next_provider: ABSENT,
            finish_reason: ABSENT,
            tool_calls: null(),
            tool_call_count: 0,
            prompt_tokens: -1,
            completion_tokens: -1,
            total_tokens: -1,
            cached_tokens: -1,
            cost_usd: f64::NAN,
            upstream_cost_usd: f64::NAN,
            tokens_per_second: f64::NAN,
            json: ABSENT,
            choice_index: -1,
        }
    }

    #[test]
    fn delta_view_with_tool_calls() {
        let calls = [
            sys::pmx_tool_call_delta {
                index: 0,
                id: s("call_1"),
                type_: s("function"),
                name: s("get_weather"),
                arguments: s("{\"ci"),
            },
            sys::pmx_tool_call_delta {
                index: -1,
                id: ABSENT,
                type_: ABSENT,
                name: ABSENT,
                arguments: s(""),
            },
        ];
        let mut v = view(sys::PMX_EVENT_DELTA);
        v.tool_calls = calls.as_ptr();
        v.tool_call_count = 2;
        v.reasoning = s("hmm");
        // SAFETY: every view points at 'static data or `calls`, alive here.
        let e = unsafe { Event::from_view(&v) };
        assert_eq!(e.kind, EventKind::Delta);
        assert_eq!(e.content, None);
        assert_eq!(e.reasoning.as_deref(), Some("hmm"));
        assert_eq!(e.json, None);
        assert_eq!(e.usage, None);
        assert_eq!(e.tool_calls.len(), 2);
        assert_eq!(e.tool_calls[0].index, Some(0));
        assert_eq!(e.tool_calls[0].id.as_deref(), Some("call_1"));
        assert_eq!(e.tool_calls[0].kind.as_deref(), Some("function"));
        assert_eq!(e.tool_calls[0].name.as_deref(), Some("get_weather"));
        assert_eq!(e.tool_calls[0].arguments.as_deref(), Some("{\"ci"));
        assert_eq!(
            e.tool_calls[1],
            ToolCallDelta {
                arguments: Some(String::new()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn usage_error_and_unknown_views() {
        let mut v = view(sys::PMX_EVENT_USAGE);
        v.prompt_tokens = 7;
        v.completion_tokens = 5;
        v.total_tokens = 12;
        v.cached_tokens = 0;
        v.cost_usd = 0.25;
        // SAFETY: no views in use.
        let u = unsafe { Event::from_view(&v) }.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.total_tokens, u.cached_tokens),
            (Some(7), Some(12), Some(0))
        );
        assert_eq!(
            (u.cost_usd, u.upstream_cost_usd, u.tokens_per_second),
            (Some(0.25), None, None)
        );

        let mut v = view(sys::PMX_EVENT_ERROR);
        v.status = sys::PMX_ERR_RATE_LIMITED;
        v.http_status = 429;
        v.attempt = 2;
        v.provider = s("p");
        v.text = s("slow down");
        v.json = s(r#"{"type":"error"}"#);
        // SAFETY: 'static views.
        let e = unsafe { Event::from_view(&v) };
        assert!(e.is_terminal());
        assert_eq!(e.usage, None, "an error without usage numbers has no usage");
        let err = e.error().unwrap();
        assert_eq!(err.code, sys::PMX_ERR_RATE_LIMITED);
        assert_eq!((err.http_status, err.attempts), (429, 2));
        assert_eq!(err.provider, "p");
        assert_eq!(err.to_string(), "PMX_ERR_RATE_LIMITED: slow down");

        // SAFETY: no views.
        let e = unsafe { Event::from_view(&view(99)) };
        assert_eq!(e.kind, EventKind::Other(String::new()));
        assert!(!e.is_terminal());
    }
}
