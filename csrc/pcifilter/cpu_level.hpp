// SPDX-License-Identifier: Apache-2.0
// Which instruction set the core's vector kernels use: the correlator bank's (portable, AVX2,
// AVX-VNNI, AVX-512 VNNI on 256 or 512 bits), G.711 decoding's and the 16/48 kHz
// decimator's (AVX2, or plain loops).
//
// By default the widest this CPU runs well (cpu_bank_isa). An operator can name another
// with the environment variable PCIFILTER_ISA (one of the names below, read when the first
// detector of the process is built): a CPU that does not run it gets the widest narrower
// one it does (usable_bank_isa). Every level gives the same output bit for bit
// (csrc/tests/test_correlator_bank.cpp, tests/test_cpu_level.py); what changes is speed, and
// the clock of cores where 512-bit multiplies lower it.
#pragma once

#include <array>

namespace pcifilter {

// Narrowest first. avxvnni: the 256-bit VEX form (Intel cores without AVX-512, Alder Lake on,
// Sierra Forest); avx512vnni_ymm: AVX-512 VNNI on 256-bit registers only, for the CPUs whose
// clock drops while 512-bit multiplies run (Skylake-SP to Cooper Lake); avx512vnni: 512-bit.
enum class BankIsa { portable, avx2, avxvnni, avx512vnni_ymm, avx512vnni };
constexpr std::array<BankIsa, 5> kBankIsas = {BankIsa::portable, BankIsa::avx2, BankIsa::avxvnni,
                                              BankIsa::avx512vnni_ymm, BankIsa::avx512vnni};

// Whether this CPU (and its OS) runs the level's instructions.
bool bank_isa_runs(BankIsa isa) noexcept;
// The widest level this CPU runs well, whatever the environment says.
BankIsa cpu_bank_isa() noexcept;
// `isa`, or the widest narrower level this CPU runs.
BankIsa usable_bank_isa(BankIsa isa) noexcept;
// The level asked for: PCIFILTER_ISA when set (before narrowing to what the CPU runs), else
// cpu_bank_isa(). Throws std::invalid_argument when PCIFILTER_ISA names no level.
BankIsa best_bank_isa();
// The level in use: usable_bank_isa(best_bank_isa()), or cpu_bank_isa() when PCIFILTER_ISA
// names no level (for kernels picked as the library loads, G.711 decoding and the
// decimator: building a detector is what reports that error).
BankIsa kernels_isa() noexcept;
const char* bank_isa_name(BankIsa isa) noexcept;

}  // namespace pcifilter
