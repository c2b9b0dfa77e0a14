#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pmx_chat.py — one chat completion through libprovidermux, streamed to stdout.

Usage: pmx_chat.py [-c CONFIG] [-m MODEL] [-s SYSTEM] [--no-stream] [PROMPT...]

The same program as examples-c/pmx-chat's one-question mode (the C CLI adds a conversation
mode, model listing and -v). CONFIG defaults to $PMX_CONFIG, else
examples/router.json (relative to the current directory). The prompt is the arguments joined
by spaces, or stdin when there are none. Replies go to stdout; a summary line
"[provider=... model=... latency_ms=... ttft_ms=... prompt_tokens=... completion_tokens=...
total_tokens=...]" goes to stderr. Exit status: 0 done, 1 request failed, 2 usage or config
error, 130 interrupted (Ctrl-C cancels the stream).
"""

import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))

import providermux  # noqa: E402

PROG = "pmx_chat.py"

# Failures of the config itself (as opposed to the request): exit status 2.
CONFIG_CODES = {
    providermux.ERR_INVALID_JSON, providermux.ERR_INVALID_UTF8, providermux.ERR_CONFIG,
    providermux.ERR_ENV_VAR_MISSING, providermux.ERR_UNKNOWN_PROVIDER_TYPE,
    providermux.ERR_DUPLICATE_PROVIDER,
}


def fail(status_name, message, code=1):
    sys.stdout.flush()
    print("%s: error: %s: %s" % (PROG, status_name, message), file=sys.stderr, flush=True)
    return code


def summary(response):
    usage = response.get("usage") or {}

    def num(value):
        try:
            return int(value or 0)
        except (TypeError, ValueError):
            return 0

    return ("[provider=%s model=%s latency_ms=%d ttft_ms=%d prompt_tokens=%d "
            "completion_tokens=%d total_tokens=%d]" % (
                response.get("provider", ""), response.get("model", ""),
                num(response.get("latency_ms")), num(response.get("ttft_ms")),
                num(usage.get("prompt_tokens")), num(usage.get("completion_tokens")),
                num(usage.get("total_tokens"))))


def finish(response):
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(summary(response), file=sys.stderr, flush=True)
    return 0


def run_stream(router, request):
    stream = router.stream(request)
    printed = False    # some reply text went to stdout
    cancelled = False  # Ctrl-C was pressed
    try:
        while True:
            try:
                event = next(stream)
                kind = event.get("type")
                if kind == "delta":
                    content = event.get("content")
                    if content:
                        sys.stdout.write(content)
                        sys.stdout.flush()
                        printed = True
                elif kind == "done":
                    return finish(event.get("response") or {})
            except providermux.ProviderMuxError as err:  # the stream's `error` event, raised
                if printed:
                    sys.stdout.write("\n")  # end the partial reply line
                interrupted = cancelled or err.code == providermux.ERR_CANCELLED
                return fail(err.status_name, err.message, 130 if interrupted else 1)
            except KeyboardInterrupt:
                # Cancel, then wait for the terminal event (an error, PMX_ERR_CANCELLED, unless
                # the stream had just finished); a second Ctrl-C ends the program at once.
                cancelled = True
                stream.cancel()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
    finally:
        stream.close()  # frees the stream (and cancels it if still running)


def run_complete(router, request):
    # pmx_router_complete cannot be cancelled and holds the main thread until it returns: run it
    # on a worker so that Ctrl-C still ends the program at once.
    result = {}

    def work():
        try:
            result["response"] = router.complete(request)
        except BaseException as exc:
            result["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        # The router must not be freed while a blocking call uses it: leave without cleanup.
        sys.stdout.write("\n")
        sys.stdout.flush()
        os._exit(130)
    if "error" in result:
        raise result["error"]
    response = result["response"]
    choices = response.get("choices") or [{}]
    content = ((choices[0] or {}).get("message") or {}).get("content") or ""
    sys.stdout.write(content)
    return finish(response)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="One chat completion through libprovidermux.")
    parser.add_argument("-c", "--config", metavar="CONFIG",
                        help="router config (default: $PMX_CONFIG, else examples/router.json)")
    parser.add_argument("-m", "--model", metavar="MODEL", help="model to request")
    parser.add_argument("-s", "--system", metavar="SYSTEM", help="system message")
    parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    parser.add_argument("prompt", nargs="*", metavar="PROMPT")
    args = parser.parse_args(argv)

    config_path = args.config or os.environ.get("PMX_CONFIG") or os.path.join("examples",
                                                                              "router.json")
    try:
        with open(config_path, "rb") as f:
            config = f.read()
    except OSError as exc:
        return fail("PMX_ERR_CONFIG", "cannot read %s: %s" % (config_path, exc.strerror), 2)

    if args.prompt:
        prompt = " ".join(args.prompt)
    else:
        prompt = sys.stdin.read().rstrip("\r\n")

    messages = []
    if args.system is not None:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": prompt})
    request = {"messages": messages}
    if args.model:
        request["model"] = args.model

    try:
        router = providermux.Router(config)
    except providermux.ProviderMuxError as err:
        return fail(err.status_name, err.message, 2 if err.code in CONFIG_CODES else 1)

    try:
        with router:
            if args.no_stream:
                return run_complete(router, request)
            return run_stream(router, request)
    except providermux.ProviderMuxError as err:
        return fail(err.status_name, err.message)


if __name__ == "__main__":
    # Ctrl-C must reach us even when started with SIGINT ignored (e.g. as a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        status = main()
    except BrokenPipeError:
        # stdout went away (e.g. `| head`): the stream was cancelled on the way out; end as a C
        # program killed by SIGPIPE would, without a traceback.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        status = 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        # Outside a stream (which handles Ctrl-C itself): nothing is left running.
        status = 130
    sys.exit(status)
