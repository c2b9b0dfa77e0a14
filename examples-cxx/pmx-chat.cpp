// SPDX-License-Identifier: Apache-2.0
// pmx-chat-cxx — one streamed chat completion through the C++ wrapper (providermux.hpp).
//
// Usage: pmx-chat-cxx CONFIG PROMPT...
//
// CONFIG is a router config file such as examples/router.json; the prompt is the remaining
// arguments joined by spaces. The reply goes to stdout as it arrives, then one summary line to
// stderr:  [provider=NAME latency_ms=N]
//
// Exit status: 0 done, 1 the request failed, 2 usage or config error, 130 interrupted (Ctrl-C
// cancels the stream at the next event).
//
// Build: c++ -std=c++17 pmx-chat.cpp $(pkg-config --cflags --libs providermux)
//    or: find_package(providermux) + target_link_libraries(app PRIVATE providermux::providermux)
#include "providermux.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include <pthread.h>
#include <signal.h>

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_sigint(int) { g_interrupted = 1; }

bool is_config_error(int status)
{
    return status == PMX_ERR_INVALID_JSON || status == PMX_ERR_INVALID_UTF8 ||
           status == PMX_ERR_CONFIG || status == PMX_ERR_ENV_VAR_MISSING ||
           status == PMX_ERR_UNKNOWN_PROVIDER_TYPE || status == PMX_ERR_DUPLICATE_PROVIDER;
}

int fail(const std::string &what, int exit_code)
{
    std::cout.flush();
    std::cerr << "pmx-chat-cxx: error: " << what << std::endl;
    return exit_code;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::cerr << "usage: pmx-chat-cxx CONFIG PROMPT...\n"
                  << "Streams one answer through libprovidermux " << providermux::version() << ".\n";
        return 2;
    }

    std::ifstream file(argv[1], std::ios::binary);
    std::ostringstream config;
    if (!file || !(config << file.rdbuf()))
        return fail(std::string("PMX_ERR_CONFIG: cannot read ") + argv[1], 2);

    std::string prompt;
    for (int i = 2; i < argc; ++i) {
        if (i > 2)
            prompt += ' ';
        prompt += argv[i];
    }
    const std::string request =
        R"({"messages":[{"role":"user","content":)" + providermux::json::quote(prompt) + "}]}";

    // Ctrl-C only sets a flag; the next event sees it and cancels. The router's I/O thread is
    // created with SIGINT blocked so that the signal goes to this thread.
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigset_t sigint_only, previous;
    sigemptyset(&sigint_only);
    sigaddset(&sigint_only, SIGINT);

    try {
        pthread_sigmask(SIG_BLOCK, &sigint_only, &previous);
        providermux::Router router = [&] {
            try {
                providermux::Router r(config.str());
                pthread_sigmask(SIG_SETMASK, &previous, nullptr);
                return r;
            } catch (...) {
                pthread_sigmask(SIG_SETMASK, &previous, nullptr);
                throw;
            }
        }();

        bool printed = false;
        try {
            // Typed events pulled in batches: no JSON is parsed per delta.
            providermux::EventStream events = router.events(request);
            for (const providermux::Event ev : events) {
                if (ev.type() == providermux::EventType::delta && !ev.text().empty()) {
                    std::cout << ev.text() << std::flush;
                    printed = true;
                }
                if (g_interrupted)
                    events.cancel(); // idempotent; the terminal event (PMX_ERR_CANCELLED) follows
            }
            const std::string response = events.result(); // throws the ERROR event's Error
            std::cout << std::endl;
            std::cerr << "[provider="
                      << providermux::json::string_member(response, "provider").value_or("")
                      << " latency_ms=" << providermux::json::int_member(response, "latency_ms").value_or(0)
                      << "]" << std::endl;
            return 0;
        } catch (const providermux::Error &e) {
            if (printed)
                std::cout << std::endl; // end the partial reply line
            return fail(e.what(), (e.status() == PMX_ERR_CANCELLED || g_interrupted) ? 130 : 1);
        }
    } catch (const providermux::Error &e) {
        return fail(e.what(), is_config_error(e.status()) ? 2 : 1);
    }
}
