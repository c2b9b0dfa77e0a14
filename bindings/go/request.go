package providermux

import (
	"context"
	"encoding/json"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Message is one chat message of a request.
type Message struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
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

// ChatRequest holds the common fields of a chat completion request. Extra holds any other
// request keys (temperature, tools, response_format, ...), merged in when marshalled.
type ChatRequest struct {
	Model     string         `json:"model,omitempty"`
	Messages  []Message      `json:"messages"`
	MaxTokens int            `json:"max_tokens,omitempty"`
	Route     *Route         `json:"route,omitempty"`
	Extra     map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q ChatRequest) MarshalJSON() ([]byte, error) {
	type plain ChatRequest
	b, err := json.Marshal(plain(q))
	if err != nil || len(q.Extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range q.Extra {
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

// ResponseMessage is a choice's message.
type ResponseMessage struct {
	Role      string          `json:"role"`
	Content   string          `json:"content"`
	ToolCalls json.RawMessage `json:"tool_calls,omitempty"`
}

// Choice is one entry of a response's "choices".
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
}

// Usage is a response's token usage and cost.
type Usage struct {
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	TotalTokens      int      `json:"total_tokens"`
	CostUSD          *float64 `json:"cost_usd,omitempty"` // nil when the model has no price
}

// Attempt is one provider attempt of a request.
type Attempt struct {
	Provider   string  `json:"provider"`
	Model      string  `json:"model"`
	Outcome    string  `json:"outcome"` // "ok", "error", "skipped"
	Code       int32   `json:"code,omitempty"`
	StatusName string  `json:"status_name,omitempty"`
	ErrorClass string  `json:"error_class,omitempty"`
	HTTPStatus int     `json:"http_status,omitempty"`
	Message    string  `json:"message,omitempty"`
	LatencyMs  float64 `json:"latency_ms"`
}

// ChatResponse holds the common fields of a response; Raw is the whole document.
type ChatResponse struct {
	ID        string          `json:"id"`
	Object    string          `json:"object"`
	Created   int64           `json:"created"`
	Model     string          `json:"model"`
	Provider  string          `json:"provider"`
	Choices   []Choice        `json:"choices"`
	Usage     Usage           `json:"usage"`
	Attempts  []Attempt       `json:"attempts"`
	LatencyMs float64         `json:"latency_ms"`
	TTFTMs    float64         `json:"ttft_ms,omitempty"`
	Cached    bool            `json:"cached,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// Content is the first choice's message content ("" when there is none).
func (r *ChatResponse) Content() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Content
}

// ParseResponse decodes a response document (Complete's result, a done event's Response).
func ParseResponse(raw []byte) (*ChatResponse, error) {
	var resp ChatResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, err
	}
	resp.Raw = append(json.RawMessage(nil), raw...)
	return &resp, nil
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
