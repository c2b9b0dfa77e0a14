// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <stdlib.h>
#include <providermux.h>
#include "bridge.h"
*/
import "C"

import (
	"context"
	"unsafe"
)

// Operation names of Call and CallStream (pmx_router_call): the openai Python SDK's resource
// paths, plus provider-specific ones named "<type>.<what>".
const (
	OpChatCompletions      = "chat.completions.create"
	OpCompletions          = "completions.create"
	OpEmbeddings           = "embeddings.create"
	OpImagesGenerate       = "images.generate"
	OpModerations          = "moderations.create"
	OpAudioTranscriptions  = "audio.transcriptions.create"
	OpAudioSpeech          = "audio.speech.create"
	OpRerank               = "rerank"
	OpTokensCount          = "tokens.count"
	OpResponses            = "responses.create"
	OpModelsList           = "models.list"
	OpOpenRouterCredits    = "openrouter.credits"
	OpOpenRouterGeneration = "openrouter.generation"
)

// Call runs one operation by name (OpCompletions, OpImagesGenerate, ...) with its OpenAI
// request as JSON and returns the result JSON (the operation's OpenAI shape plus "provider",
// "attempts", "usage"). Routed, retried, failed over and accounted like chat; a provider type
// without the operation is passed over (ErrUnsupported in its attempt). An unknown operation
// is an *Error with CodeInvalidArgument naming the known ones. Cancelling ctx returns at once
// as for EmbedJSON (the library call finishes in the background).
func (r *Router) Call(ctx context.Context, operation, requestJSON string) (string, error) {
	return r.callOut(ctx, requestJSON, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		op := C.CString(operation)
		defer C.free(unsafe.Pointer(op))
		return C.pmx_router_call(out, ptr, op, arg, cerr)
	})
}

// CallStream streams one operation: onEvent (may be nil) receives each event's JSON on the
// goroutine that called ("start", "delta" with "content", "usage", ...; the terminal "done"
// carries the result, which CallStream also returns). Cancelling ctx stops the stream at its
// next event (ErrCancelled, matching ctx.Err()) and CallStream returns at once.
func (r *Router) CallStream(ctx context.Context, operation, requestJSON string, onEvent func(eventJSON string)) (string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	handle := registerManage(&manageState{ctx: ctx, onEvent: onEvent})
	text, err := r.callOut(ctx, requestJSON, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		defer unregisterManage(handle) // after the last event: the call has returned
		op := C.CString(operation)
		defer C.free(unsafe.Pointer(op))
		return C.pmxgo_call_stream(out, ptr, op, arg, C.uintptr_t(handle), cerr)
	})
	if err != nil {
		if cause := contextEnded(ctx); cause != nil {
			return "", cancelledError(cause)
		}
	}
	return text, err
}
