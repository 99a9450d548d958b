// SPDX-License-Identifier: Apache-2.0
// A minimal check macro for the core's test programs (no framework dependency).
#pragma once
#include <cstdio>
#include <cstdlib>

inline int g_failures = 0;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++g_failures;                                                        \
        }                                                                        \
    } while (0)
#define CHECK_DONE() (std::printf(g_failures ? "FAILED (%d)\n" : "ok\n", g_failures), g_failures ? 1 : 0)
