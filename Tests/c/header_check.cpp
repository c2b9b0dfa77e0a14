// SPDX-License-Identifier: Apache-2.0
// header_check.cpp — include/providermux.h must compile as C++17 under
// -Wall -Wextra -Wpedantic -Werror, give C linkage, and agree with the loaded library.
#include "providermux.h"
#include "providermux.h" // include guard

#include <cstdint>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<pmx_status, std::int32_t>::value, "pmx_status is int32_t");
static_assert(std::is_standard_layout<pmx_error>::value, "pmx_error is a plain C struct");
static_assert(sizeof(pmx_error::provider) == 64, "pmx_error::provider is 64 bytes");
static_assert(sizeof(pmx_error::message) == 512, "pmx_error::message is 512 bytes");
static_assert(PMX_VERSION_NUMBER ==
                  PMX_VERSION_MAJOR * 10000 + PMX_VERSION_MINOR * 100 + PMX_VERSION_PATCH,
              "version number encoding");
static_assert(PMX_OK == 0 && PMX_ERR_INVALID_ARGUMENT < 0 && PMX_ERR_INTERNAL < 0, "status signs");

// Every function must be usable through a pointer of the declared type (C linkage, exact
// signature).
static const pmx_event_fn event_fn_type_check = nullptr;
static const pmx_log_fn log_fn_type_check = nullptr;

static std::int32_t on_event(const char *, std::size_t, void *) { return 0; }

int main()
{
    int failed = 0;
    int (*version_number)(void) = &pmx_version_number;
    const char *(*status_name)(pmx_status) = &pmx_status_name;
    pmx_status (*router_new)(pmx_router **, const char *, pmx_error *) = &pmx_router_new;
    pmx_status (*stream)(char **, pmx_router *, const char *, pmx_event_fn, void *, pmx_error *) =
        &pmx_router_stream;
    pmx_status (*stream_async)(pmx_stream **, pmx_router *, const char *, pmx_event_fn, void *,
                               pmx_error *) = &pmx_router_stream_async;
    (void)event_fn_type_check;
    (void)log_fn_type_check;
    (void)stream;
    (void)stream_async;

    if (version_number() != PMX_VERSION_NUMBER) {
        std::printf("FAILED: runtime version %d != header %d\n", version_number(), PMX_VERSION_NUMBER);
        failed++;
    }
    if (std::strcmp(pmx_version_string(), PMX_VERSION_STRING) != 0) {
        std::printf("FAILED: runtime version \"%s\" != header \"%s\"\n", pmx_version_string(),
                    PMX_VERSION_STRING);
        failed++;
    }
    if (std::strcmp(status_name(PMX_ERR_TIMEOUT), "PMX_ERR_TIMEOUT") != 0) {
        std::printf("FAILED: pmx_status_name(PMX_ERR_TIMEOUT) = %s\n", status_name(PMX_ERR_TIMEOUT));
        failed++;
    }

    pmx_router *router = nullptr;
    pmx_error err{};
    pmx_status st = router_new(&router, "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}", &err);
    if (st != PMX_OK || router == nullptr) {
        std::printf("FAILED: pmx_router_new: %s: %s\n", pmx_status_name(st), err.message);
        failed++;
    } else {
        char *out = nullptr;
        st = pmx_router_stream(&out, router,
                               "{\"messages\":[{\"role\":\"user\",\"content\":\"c++\"}]}",
                               on_event, nullptr, &err);
        if (st != PMX_OK || out == nullptr) {
            std::printf("FAILED: pmx_router_stream: %s: %s\n", pmx_status_name(st), err.message);
            failed++;
        }
        pmx_string_free(out);
        pmx_router_free(router);
    }
    std::printf("%d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
    return failed ? 1 : 0;
}
