// SPDX-License-Identifier: Apache-2.0

package providermux

import "encoding/json"

// Tool is one entry of a request's "tools": a function the model may call.
type Tool struct {
	Type     string             `json:"type"` // "function"
	Function FunctionDefinition `json:"function"`
}

// FunctionDefinition describes a callable function. Parameters is its JSON Schema: a
// json.RawMessage (sent as is), a map[string]any or any value encoding/json marshals.
type FunctionDefinition struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
	Strict      *bool  `json:"strict,omitempty"`
}

// FunctionTool is a Tool of type "function".
func FunctionTool(name, description string, parameters any) Tool {
	return Tool{Type: "function", Function: FunctionDefinition{Name: name, Description: description, Parameters: parameters}}
}

// ToolCall is a call the model made (a response's message.tool_calls, or an assistant message
// of a later request that replays it).
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall is a tool call's function and its arguments (a JSON text, as the model wrote
// it: decode it with json.Unmarshal into your own type).
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolChoice is a request's "tool_choice": a mode ("auto", "none", "required") or one named
// function. Use ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired or ToolChoiceFunction.
type ToolChoice struct {
	Mode     string // "auto", "none", "required"; ignored when Function is set
	Function string // the function the model must call
}

var (
	ToolChoiceAuto     = &ToolChoice{Mode: "auto"}
	ToolChoiceNone     = &ToolChoice{Mode: "none"}
	ToolChoiceRequired = &ToolChoice{Mode: "required"}
)

// ToolChoiceFunction forces a call of the named function.
func ToolChoiceFunction(name string) *ToolChoice { return &ToolChoice{Function: name} }

// MarshalJSON writes "auto" (the mode) or {"type":"function","function":{"name":...}}.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	if c.Function != "" {
		var named struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		named.Type, named.Function.Name = "function", c.Function
		return json.Marshal(named)
	}
	return json.Marshal(c.Mode)
}

// UnmarshalJSON reads either shape.
func (c *ToolChoice) UnmarshalJSON(b []byte) error {
	*c = ToolChoice{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.Mode)
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return err
	}
	c.Function = named.Function.Name
	return nil
}

// ResponseFormat is a request's "response_format": {"type":"text"}, {"type":"json_object"} or
// {"type":"json_schema","json_schema":{...}}.
type ResponseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
}

// JSONSchemaFormat is the schema of a "json_schema" response format. Schema is a
// json.RawMessage, a map or any value encoding/json marshals.
type JSONSchemaFormat struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Schema      any    `json:"schema,omitempty"`
	Strict      *bool  `json:"strict,omitempty"`
}

// Ptr returns a pointer to v: for the optional fields (ChatRequest.Temperature: Ptr(0.2)).
func Ptr[T any](v T) *T { return &v }

// ToolCallAccumulator joins a stream's tool-call pieces (Event.ToolCallDeltas) into whole
// calls: a call's first piece opens it (by Index) and names it, later ones append to its
// arguments. The
// zero value is ready to use; not safe for concurrent use.
type ToolCallAccumulator struct {
	calls []ToolCall
	index map[int]int // delta Index -> position in calls
}

// Add takes the pieces of one delta event. A piece without an Index (-1) belongs to the call
// opened last, or opens one when there is none.
func (a *ToolCallAccumulator) Add(deltas []ToolCallDelta) {
	if a.index == nil {
		a.index = map[int]int{}
	}
	for _, d := range deltas {
		at, open := a.index[d.Index]
		if d.Index < 0 && len(a.calls) > 0 {
			at, open = len(a.calls)-1, true
		}
		if !open {
			a.calls = append(a.calls, ToolCall{Type: "function"})
			at = len(a.calls) - 1
			a.index[d.Index] = at
		}
		c := &a.calls[at]
		if d.ID != "" {
			c.ID = d.ID
		}
		if d.Type != "" {
			c.Type = d.Type
		}
		if c.Function.Name == "" {
			c.Function.Name = d.Name // the first piece names the function; later ones do not
		}
		c.Function.Arguments += d.Arguments
	}
}

// Calls returns the calls joined so far, in the order they opened.
func (a *ToolCallAccumulator) Calls() []ToolCall { return a.calls }
