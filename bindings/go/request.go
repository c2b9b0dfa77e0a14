// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Route is the request's optional "route" object (per-request routing overrides).
type Route struct {
	Providers   []string `json:"providers,omitempty"`
	Lane        string   `json:"lane,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Strategy    string   `json:"strategy,omitempty"`
	MaxAttempts int      `json:"max_attempts,omitempty"`
	TimeoutMs   int      `json:"timeout_ms,omitempty"`
	Cache       *bool    `json:"cache,omitempty"`
}

// StreamOptions is a request's "stream_options" (OpenAI's): IncludeUsage asks the provider
// for the usage numbers at the end of a stream.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatRequest is an OpenAI chat completion request plus the router's "route". Optional
// numbers are pointers (nil: not sent; Ptr(0.2) sets one). Extra holds any other request
// key, merged in when marshalled (the typed fields win).
type ChatRequest struct {
	Model               string          `json:"model,omitempty"`
	Messages            []Message       `json:"messages"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   *int            `json:"n,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	User                string          `json:"user,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	Metadata            map[string]any  `json:"metadata,omitempty"`
	Route               *Route          `json:"route,omitempty"`
	Extra               map[string]any  `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q ChatRequest) MarshalJSON() ([]byte, error) {
	type plain ChatRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// marshalWithExtra encodes v (a struct without a MarshalJSON of its own) and adds extra's keys
// that v did not write.
func marshalWithExtra(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, typed := m[k]; typed {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return json.Marshal(m)
}

// CompleteRequest is Complete with typed request and response.
func (r *Router) CompleteRequest(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	out, err := r.Complete(ctx, string(body))
	if err != nil {
		return nil, err
	}
	return ParseResponse([]byte(out))
}

// StreamRequest is Stream with a typed request.
func (r *Router) StreamRequest(ctx context.Context, req ChatRequest, opts ...StreamOption) (*Stream, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return r.Stream(ctx, string(body), opts...)
}
