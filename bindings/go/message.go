// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"encoding/json"
	"errors"
)

// ContentPart is one part of a message's content in OpenAI's shape: a text part
// {"type":"text","text":...} or an image part {"type":"image_url","image_url":{"url":...,
// "detail":...}}. Build them with TextPart and ImagePart.
type ContentPart struct {
	Type     string    `json:"type"` // "text" or "image_url"
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image part's image: an https URL or a data: URL (base64), and the detail the
// model should look at it with ("auto", "low", "high"; "" leaves it to the provider).
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// TextPart is a text content part.
func TextPart(text string) ContentPart { return ContentPart{Type: "text", Text: text} }

// ImagePart is an image content part; detail may be "" (the provider's default).
func ImagePart(url, detail string) ContentPart {
	return ContentPart{Type: "image_url", ImageURL: &ImageURL{URL: url, Detail: detail}}
}

// Message is one chat message of a request. Its content is either Content (a string) or
// Parts (text and image parts); setting both is an error when the message is marshalled.
// An assistant message that only carries ToolCalls is sent with "content": null, as OpenAI's
// own SDKs send it.
type Message struct {
	Role       string        // "system", "user", "assistant", "tool"
	Content    string        // the text, when the content is a string
	Parts      []ContentPart // the parts, when the content is an array (non-nil wins the shape)
	Name       string        // optional participant name
	ToolCallID string        // role "tool": the call this message answers
	ToolCalls  []ToolCall    // role "assistant": the calls the model made
}

// messageWire is Message in OpenAI's JSON shape; Content is a string, an array or null.
type messageWire struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

var errContentAndParts = errors.New("providermux: Message has both Content and Parts; set one")

// MarshalJSON writes the message in OpenAI's shape: "content" is the string, the parts array,
// or null for an assistant message with tool calls and no text.
func (m Message) MarshalJSON() ([]byte, error) {
	w := messageWire{Role: m.Role, Name: m.Name, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID}
	var err error
	switch {
	case m.Parts != nil && m.Content != "":
		return nil, errContentAndParts
	case m.Parts != nil:
		w.Content, err = json.Marshal(m.Parts)
	case m.Content == "" && len(m.ToolCalls) > 0:
		w.Content = json.RawMessage("null")
	default:
		w.Content, err = json.Marshal(m.Content)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a message in OpenAI's shape (content: string, parts array or null).
func (m *Message) UnmarshalJSON(b []byte) error {
	var w messageWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role, Name: w.Name, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID}
	return decodeContent(w.Content, &m.Content, &m.Parts)
}

// decodeContent splits an OpenAI "content" value (string, array of parts, null or absent).
func decodeContent(raw json.RawMessage, text *string, parts *[]ContentPart) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] == '[' {
		return json.Unmarshal(raw, parts)
	}
	return json.Unmarshal(raw, text)
}
