// SPDX-License-Identifier: Apache-2.0

package providermux

import "encoding/json"

// ResponseMessage is a choice's message. Content is "" when the model answered with tool
// calls only (OpenAI's null); Parts is set instead when a provider answered with an array.
type ResponseMessage struct {
	Role      string
	Content   string
	Parts     []ContentPart
	Refusal   string
	ToolCalls []ToolCall
}

// UnmarshalJSON reads OpenAI's message shape (content: string, array or null).
func (m *ResponseMessage) UnmarshalJSON(b []byte) error {
	var w struct {
		Role      string          `json:"role"`
		Content   json.RawMessage `json:"content"`
		Refusal   *string         `json:"refusal"`
		ToolCalls []ToolCall      `json:"tool_calls"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = ResponseMessage{Role: w.Role, ToolCalls: w.ToolCalls}
	if w.Refusal != nil {
		m.Refusal = *w.Refusal
	}
	return decodeContent(w.Content, &m.Content, &m.Parts)
}

// MarshalJSON writes OpenAI's message shape back (content null when there is no text).
func (m ResponseMessage) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(Message{Role: m.Role, Content: m.Content, Parts: m.Parts, ToolCalls: m.ToolCalls})
	if err != nil || m.Refusal == "" {
		return b, err
	}
	return marshalWithExtra(json.RawMessage(b), map[string]any{"refusal": m.Refusal})
}

// Choice is one entry of a response's "choices".
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"` // "stop", "length", "tool_calls", ...
}

// Usage is a response's token usage and cost. Cost figures are nil when absent.
type Usage struct {
	PromptTokens        int                  `json:"prompt_tokens"`
	CompletionTokens    int                  `json:"completion_tokens"`
	TotalTokens         int                  `json:"total_tokens"`
	PromptTokensDetails *PromptTokensDetails `json:"prompt_tokens_details,omitempty"`
	CostUSD             *float64             `json:"cost_usd,omitempty"`          // the router's pricing; nil when the model has no price
	UpstreamCostUSD     *float64             `json:"upstream_cost_usd,omitempty"` // what the provider reported
	TokensPerSecond     *float64             `json:"tokens_per_second,omitempty"`
}

// PromptTokensDetails is usage.prompt_tokens_details.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
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

// ChatResponse is an OpenAI chat.completion plus the router's extras (Provider, Attempts,
// latencies, Cached); Raw is the whole document.
type ChatResponse struct {
	ID              string          `json:"id"`
	Object          string          `json:"object"`
	Created         int64           `json:"created"`
	Model           string          `json:"model"`
	Provider        string          `json:"provider"`
	Choices         []Choice        `json:"choices"`
	Usage           Usage           `json:"usage"`
	Attempts        []Attempt       `json:"attempts"`
	AttemptsOmitted int             `json:"attempts_omitted,omitempty"`
	LatencyMs       float64         `json:"latency_ms"`
	TTFTMs          float64         `json:"ttft_ms,omitempty"`
	Cached          bool            `json:"cached,omitempty"`
	Raw             json.RawMessage `json:"-"`
}

// Content is the first choice's message content ("" when there is none).
func (r *ChatResponse) Content() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Content
}

// ToolCalls are the first choice's tool calls (nil when there are none).
func (r *ChatResponse) ToolCalls() []ToolCall {
	if len(r.Choices) == 0 {
		return nil
	}
	return r.Choices[0].Message.ToolCalls
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

// WaitResponse is Wait with the response decoded: the done event's response, or the stream's
// error.
func (s *Stream) WaitResponse() (*ChatResponse, error) {
	raw, err := s.Wait()
	if err != nil {
		return nil, err
	}
	return ParseResponse(raw)
}
