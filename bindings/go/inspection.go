// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
)

// ModelList is ListModels' result: every provider's models, and the providers that could not
// be asked (not fatal).
type ModelList struct {
	Object string           `json:"object"` // "list"
	Data   []Model          `json:"data"`
	Errors []ModelListError `json:"errors"`
	Raw    json.RawMessage  `json:"-"`
}

// Model is one model of a provider; ID is "provider/model".
type Model struct {
	ID            string          `json:"id"`
	Object        string          `json:"object"` // "model"
	OwnedBy       string          `json:"owned_by"`
	Provider      string          `json:"provider"`
	Model         string          `json:"model"`
	ContextLength int64           `json:"context_length,omitempty"`
	Capabilities  []string        `json:"capabilities,omitempty"`
	Details       json.RawMessage `json:"details,omitempty"`
}

// ModelListError is a provider whose model list failed.
type ModelListError struct {
	Provider   string `json:"provider"`
	Code       int32  `json:"code"`
	StatusName string `json:"status_name"`
	ErrorClass string `json:"error_class"`
	Message    string `json:"message"`
}

// HealthReport is CheckHealth's result: one entry per provider.
type HealthReport struct {
	Providers []ProviderHealth `json:"providers"`
	Raw       json.RawMessage  `json:"-"`
}

// ProviderHealth is one provider's probe result. RateLimit and Monitor (the periodic health
// check's last verdict, when enabled) stay JSON: their members follow the config.
type ProviderHealth struct {
	Name       string                  `json:"name"`
	Type       string                  `json:"type"`
	Healthy    bool                    `json:"healthy"`
	LatencyMs  float64                 `json:"latency_ms"`
	HTTPStatus int                     `json:"http_status"`
	Error      string                  `json:"error,omitempty"`
	ErrorClass string                  `json:"error_class,omitempty"`
	Circuits   map[string]CircuitState `json:"circuits"`
	RateLimit  json.RawMessage         `json:"rate_limit,omitempty"`
	Monitor    json.RawMessage         `json:"monitor,omitempty"`
	Discovered bool                    `json:"discovered,omitempty"`
}

// CircuitState is a model's circuit breaker on a provider.
type CircuitState struct {
	State               string `json:"state"` // "closed", "open", "half_open"
	ConsecutiveFailures int64  `json:"consecutive_failures"`
	WindowRequests      int64  `json:"window_requests"`
	WindowFailures      int64  `json:"window_failures"`
	OpenedCount         int64  `json:"opened_count"`
}

// Stats is StatsReport's result: counters since the router was created (or last reset).
// Cache, Budget and Lanes stay JSON (their members follow the config).
type Stats struct {
	Requests  int64                      `json:"requests"`
	Successes int64                      `json:"successes"`
	Failures  int64                      `json:"failures"`
	Retries   int64                      `json:"retries"`
	Fallbacks int64                      `json:"fallbacks"`
	CostUSD   float64                    `json:"cost_usd"`
	Cache     json.RawMessage            `json:"cache,omitempty"`
	Budget    json.RawMessage            `json:"budget,omitempty"`
	Lanes     map[string]json.RawMessage `json:"lanes,omitempty"`
	Providers []ProviderStats            `json:"providers"`
	Raw       json.RawMessage            `json:"-"`
}

// Counters are the counts a provider and each of its models keep. Requests counts attempts.
type Counters struct {
	Requests         int64            `json:"requests"`
	Successes        int64            `json:"successes"`
	Failures         int64            `json:"failures"`
	Retries          int64            `json:"retries"`
	Fallbacks        int64            `json:"fallbacks"`
	PromptTokens     int64            `json:"prompt_tokens"`
	CompletionTokens int64            `json:"completion_tokens"`
	InFlight         int64            `json:"in_flight"`
	CostUSD          float64          `json:"cost_usd"`
	FailuresByStatus map[string]int64 `json:"failures_by_status"`
	FailuresByClass  map[string]int64 `json:"failures_by_class"`
}

// ProviderStats is one provider's counters and its models'.
type ProviderStats struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Counters
	RateLimit json.RawMessage `json:"rate_limit,omitempty"`
	Models    []ModelStats    `json:"models"`
}

// ModelStats is one model's counters on a provider. Latency percentiles are nil before the
// first sample.
type ModelStats struct {
	Model string `json:"model"`
	Counters
	CachedTokens    int64       `json:"cached_tokens"`
	LatencyMs       Percentiles `json:"latency_ms"`
	TTFTMs          Percentiles `json:"ttft_ms"`
	TokensPerSecond *float64    `json:"tokens_per_second"`
	Circuit         string      `json:"circuit"`
}

// Percentiles of a latency series in milliseconds; nil where there is no sample yet.
type Percentiles struct {
	P50  *float64 `json:"p50"`
	P95  *float64 `json:"p95"`
	P99  *float64 `json:"p99,omitempty"`
	Mean *float64 `json:"mean,omitempty"`
}

// ListModels lists every provider's models (typed ModelsJSON). Cancelling ctx returns at
// once (see ModelsJSON).
func (r *Router) ListModels(ctx context.Context) (*ModelList, error) {
	text, err := r.ModelsJSON(ctx)
	return decodeDocument(text, err, func(v *ModelList, raw json.RawMessage) { v.Raw = raw })
}

// CheckHealth probes every provider now (typed HealthJSON). Cancelling ctx returns at once
// (see HealthJSON).
func (r *Router) CheckHealth(ctx context.Context) (*HealthReport, error) {
	text, err := r.HealthJSON(ctx)
	return decodeDocument(text, err, func(v *HealthReport, raw json.RawMessage) { v.Raw = raw })
}

// StatsReport returns the statistics (typed StatsText with format "json"); reset zeroes the
// counters right after this snapshot.
func (r *Router) StatsReport(ctx context.Context, reset bool) (*Stats, error) {
	text, err := r.StatsText(ctx, "json", reset)
	return decodeDocument(text, err, func(v *Stats, raw json.RawMessage) { v.Raw = raw })
}

// decodeDocument decodes a library document (a call's (text, error) result) into a new T and
// keeps the text through setRaw.
func decodeDocument[T any](text string, err error, setRaw func(*T, json.RawMessage)) (*T, error) {
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return nil, err
	}
	setRaw(v, json.RawMessage(text))
	return v, nil
}
