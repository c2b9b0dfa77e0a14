// SPDX-License-Identifier: Apache-2.0
//! The per-request observer (`pmx_router_set_observer`): [`Router::set_observer`] gets one
//! [`RequestRecord`] per request when it ends.

use std::ffi::c_void;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::response::{Attempt, CompletionUsage};
use crate::{check, sys, Router};

/// One request's record (include/providermux.h lists its keys); `raw` is the JSON object as
/// the library wrote it (API keys masked), for the members not typed here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    #[serde(default)]
    pub request_id: String,
    /// "chat.completions.create", "embeddings.create", or the operation of `Router::call`.
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub latency_ms: f64,
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    #[serde(default)]
    pub usage: Option<CompletionUsage>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub cache_hit: bool,
    /// "ok" or "error".
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub code: i32,
    #[serde(default)]
    pub status_name: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(skip)]
    pub raw: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RequestRecord {
    /// Whether the request succeeded.
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

type ObserverFn = dyn Fn(&RequestRecord) + Send + Sync;

/// The C userdata of a router's observer: one per router, freed after the router (so the
/// library never holds a dangling pointer). The closure is an `Arc` taken out under the lock
/// for each call, so replacing it (even from inside the observer) never frees a running one.
#[derive(Default)]
pub(crate) struct ObserverSlot(Mutex<Option<Arc<ObserverFn>>>);

unsafe extern "C" fn observer_trampoline(record: *const c_char, len: usize, userdata: *mut c_void) {
    // A panic must not unwind into C: it is swallowed, as for the log callback.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: userdata is the router's ObserverSlot, alive until after pmx_router_free.
        let slot = &*(userdata as *const ObserverSlot);
        let f = slot.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(f) = f else { return };
        let bytes = if record.is_null() {
            &[][..]
        } else {
            // SAFETY: the library lends `len` bytes for this call.
            std::slice::from_raw_parts(record as *const u8, len)
        };
        let raw = String::from_utf8_lossy(bytes).into_owned();
        if let Ok(mut rec) = serde_json::from_str::<RequestRecord>(&raw) {
            rec.raw = raw;
            f(&rec);
        }
    }));
}

impl Router {
    /// Sets the router's per-request observer: `f` gets one [`RequestRecord`] per request when
    /// it ends (success, failure, cancellation, cache hit), before the call that ran it returns,
    /// on the router's I/O thread, one call at a time — keep it quick; blocking router calls
    /// made from it fail with `ErrorKind::WouldDeadlock`. A panic in `f` is swallowed. Replaces
    /// any previous observer, which is not called again once this returns. Requests started
    /// before an observer was set are not recorded.
    pub fn set_observer<F>(&self, f: F) -> Result<(), Error>
    where
        F: Fn(&RequestRecord) + Send + Sync + 'static,
    {
        self.install_observer(Some(Arc::new(f)))
    }

    /// Removes the observer (no record is delivered once this returns).
    pub fn clear_observer(&self) -> Result<(), Error> {
        self.install_observer(None)
    }

    fn install_observer(&self, f: Option<Arc<ObserverFn>>) -> Result<(), Error> {
        let slot = self.observer_slot();
        let on = f.is_some();
        *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = f;
        let mut err = sys::pmx_error::default();
        let callback: sys::pmx_observer_fn = if on { Some(observer_trampoline) } else { None };
        // SAFETY: the slot outlives the router (RouterHandle frees the router first).
        let rc = unsafe {
            sys::pmx_router_set_observer(self.as_raw(), callback, slot as *const ObserverSlot as *mut c_void, &mut err)
        };
        check(rc, &err)
    }
}
