// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/cpu_level.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define PCIFILTER_HAVE_X86_LEVELS 1
#endif

namespace pcifilter {

#ifdef PCIFILTER_HAVE_X86_LEVELS
namespace {
// AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (clang 14's __builtin_cpu_supports does not
// know it). The registers' state is the AVX one, which the "avx2" test has checked the OS
// saves.
bool has_avxvnni() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 1, a, b, c, d);
    return ((a >> 4) & 1u) != 0;
}
}  // namespace
#endif

bool bank_isa_runs(BankIsa isa) noexcept {
#ifdef PCIFILTER_HAVE_X86_LEVELS
    __builtin_cpu_init();  // idempotent; needed when this runs in a static initialiser (G.711, decimator)
    const bool avx2 = __builtin_cpu_supports("avx2");
    switch (isa) {
        case BankIsa::portable: return true;
        case BankIsa::avx2: return avx2;
        case BankIsa::avxvnni: return avx2 && has_avxvnni();
        case BankIsa::avx512vnni_ymm:
        case BankIsa::avx512vnni:
            return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
    return false;
#else
    return isa == BankIsa::portable;
#endif
}

BankIsa cpu_bank_isa() noexcept {
#ifdef PCIFILTER_HAVE_X86_LEVELS
    if (bank_isa_runs(BankIsa::avx512vnni)) {
        // 512-bit multiplies lower the whole core's clock on Skylake-SP to Cooper Lake (for
        // every stream and everything else it runs), hardly from Ice Lake on and not on AMD
        // Zen 4. VBMI2 came with Ice Lake (and Zen 4): a CPU without it keeps to 256 bits.
        return __builtin_cpu_supports("avx512vbmi2") ? BankIsa::avx512vnni : BankIsa::avx512vnni_ymm;
    }
#endif
    for (BankIsa isa : {BankIsa::avxvnni, BankIsa::avx2})
        if (bank_isa_runs(isa)) return isa;
    return BankIsa::portable;
}

BankIsa usable_bank_isa(BankIsa isa) noexcept {
    while (!bank_isa_runs(isa)) isa = static_cast<BankIsa>(static_cast<int>(isa) - 1);
    return isa;  // portable always runs
}

namespace {
// PCIFILTER_ISA: false when unset or empty; the level it names in `*isa`. Its value is not
// echoed in the error (an environment is the operator's, and may be long).
bool isa_from_environment(BankIsa* isa) {
    const char* v = std::getenv("PCIFILTER_ISA");
    if (v == nullptr || *v == '\0') return false;
    for (BankIsa level : kBankIsas)
        if (std::strcmp(v, bank_isa_name(level)) == 0) {
            *isa = level;
            return true;
        }
    throw std::invalid_argument(
        "PCIFILTER_ISA must be one of portable, avx2, avxvnni, avx512vnni_ymm, avx512vnni (or unset)");
}
}  // namespace

BankIsa best_bank_isa() {
    // Read once (a process's detectors all use the same level); an error is not kept, so
    // every detector built under a wrong value reports it.
    static const BankIsa chosen = [] {
        BankIsa isa = BankIsa::portable;
        return isa_from_environment(&isa) ? isa : cpu_bank_isa();
    }();
    return chosen;
}

BankIsa kernels_isa() noexcept {
    try {
        return usable_bank_isa(best_bank_isa());
    } catch (const std::invalid_argument&) {
        return cpu_bank_isa();
    }
}

const char* bank_isa_name(BankIsa isa) noexcept {
    switch (isa) {
        case BankIsa::avx512vnni: return "avx512vnni";
        case BankIsa::avx512vnni_ymm: return "avx512vnni_ymm";
        case BankIsa::avxvnni: return "avxvnni";
        case BankIsa::avx2: return "avx2";
        case BankIsa::portable: break;
    }
    return "portable";
}

}  // namespace pcifilter
