// SPDX-License-Identifier: Apache-2.0
// One mock stream of N words read through providermux.hpp; prints "DELTAS BYTES".
// Built twice by per-delta.sh: -DJSON_CALLBACK reads Router::stream's JSON events with the
// header's scanner (how a reader did it before the typed events), otherwise range-for over
// Router::events (typed views, no JSON).
#include "providermux.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char **argv)
{
    const int words = argc > 1 ? std::atoi(argv[1]) : 1000;
    std::string prompt;
    for (int i = 0; i < words; ++i)
        prompt += "w ";
    providermux::Router router(R"({"providers":[{"name":"m","type":"mock"}]})");
    const std::string request =
        R"({"messages":[{"role":"user","content":)" + providermux::json::quote(prompt) + "}]}";
    std::size_t deltas = 0, bytes = 0;
#ifdef JSON_CALLBACK
    router.stream(request, [&](std::string_view ev) {
        if (providermux::json::string_member(ev, "type") == "delta") {
            ++deltas;
            bytes += providermux::json::string_member(ev, "content").value_or("").size();
        }
    });
#else
    for (const providermux::Event ev : router.events(request))
        if (ev.type() == providermux::EventType::delta) {
            ++deltas;
            bytes += ev.text().size();
        }
#endif
    std::printf("%zu %zu\n", deltas, bytes);
    return 0;
}
