// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// ModelsQueryJSON: the models list filtered by search text and provider (pmx_router_models_query).
func TestModelsQuery(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"a","type":"mock","models":["claude-x","gpt-4o"]},
	  {"name":"b","type":"mock","models":["Claude-Y"]}]}`)
	ctx := context.Background()
	text, err := r.ModelsQueryJSON(ctx, "claude", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"a/claude-x"`) || !strings.Contains(text, `"b/Claude-Y"`) || strings.Contains(text, "gpt-4o") {
		t.Fatalf("search claude: %s", text)
	}
	text, err = r.ModelsQueryJSON(ctx, "claude", "b")
	if err != nil || strings.Contains(text, "claude-x") || !strings.Contains(text, "Claude-Y") {
		t.Fatalf("provider b: %s %v", text, err)
	}
	if _, err = r.ModelsQueryJSON(ctx, "", "ghost"); !errors.Is(err, ErrProviderNotFound) {
		t.Fatalf("unknown provider: %v", err)
	}
}
