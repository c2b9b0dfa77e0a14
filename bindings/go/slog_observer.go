// SPDX-License-Identifier: Apache-2.0

//go:build go1.21

package providermux

import (
	"context"
	"log/slog"
)

// SlogObserver returns an observer for Router.SetObserver that logs one line per request to
// logger (slog.Default() when nil): "providermux request" at Info for a success and at Warn for
// a failure, with the record's fields as attributes (request_id, operation, provider, model,
// status, latency_ms, attempts, lane, ttft_ms, prompt_tokens, completion_tokens, total_tokens,
// cost_usd, cache_hit; status_name, code and error on failure). Needs Go 1.21 (log/slog):
// with an older Go this file is not compiled, and SetObserver takes any func(RequestRecord).
func SlogObserver(logger *slog.Logger) func(RequestRecord) {
	return func(r RequestRecord) {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		level := slog.LevelInfo
		if !r.OK() {
			level = slog.LevelWarn
		}
		ctx := context.Background()
		if !l.Enabled(ctx, level) {
			return
		}
		kv := recordAttrs(r)
		attrs := make([]slog.Attr, 0, len(kv))
		for _, a := range kv {
			attrs = append(attrs, slog.Any(a.Key, a.Value))
		}
		l.LogAttrs(ctx, level, "providermux request", attrs...)
	}
}
