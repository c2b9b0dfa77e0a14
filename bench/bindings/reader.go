// SPDX-License-Identifier: Apache-2.0

// One mock stream of N words read through the Go binding's Stream.Next; prints "DELTAS BYTES".
// Copied into a scratch copy of bindings/go as ./reader/main.go by bench/bindings/per-delta.sh.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	providermux "github.com/providermux/libprovidermux/bindings/go"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	r, err := providermux.NewRouter(`{"providers":[{"name":"m","type":"mock"}]}`)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	s, err := r.Stream(context.Background(), `{"messages":[{"role":"user","content":"`+strings.Repeat("w ", n)+`"}]}`)
	if err != nil {
		panic(err)
	}
	deltas, bytes := 0, 0
	for {
		ev, ok := s.Next()
		if !ok {
			break
		}
		if ev.Type == "delta" {
			deltas++
			bytes += len(ev.Content)
		}
	}
	s.Close()
	fmt.Println(deltas, bytes)
}
