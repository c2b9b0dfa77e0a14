// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
	"math"
	"time"
)

// EmbeddingRequest is an OpenAI embeddings request plus the router's "route". Input holds one
// text or several (sent as an array). Extra holds any other key, merged in when marshalled.
type EmbeddingRequest struct {
	Model          string         `json:"model,omitempty"`
	Input          []string       `json:"input"`
	EncodingFormat string         `json:"encoding_format,omitempty"`
	Dimensions     *int           `json:"dimensions,omitempty"`
	User           string         `json:"user,omitempty"`
	Route          *Route         `json:"route,omitempty"`
	Extra          map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q EmbeddingRequest) MarshalJSON() ([]byte, error) {
	type plain EmbeddingRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// Embedding is one vector of an embeddings response; Index is its input's position.
type Embedding struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float64 `json:"embedding"`
}

// EmbeddingUsage is an embeddings response's usage; CostUSD is nil when the model has no price.
type EmbeddingUsage struct {
	PromptTokens int      `json:"prompt_tokens"`
	TotalTokens  int      `json:"total_tokens"`
	CostUSD      *float64 `json:"cost_usd,omitempty"`
}

// EmbeddingResponse is OpenAI's embeddings list plus the router's Provider, Attempts and
// LatencyMs; Raw is the whole document.
type EmbeddingResponse struct {
	Object    string          `json:"object"`
	Data      []Embedding     `json:"data"`
	Model     string          `json:"model"`
	Usage     EmbeddingUsage  `json:"usage"`
	Provider  string          `json:"provider"`
	Attempts  []Attempt       `json:"attempts"`
	LatencyMs float64         `json:"latency_ms"`
	Raw       json.RawMessage `json:"-"`
}

// EmbedRequest computes embeddings (typed Embed). The library call has no cancel of its own:
// when ctx ends first, EmbedRequest returns at once with an *Error (CodeCancelled) matching
// ctx.Err() and the call finishes in the background (its result dropped). A ctx deadline is
// also sent as route.timeout_ms (20 ms later) when the request sets none, so the library stops
// then too.
func (r *Router) EmbedRequest(ctx context.Context, req EmbeddingRequest) (*EmbeddingResponse, error) {
	if deadline, ok := contextDeadline(ctx); ok && (req.Route == nil || req.Route.TimeoutMs == 0) {
		// A little after the deadline: the library's timer (whole milliseconds, its own clock)
		// must not fire first, or the error would be its timeout instead of the context's.
		ms := time.Until(deadline).Milliseconds() + deadlineMarginMs
		if ms > math.MaxInt32 {
			ms = math.MaxInt32
		}
		route := Route{}
		if req.Route != nil {
			route = *req.Route
		}
		route.TimeoutMs = int(ms)
		req.Route = &route
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	out, err := r.EmbedJSON(ctx, string(body))
	return decodeDocument(out, err, func(v *EmbeddingResponse, raw json.RawMessage) { v.Raw = raw })
}

// deadlineMarginMs is how much later than a context's deadline the library is told to stop.
const deadlineMarginMs = 20

func contextDeadline(ctx context.Context) (time.Time, bool) {
	if ctx == nil {
		return time.Time{}, false
	}
	return ctx.Deadline()
}
