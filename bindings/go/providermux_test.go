// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upstreamPort is the fake upstream's port (0 when it could not be started).
var upstreamPort int

// repoRoot is the repository root, two levels above this package (bindings/go).
func repoRoot() string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return ""
	}
	return root
}

func TestMain(m *testing.M) {
	stop, err := startUpstream()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake upstream:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startUpstream runs Tests/upstream/fake_upstream.py; it exits when its stdin closes.
func startUpstream() (func(), error) {
	script := filepath.Join(repoRoot(), "Tests", "upstream", "fake_upstream.py")
	if _, err := os.Stat(script); err != nil {
		return nil, err
	}
	cmd := exec.Command("python3", script, "--port", "0", "--exit-on-stdin-eof")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		if _, err := fmt.Sscanf(line, "PORT %d", &upstreamPort); err != nil {
			stop()
			return nil, fmt.Errorf("unexpected first line %q", line)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		stop()
		return nil, errors.New("no PORT line within 15 s")
	}
	return stop, nil
}

func upstreamBase(scope string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s/v1", upstreamPort, scope)
}

// control POSTs a JSON body to the fake upstream's control API.
func control(t *testing.T, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(fmt.Sprintf("http://127.0.0.1:%d/_control/%s", upstreamPort, path),
		"application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("control %s: %d %s", path, resp.StatusCode, msg)
	}
}

func newRouter(t *testing.T, config string) *Router {
	t.Helper()
	r, err := NewRouter(config)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func userRequest(text string) string {
	return `{"messages":[{"role":"user","content":` + jsonString(text) + `}]}`
}

// collect reads a stream to its end: the concatenated deltas and every event.
func collect(t *testing.T, s *Stream) (string, []Event) {
	t.Helper()
	var text strings.Builder
	var events []Event
	deadline := time.AfterFunc(60*time.Second, func() { s.Cancel() })
	defer deadline.Stop()
	for {
		ev, ok := s.Next()
		if !ok {
			break
		}
		events = append(events, ev)
		if ev.Type == "delta" {
			text.WriteString(ev.Content)
		}
	}
	return text.String(), events
}

func waitNoLiveHandles(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for atomic.LoadInt64(&liveHandles) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("live handles: %d, want 0", atomic.LoadInt64(&liveHandles))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const mockConfig = `{"providers":[{"name":"m","type":"mock"}]}`

// weatherToolRequest offers one tool; the fake upstream calls the first tool when asked about
// the weather.
const weatherToolRequest = `{"model":"fake-small","messages":[{"role":"user","content":"weather in Paris?"}],
  "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
  "properties":{"city":{"type":"string"}}}}}]}`

// ---------------------------------------------------------------------------------------------

func TestVersionAndStatusNames(t *testing.T) {
	if Version() == "" || VersionNumber() <= 0 {
		t.Fatalf("version %q %d", Version(), VersionNumber())
	}
	if got := StatusName(CodeTimeout); got != "PMX_ERR_TIMEOUT" {
		t.Fatalf("StatusName(timeout) = %q", got)
	}
	if got := StatusName(-1000); got != "PMX_UNKNOWN_STATUS" {
		t.Fatalf("StatusName(-1000) = %q", got)
	}
	seen := map[int32]bool{}
	for _, s := range allSentinels {
		if !strings.HasPrefix(s.StatusName, "PMX_ERR_") || seen[s.Code] {
			t.Fatalf("sentinel %d named %q (duplicate %v)", s.Code, s.StatusName, seen[s.Code])
		}
		seen[s.Code] = true
		e := &Error{Code: s.Code}
		if !errors.Is(e, s) {
			t.Fatalf("errors.Is(code %d, %s) false", s.Code, s.StatusName)
		}
	}
	if len(allSentinels) != 33 {
		t.Fatalf("%d sentinels, want 33 (PMX_ERR_* in the header)", len(allSentinels))
	}
	if errors.Is(&Error{Code: CodeTimeout}, ErrRateLimited) {
		t.Fatal("timeout matched ErrRateLimited")
	}
}

func TestMockComplete(t *testing.T) {
	r := newRouter(t, mockConfig)
	out, err := r.Complete(context.Background(), userRequest("hello there"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ParseResponse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content() != "mock: hello there" || resp.Provider != "m" {
		t.Fatalf("response %s", out)
	}
	if len(resp.Attempts) != 1 || resp.Attempts[0].Outcome != "ok" {
		t.Fatalf("attempts %+v", resp.Attempts)
	}

	typed, err := r.CompleteRequest(context.Background(), ChatRequest{
		Messages: []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "typed"}},
		Route:    &Route{Providers: []string{"m"}},
		Extra:    map[string]any{"temperature": 0.5},
	})
	if err != nil {
		t.Fatal(err)
	}
	if typed.Content() != "mock: typed" || typed.Usage.TotalTokens == 0 || typed.ID == "" {
		t.Fatalf("typed response %+v", typed)
	}
	if typed.Choices[0].Message.ToolCalls != nil {
		t.Fatalf("mock produced tool calls: %s", typed.Choices[0].Message.ToolCalls)
	}

	// usage.cost_usd from router pricing (one dollar per token here).
	priced := newRouter(t, `{"providers":[{"name":"m","type":"mock"}],
	  "pricing":{"m/priced":{"input_per_mtok":1000000,"output_per_mtok":1000000}}}`)
	cost, err := priced.CompleteRequest(context.Background(), ChatRequest{Model: "m/priced",
		Messages: []Message{{Role: "user", Content: "two words"}}})
	if err != nil {
		t.Fatal(err)
	}
	if cost.Usage.CostUSD == nil || *cost.Usage.CostUSD != float64(cost.Usage.TotalTokens) {
		t.Fatalf("cost_usd: %s", cost.Raw)
	}
}

func TestMockStream(t *testing.T) {
	r := newRouter(t, mockConfig)
	// WithEventJSON: every event's Raw (without it only done and error carry it).
	s, err := r.Stream(context.Background(), userRequest("hello stream world"), WithEventJSON())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, events := collect(t, s)
	if text != "mock: hello stream world" {
		t.Fatalf("deltas %q", text)
	}
	if events[0].Type != "start" {
		t.Fatalf("first event %s", events[0].Raw)
	}
	last := events[len(events)-1]
	if last.Type != "done" || last.Response == nil || last.Err != nil {
		t.Fatalf("last event %s", last.Raw)
	}
	for _, ev := range events {
		if ev.ToolCalls != nil {
			t.Fatalf("tool calls from the mock: %s", ev.Raw)
		}
		if len(ev.Raw) == 0 || !json.Valid(ev.Raw) {
			t.Fatalf("raw event %q", ev.Raw)
		}
	}
	resp, err := s.Wait()
	if err != nil || !bytes.Equal(resp, last.Response) || !bytes.Equal(s.Response(), resp) {
		t.Fatalf("Wait: %s %v", resp, err)
	}

	// The same through the channel API.
	s2, err := r.StreamRequest(context.Background(), ChatRequest{Messages: []Message{{Role: "user", Content: "via channel"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var b strings.Builder
	var final Event
	for ev := range s2.Events() {
		b.WriteString(ev.Content)
		final = ev
	}
	if b.String() != "mock: via channel" || final.Type != "done" {
		t.Fatalf("channel: %q, final %s", b.String(), final.Raw)
	}
	waitNoLiveHandles(t)
}

func TestConfigErrors(t *testing.T) {
	_, err := NewRouter(`{"providers":[{"name":"x","type":"mock","bogus":1}]}`)
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrConfig) {
		t.Fatalf("want ErrConfig, got %#v", err)
	}
	if !strings.Contains(pe.Message, "bogus") || pe.StatusName != "PMX_ERR_CONFIG" {
		t.Fatalf("message does not name the field: %q", pe.Message)
	}
	if !strings.Contains(err.Error(), "PMX_ERR_CONFIG") {
		t.Fatalf("Error() = %q", err.Error())
	}
	if _, err := NewRouter(`{"providers": [`); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("want ErrInvalidJSON, got %v", err)
	}
	if _, err := NewRouter(`{"providers":[{"name":"x","type":"nope"}]}`); !errors.Is(err, ErrUnknownProviderType) {
		t.Fatalf("want ErrUnknownProviderType, got %v", err)
	}
	if _, err := NewRouter(`{"providers":[{"name":"x","type":"mock","reply":"${PMX_GO_TEST_UNSET_VAR}"}]}`); !errors.Is(err, ErrEnvVarMissing) {
		t.Fatalf("want ErrEnvVarMissing, got %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	r := newRouter(t, mockConfig)
	lane := `{"messages":[{"role":"user","content":"x"}],"route":{"lane":"nope"}}`
	_, err := r.Complete(context.Background(), lane)
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown lane: %v", err)
	}
	if _, err := r.Stream(context.Background(), lane); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("unknown lane (stream): %v", err)
	}
	if _, err := r.Complete(context.Background(), `{"messages":[]}`); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty messages: %v", err)
	}
	if _, err := r.Complete(context.Background(), `{"messages":`); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("bad JSON: %v", err)
	}
	prov := `{"messages":[{"role":"user","content":"x"}],"route":{"providers":["ghost"]}}`
	if _, err := r.Complete(context.Background(), prov); !errors.Is(err, ErrProviderNotFound) {
		t.Fatalf("unknown provider: %v", err)
	}
	waitNoLiveHandles(t)
}

func TestCancelMidStream(t *testing.T) {
	waitNoLiveHandles(t)
	r := newRouter(t, `{"providers":[{"name":"slow","type":"mock","token_delay_ms":50}]}`)
	prompt := strings.Repeat("word ", 200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := r.Stream(ctx, userRequest(prompt))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := atomic.LoadInt64(&liveHandles); n != 1 {
		t.Fatalf("live handles while streaming: %d", n)
	}
	start := time.Now()
	deltas := 0
	var terminal Event
	for {
		ev, ok := s.Next()
		if !ok {
			break
		}
		if ev.Type == "delta" {
			deltas++
			if deltas == 1 {
				cancel()
			}
		}
		if ev.Terminal() {
			terminal = ev
		}
	}
	if terminal.Type != "error" || !errors.Is(terminal.Err, ErrCancelled) {
		t.Fatalf("terminal event %s (%v)", terminal.Raw, terminal.Err)
	}
	if !errors.Is(terminal.Err, context.Canceled) {
		t.Fatalf("cancelled error does not wrap context.Canceled: %#v", terminal.Err)
	}
	if !errors.Is(s.Err(), ErrCancelled) {
		t.Fatalf("Stream.Err() = %v", s.Err())
	}
	t.Logf("cancelled after %d deltas in %v", deltas, time.Since(start))
	if deltas > 10 || time.Since(start) > 5*time.Second {
		t.Fatalf("cancel took effect late: %d deltas in %v", deltas, time.Since(start))
	}
	if n := atomic.LoadInt64(&liveHandles); n != 0 {
		t.Fatalf("live handles after the terminal event: %d", n)
	}
}

func TestCompleteCancel(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"slow","type":"mock","token_delay_ms":50}]}`)
	prompt := userRequest(strings.Repeat("word ", 200))

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Complete(ctx, prompt)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want cancelled by deadline, got %#v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Complete returned after %v", time.Since(start))
	}

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := r.Complete(done, prompt); !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled ctx: %v", err)
	}
	waitNoLiveHandles(t)
}

func TestUpstreamStream(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gostream")+`",
	  "api_key":"sk-go-test-SECRET-5e1d7a"}]}`)
	s, err := r.Stream(context.Background(), `{"model":"fake-small","messages":[{"role":"user","content":"hello fake world"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, events := collect(t, s)
	if text != "echo: hello fake world" {
		t.Fatalf("deltas %q", text)
	}
	last := events[len(events)-1]
	resp, err := ParseResponse(last.Response)
	if err != nil || resp.Provider != "up" || resp.Content() != text {
		t.Fatalf("done %s (%v)", last.Raw, err)
	}

	// Tool calls: the fake upstream calls the first tool when asked about the weather.
	s2, err := r.Stream(context.Background(), weatherToolRequest)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	_, events = collect(t, s2)
	sawToolDelta := false
	for _, ev := range events {
		if ev.ToolCalls != nil {
			sawToolDelta = true
		}
	}
	last = events[len(events)-1]
	resp, err = ParseResponse(last.Response)
	if !sawToolDelta || err != nil || len(resp.ToolCalls()) != 1 || resp.ToolCalls()[0].Function.Name != "get_weather" {
		t.Fatalf("tool calls: delta seen %v, done %s", sawToolDelta, last.Raw)
	}
}

func TestUpstreamRetry(t *testing.T) {
	control(t, "goretry/script", map[string]any{"entries": []any{map[string]any{"status": 500}}})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("goretry")+`"}],
	  "retry":{"max_attempts":3,"initial_backoff_ms":10,"jitter":0}}`)
	s, err := r.Stream(context.Background(), `{"model":"fake-small","messages":[{"role":"user","content":"again please"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, events := collect(t, s)
	if text != "echo: again please" {
		t.Fatalf("deltas %q", text)
	}
	sawRetry := false
	for _, ev := range events {
		if ev.Type == "retry" {
			sawRetry = true
		}
	}
	resp, err := ParseResponse(events[len(events)-1].Response)
	if err != nil || !sawRetry || len(resp.Attempts) != 2 {
		t.Fatalf("retry event %v, response %s", sawRetry, events[len(events)-1].Raw)
	}
	if resp.Attempts[0].Outcome != "error" || resp.Attempts[0].HTTPStatus != 500 || resp.Attempts[1].Outcome != "ok" {
		t.Fatalf("attempts %+v", resp.Attempts)
	}

	// Complete: the same retry, then a failure that exhausts the attempts.
	control(t, "goretry/script", map[string]any{"entries": []any{map[string]any{"status": 500}}})
	typed, err := r.CompleteRequest(context.Background(), ChatRequest{Model: "fake-small",
		Messages: []Message{{Role: "user", Content: "once more"}}})
	if err != nil || len(typed.Attempts) != 2 || typed.Content() != "echo: once more" {
		t.Fatalf("complete after retry: %+v %v", typed, err)
	}
	control(t, "goretry/script", map[string]any{"entries": []any{map[string]any{"status": 500, "times": 5}}})
	_, err = r.Complete(context.Background(), `{"model":"fake-small","messages":[{"role":"user","content":"x"}],"route":{"max_attempts":2}}`)
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrUpstreamServer) {
		t.Fatalf("want ErrUpstreamServer, got %v", err)
	}
	if pe.HTTPStatus != 500 || pe.Provider != "up" || pe.Attempts != 2 || pe.Details == nil {
		t.Fatalf("error fields %#v", pe)
	}
	control(t, "goretry/reset", map[string]any{})
}

func TestUpstreamRateLimitedErrorEvent(t *testing.T) {
	control(t, "go429/script", map[string]any{"entries": []any{map[string]any{"status": 429, "times": 3}}})
	defer control(t, "go429/reset", map[string]any{})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("go429")+`",
	  "retry":{"max_attempts":1}}]}`)
	s, err := r.Stream(context.Background(), `{"model":"fake-small","messages":[{"role":"user","content":"x"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, events := collect(t, s)
	last := events[len(events)-1]
	var pe *Error
	if last.Type != "error" || !errors.As(last.Err, &pe) || !errors.Is(last.Err, ErrRateLimited) {
		t.Fatalf("terminal %s", last.Raw)
	}
	if pe.HTTPStatus != 429 || pe.Provider != "up" || pe.Attempts != 1 || pe.StatusName != "PMX_ERR_RATE_LIMITED" {
		t.Fatalf("error fields %#v", pe)
	}
	if _, err := s.Wait(); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Wait: %v", err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock","token_delay_ms":2}]}`)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := fmt.Sprintf("mock: request %d of many", i)
			s, err := r.Stream(context.Background(), userRequest(fmt.Sprintf("request %d of many", i)))
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			var b strings.Builder
			for ev := range s.Events() {
				b.WriteString(ev.Content)
			}
			if _, err := s.Wait(); err != nil {
				errs <- err
			} else if b.String() != want {
				errs <- fmt.Errorf("stream %d: %q", i, b.String())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stats, err := r.Stats("json", false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Requests, Successes int }
	if err := json.Unmarshal([]byte(stats), &doc); err != nil || doc.Requests != n || doc.Successes != n {
		t.Fatalf("stats %s (%v)", stats, err)
	}
	waitNoLiveHandles(t)
}

func TestCloseTwiceAndAfterClose(t *testing.T) {
	r, err := NewRouter(mockConfig)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Stream(context.Background(), userRequest("x"))
	if err != nil {
		t.Fatal(err)
	}
	collect(t, s)
	if s.Close() != nil || s.Close() != nil {
		t.Fatal("Stream.Close returned an error")
	}
	if _, ok := s.Next(); ok {
		t.Fatal("Next after Close returned an event")
	}
	if r.Close() != nil || r.Close() != nil {
		t.Fatal("Router.Close returned an error")
	}
	if _, err := r.Complete(context.Background(), userRequest("x")); !errors.Is(err, ErrRouterClosed) {
		t.Fatalf("Complete after Close: %v", err)
	}
	if _, err := r.Stats("json", false); !errors.Is(err, ErrRouterClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
	if err := r.AddProvider(`{"name":"n","type":"mock"}`); !errors.Is(err, ErrRouterClosed) {
		t.Fatalf("AddProvider after Close: %v", err)
	}
}

func TestRouterCloseEndsRunningStreams(t *testing.T) {
	waitNoLiveHandles(t)
	r, err := NewRouter(`{"providers":[{"name":"slow","type":"mock","token_delay_ms":50}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var streams []*Stream
	for i := 0; i < 5; i++ {
		s, err := r.Stream(context.Background(), userRequest(strings.Repeat("w ", 100)))
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	if ev, ok := streams[0].Next(); !ok || ev.Type != "start" {
		t.Fatalf("first event %s", ev.Raw)
	}
	r.Close()
	if n := atomic.LoadInt64(&liveHandles); n != 0 {
		t.Fatalf("live handles after Router.Close: %d", n)
	}
	for _, s := range streams {
		_, events := collect(t, s)
		last := events[len(events)-1]
		if last.Type != "error" {
			t.Fatalf("terminal after router close: %s", last.Raw)
		}
		s.Close()
	}
}

func TestStats(t *testing.T) {
	r := newRouter(t, mockConfig)
	if _, err := r.Complete(context.Background(), userRequest("count me")); err != nil {
		t.Fatal(err)
	}
	js, err := r.Stats("", false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Requests  int `json:"requests"`
		Providers []struct {
			Name string `json:"name"`
		} `json:"providers"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Requests != 1 || len(doc.Providers) != 1 || doc.Providers[0].Name != "m" {
		t.Fatalf("stats %s (%v)", js, err)
	}
	prom, err := r.Stats("prometheus", true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prom, "# TYPE pmx_router_requests_total counter") || !strings.Contains(prom, "pmx_router_requests_total 1") {
		t.Fatalf("prometheus text:\n%s", prom)
	}
	js, _ = r.Stats("json", false)
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Requests != 0 {
		t.Fatalf("stats after reset %s (%v)", js, err)
	}
	if _, err := r.Stats("xml", false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad format: %v", err)
	}
}

func TestProvidersAndRouting(t *testing.T) {
	r := newRouter(t, `{"providers":[]}`)
	if _, err := r.Complete(context.Background(), userRequest("x")); !errors.Is(err, ErrNoProvider) {
		t.Fatalf("no providers: %v", err)
	}
	if err := r.AddProvider(`{"name":"a","type":"mock","reply":"from a"}`); err != nil {
		t.Fatal(err)
	}
	if err := r.AddProvider(`{"name":"a","type":"mock"}`); !errors.Is(err, ErrDuplicateProvider) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := r.AddProvider(`{"name":"b","type":"mock","reply":"from b"}`); err != nil {
		t.Fatal(err)
	}
	if err := r.AddProvider(`{"name":"c","type":"mock","oops":true}`); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad provider: %v", err)
	}
	resp, err := r.CompleteRequest(context.Background(), ChatRequest{Messages: []Message{{Role: "user", Content: "x"}}})
	if err != nil || resp.Provider != "a" || resp.Content() != "from a" {
		t.Fatalf("%+v %v", resp, err)
	}
	if err := r.UpdateRouting(`{"order":["b","a"]}`); err != nil {
		t.Fatal(err)
	}
	if resp, err := r.CompleteRequest(context.Background(), ChatRequest{Messages: []Message{{Role: "user", Content: "x"}}}); err != nil || resp.Provider != "b" {
		t.Fatalf("after UpdateRouting: %+v %v", resp, err)
	}
	if err := r.UpdateRouting(`{"lanes":{"code":{"providers":["ghost"]}}}`); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad routing: %v", err)
	}
	if err := r.RemoveProvider("b"); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveProvider("b"); !errors.Is(err, ErrProviderNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
}

func TestEmbedModelsHealth(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock","models":["mini"]},
	  {"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gomodels")+`"}]}`)
	out, err := r.Embed(`{"model":"mini","input":["a","b"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var emb struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Provider string `json:"provider"`
	}
	if err := json.Unmarshal([]byte(out), &emb); err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 8 || emb.Provider != "m" {
		t.Fatalf("embed %s (%v)", out, err)
	}
	models, err := r.Models()
	if err != nil || !strings.Contains(models, `"m/mini"`) || !strings.Contains(models, "fake-small") {
		t.Fatalf("models %s (%v)", models, err)
	}
	health, err := r.Health()
	if err != nil || !strings.Contains(health, `"healthy"`) {
		t.Fatalf("health %s (%v)", health, err)
	}
}

func TestLogCallback(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	SetLogCallback(func(level int, msg string) {
		mu.Lock()
		lines = append(lines, msg)
		mu.Unlock()
	}, LogTrace)
	r, err := NewRouter(`{"providers":[{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1",
	  "api_key":"`+goDeadKey+`","retry":{"max_attempts":1},"timeouts":{"connect_ms":300}},{"name":"m","type":"mock"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Complete(context.Background(), userRequest("log something")); err != nil {
		t.Fatal(err)
	}
	r.Close()
	SetLogCallback(nil, 0)
	mu.Lock()
	n := len(lines)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no log line for a failover")
	}
	for _, l := range lines {
		if strings.Contains(l, goDeadKey) {
			t.Fatalf("a log line shows the API key: %q", strings.ReplaceAll(l, goDeadKey, "****"))
		}
	}
	// After SetLogCallback(nil) returns, the callback is never called again.
	r2 := newRouter(t, mockConfig)
	r2.Complete(context.Background(), userRequest("quiet"))
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != n {
		t.Fatalf("log lines after uninstall: %d → %d", n, len(lines))
	}
}

// The key of the dead provider in TestLogCallback: never in a log line.
const goDeadKey = "sk-go-dead-SECRET-77f03b"

func TestStreamCloseWhileReading(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"slow","type":"mock","token_delay_ms":50}]}`)
	s, err := r.Stream(context.Background(), userRequest(strings.Repeat("w ", 100)))
	if err != nil {
		t.Fatal(err)
	}
	events := s.Events()
	if ev := <-events; ev.Type != "start" {
		t.Fatalf("first event %s", ev.Raw)
	}
	start := time.Now()
	s.Close() // cancels, waits for the terminal event, frees the handle
	for range events {
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Close took %v", time.Since(start))
	}
	if !errors.Is(s.Err(), ErrCancelled) {
		t.Fatalf("Err after Close: %v", s.Err())
	}
	waitNoLiveHandles(t)
}
