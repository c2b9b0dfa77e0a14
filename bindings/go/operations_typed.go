// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
)

// Typed forms of Call for the operations beyond chat: a request struct marshalled to the
// operation's OpenAI JSON (Extra merged in, the typed fields win), the result decoded into a
// struct with Raw holding the whole document. Errors are those of Call.

// OperationUsage is an operation result's usage: chat's Usage, plus InputTokens/OutputTokens
// where the vendor reports those (gpt-image, Gemini images; the library also gives them as
// PromptTokens/CompletionTokens).
type OperationUsage struct {
	Usage
	InputTokens  int `json:"input_tokens,omitempty"`
	OutputTokens int `json:"output_tokens,omitempty"`
}

// callTyped marshals req, runs operation and decodes its result into T (Raw set by setRaw).
func callTyped[T any](ctx context.Context, r *Router, operation string, req any, setRaw func(*T, json.RawMessage)) (*T, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	out, err := r.Call(ctx, operation, string(body))
	return decodeDocument(out, err, setRaw)
}

// TextCompletionRequest is a "completions.create" request: Prompt, and Suffix for
// fill-in-the-middle. Optional numbers are pointers (nil: not sent).
type TextCompletionRequest struct {
	Model       string         `json:"model,omitempty"`
	Prompt      string         `json:"prompt"`
	Suffix      string         `json:"suffix,omitempty"`
	MaxTokens   *int           `json:"max_tokens,omitempty"`
	Temperature *float64       `json:"temperature,omitempty"`
	Stop        []string       `json:"stop,omitempty"`
	Seed        *int64         `json:"seed,omitempty"`
	Route       *Route         `json:"route,omitempty"`
	Extra       map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q TextCompletionRequest) MarshalJSON() ([]byte, error) {
	type plain TextCompletionRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// TextCompletionChoice is one choice of a text_completion.
type TextCompletionChoice struct {
	Index        int    `json:"index"`
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason"`
}

// TextCompletion is OpenAI's text_completion plus the router's Provider and Attempts.
type TextCompletion struct {
	ID       string                 `json:"id"`
	Object   string                 `json:"object"`
	Model    string                 `json:"model"`
	Choices  []TextCompletionChoice `json:"choices"`
	Usage    OperationUsage         `json:"usage"`
	Provider string                 `json:"provider"`
	Attempts []Attempt              `json:"attempts"`
	Raw      json.RawMessage        `json:"-"`
}

// Text is the first choice's text ("" when there is none).
func (c *TextCompletion) Text() string {
	if len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Text
}

// CompleteText runs "completions.create" (text completion or FIM) and waits for the result.
func (r *Router) CompleteText(ctx context.Context, req TextCompletionRequest) (*TextCompletion, error) {
	return callTyped(ctx, r, OpCompletions, req, func(v *TextCompletion, raw json.RawMessage) { v.Raw = raw })
}

// ImageRequest is an "images.generate" request. ResponseFormat is "b64_json" or "url" (Gemini
// has b64_json only: "url" fails over to another provider).
type ImageRequest struct {
	Model          string         `json:"model,omitempty"`
	Prompt         string         `json:"prompt"`
	N              *int           `json:"n,omitempty"`
	Size           string         `json:"size,omitempty"`
	Quality        string         `json:"quality,omitempty"`
	ResponseFormat string         `json:"response_format,omitempty"`
	Route          *Route         `json:"route,omitempty"`
	Extra          map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q ImageRequest) MarshalJSON() ([]byte, error) {
	type plain ImageRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// Image is one generated image: B64JSON (base64 bytes) or URL.
type Image struct {
	B64JSON       string `json:"b64_json,omitempty"`
	URL           string `json:"url,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// ImagesResponse is OpenAI's images result plus the router's Provider and Attempts; Usage is
// nil when the provider reported none.
type ImagesResponse struct {
	Created      int64           `json:"created"`
	Data         []Image         `json:"data"`
	OutputFormat string          `json:"output_format,omitempty"`
	Usage        *OperationUsage `json:"usage,omitempty"`
	Provider     string          `json:"provider"`
	Attempts     []Attempt       `json:"attempts"`
	Raw          json.RawMessage `json:"-"`
}

// GenerateImage runs "images.generate".
func (r *Router) GenerateImage(ctx context.Context, req ImageRequest) (*ImagesResponse, error) {
	return callTyped(ctx, r, OpImagesGenerate, req, func(v *ImagesResponse, raw json.RawMessage) { v.Raw = raw })
}

// ModerationRequest is a "moderations.create" request. Input is a string, a []string (one
// result each) or a []ContentPart (one result).
type ModerationRequest struct {
	Model string         `json:"model,omitempty"`
	Input any            `json:"input"`
	Route *Route         `json:"route,omitempty"`
	Extra map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q ModerationRequest) MarshalJSON() ([]byte, error) {
	type plain ModerationRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// Moderation is one moderation result. Categories holds OpenAI's category names and, from
// vendors with their own (Mistral), those names too; Flagged is whether any is true.
type Moderation struct {
	Flagged                   bool                `json:"flagged"`
	Categories                map[string]bool     `json:"categories"`
	CategoryScores            map[string]float64  `json:"category_scores"`
	CategoryAppliedInputTypes map[string][]string `json:"category_applied_input_types"`
}

// ModerationResponse is OpenAI's moderation result plus the router's Provider and Attempts.
type ModerationResponse struct {
	ID       string          `json:"id"`
	Model    string          `json:"model"`
	Results  []Moderation    `json:"results"`
	Provider string          `json:"provider"`
	Attempts []Attempt       `json:"attempts"`
	Raw      json.RawMessage `json:"-"`
}

// Moderate runs "moderations.create".
func (r *Router) Moderate(ctx context.Context, req ModerationRequest) (*ModerationResponse, error) {
	return callTyped(ctx, r, OpModerations, req, func(v *ModerationResponse, raw json.RawMessage) { v.Raw = raw })
}

// RerankRequest is a "rerank" request: Query against Documents, the best TopN kept.
type RerankRequest struct {
	Model           string         `json:"model,omitempty"`
	Query           string         `json:"query"`
	Documents       []string       `json:"documents"`
	TopN            *int           `json:"top_n,omitempty"`
	ReturnDocuments bool           `json:"return_documents,omitempty"`
	Route           *Route         `json:"route,omitempty"`
	Extra           map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q RerankRequest) MarshalJSON() ([]byte, error) {
	type plain RerankRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// RerankResult is one ranked document: Index into the request's Documents; Document is
// present when ReturnDocuments asked for it.
type RerankResult struct {
	Index          int             `json:"index"`
	RelevanceScore float64         `json:"relevance_score"`
	Document       json.RawMessage `json:"document,omitempty"`
}

// RerankResponse holds the results best-first, cut to TopN.
type RerankResponse struct {
	Results  []RerankResult  `json:"results"`
	Provider string          `json:"provider"`
	Attempts []Attempt       `json:"attempts"`
	Raw      json.RawMessage `json:"-"`
}

// Rerank runs "rerank".
func (r *Router) Rerank(ctx context.Context, req RerankRequest) (*RerankResponse, error) {
	return callTyped(ctx, r, OpRerank, req, func(v *RerankResponse, raw json.RawMessage) { v.Raw = raw })
}

// TokenCountRequest is a "tokens.count" request: Messages (with Tools), or Input, a text.
type TokenCountRequest struct {
	Model    string         `json:"model,omitempty"`
	Messages []Message      `json:"messages,omitempty"`
	Tools    []Tool         `json:"tools,omitempty"`
	Input    string         `json:"input,omitempty"`
	Route    *Route         `json:"route,omitempty"`
	Extra    map[string]any `json:"-"`
}

// MarshalJSON encodes the request with Extra's keys merged in (the typed fields win).
func (q TokenCountRequest) MarshalJSON() ([]byte, error) {
	type plain TokenCountRequest
	return marshalWithExtra(plain(q), q.Extra)
}

// TokenCount is a token count: Estimated is true for the router's own estimate (no provider
// could count; nothing was sent).
type TokenCount struct {
	InputTokens int             `json:"input_tokens"`
	Estimated   bool            `json:"estimated"`
	Provider    string          `json:"provider"`
	Attempts    []Attempt       `json:"attempts"`
	Raw         json.RawMessage `json:"-"`
}

// CountTokens runs "tokens.count".
func (r *Router) CountTokens(ctx context.Context, req TokenCountRequest) (*TokenCount, error) {
	return callTyped(ctx, r, OpTokensCount, req, func(v *TokenCount, raw json.RawMessage) { v.Raw = raw })
}
