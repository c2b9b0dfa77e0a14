// SPDX-License-Identifier: Apache-2.0

// Command outside is built by run-tests.sh in a temporary module OUTSIDE the repository, the
// way another project depends on the binding: only PKG_CONFIG_PATH points at the installed
// prefix (no CGO_LDFLAGS), and it runs with no LD_LIBRARY_PATH (the rpath comes from
// providermux.pc). It prints the mock's answer.
package main

import (
	"context"
	"fmt"
	"os"

	providermux "github.com/providermux/libprovidermux/bindings/go"
)

func main() {
	router, err := providermux.NewRouter(`{"providers":[{"name":"m","type":"mock"}]}`)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer router.Close()
	resp, err := router.CompleteRequest(context.Background(), providermux.ChatRequest{
		Messages: []providermux.Message{{Role: "user", Content: "from outside"}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s (libprovidermux %s)\n", resp.Content(), providermux.Version())
}
