// SPDX-License-Identifier: Apache-2.0

// Command example streams an answer through a router built from a config file and prints the
// deltas as they arrive. With the repository's examples/router.json and no local LLM server
// running, the local providers fail fast and the mock provider answers.
//
//	go run ./example ../../examples/router.json "hello"
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	providermux "github.com/providermux/libprovidermux/bindings/go"
)

func main() {
	os.Exit(run())
}

func run() int {
	exitCode := 0
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: example CONFIG.json [PROMPT...]")
		return 2
	}
	config, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	prompt := "hello"
	if len(os.Args) > 2 {
		prompt = strings.Join(os.Args[2:], " ")
	}

	router, err := providermux.NewRouter(string(config))
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		return 1
	}
	defer router.Close()

	// Ctrl-C or two minutes cancel the request in the library.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	req := providermux.ChatRequest{Messages: []providermux.Message{{Role: "user", Content: prompt}}}
	stream, err := router.StreamRequest(ctx, req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "request:", err)
		return 1
	}
	defer stream.Close()

	for ev := range stream.Events() {
		switch ev.Type {
		case "delta":
			fmt.Print(ev.Content)
		case "retry":
			fmt.Fprintf(os.Stderr, "[retry %s after %d ms: %s]\n", ev.Provider, ev.DelayMs, providermux.StatusName(ev.Code))
		case "fallback":
			fmt.Fprintf(os.Stderr, "[fallback %s -> %s: %s]\n", ev.Provider, ev.NextProvider, providermux.StatusName(ev.Code))
		case "done":
			if resp, err := providermux.ParseResponse(ev.Response); err == nil {
				fmt.Printf("\n[provider %s, %d attempt(s), %d tokens, %.1f ms]\n",
					resp.Provider, len(resp.Attempts), resp.Usage.TotalTokens, resp.LatencyMs)
			}
		case "error":
			fmt.Println()
			if errors.Is(ev.Err, providermux.ErrCancelled) {
				fmt.Fprintln(os.Stderr, "cancelled")
			} else {
				fmt.Fprintln(os.Stderr, "error:", ev.Err)
			}
			exitCode = 1
		}
	}
	return exitCode
}
