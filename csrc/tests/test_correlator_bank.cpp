// SPDX-License-Identifier: Apache-2.0
// CorrelatorBank: the kernels of every instruction set this CPU runs (portable, AVX2, AVX-VNNI,
// AVX-512 VNNI on 256-bit registers and on 512-bit ones), and those picked for it by default, give exactly the integer sums of the basis
// written out, for random, full-scale and extreme sub-blocks, read
// both in place (exact_kernel) and from the bank's padded buffer (kernel); the window powers
// and their strongest row and column are the scalar ones, ties included; and the fused pass
// (block_window) gives the same sub-blocks and window powers as the steps written out, over
// more sub-blocks than the phase table's period, one sub-block at a time and four at a time
// (block_windows4).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <random>
#include <vector>

#include "check.hpp"
#include "pcifilter/correlator_bank.hpp"
#include "pcifilter/dtmf_detector.hpp"

using namespace pcifilter;

namespace {

void reference(const BankTables& t, const std::int16_t* x, std::int32_t* out, std::uint64_t* energy) {
    std::uint64_t e = 0;
    for (int i = 0; i < t.sub_block; ++i) e += static_cast<std::uint64_t>(std::int64_t(x[i]) * x[i]);
    *energy = e;
    for (int k = 0; k < kBankLanes; ++k) {
        std::int64_t acc = 0;
        for (int i = 0; i < t.sub_block; ++i)
            acc += std::int64_t(x[i]) * t.basis[static_cast<std::size_t>(k * t.padded + i)];
        CHECK(acc >= INT32_MIN && acc <= INT32_MAX);  // the bound the kernels rely on
        out[k] = static_cast<std::int32_t>(acc);
    }
}

void check_tables(const BankTables& t, std::mt19937& rng) {
    std::uniform_int_distribution<int> any(-32768, 32767), pick(0, 3);
    // Room for the padded kernel's over-read and for every start alignment.
    std::vector<std::int16_t> buf(static_cast<std::size_t>(t.padded) + 64, 0);
    for (int trial = 0; trial < 4000; ++trial) {
        const int offset = trial % 16;
        std::int16_t* x = buf.data() + offset;
        const int kind = pick(rng);
        for (int i = 0; i < t.sub_block; ++i) {
            if (kind == 0) x[i] = static_cast<std::int16_t>(any(rng));
            else if (kind == 1) x[i] = (i & 1) ? 32767 : -32768;  // full-scale square
            else if (kind == 2) x[i] = -32768;
            else x[i] = static_cast<std::int16_t>(any(rng) / 256);
        }
        std::int32_t want[kBankLanes], got[kBankLanes];
        std::uint64_t e_want = 0, e_got = 0;
        reference(t, x, want, &e_want);
        t.exact_kernel(t, x, got, &e_got);
        CHECK(e_got == e_want);
        for (int k = 0; k < kBankLanes; ++k) CHECK(got[k] == want[k]);
        // The padded kernel reads zeros past the sub-block, as the bank's buffer holds.
        std::vector<std::int16_t> padded(x, x + t.sub_block);
        padded.resize(static_cast<std::size_t>(t.padded), 0);
        t.kernel(t, padded.data(), got, &e_got);
        CHECK(e_got == e_want);
        for (int k = 0; k < kBankLanes; ++k) CHECK(got[k] == want[k]);
    }
}

void check_powers3(const BankTables& t, std::mt19937& rng) {
    std::uniform_real_distribution<float> any(-1e5f, 1e5f);
    std::uniform_int_distribution<int> pick(0, 7);
    for (int trial = 0; trial < 20000; ++trial) {
        float s[3][kBankLanes];
        for (auto& sub : s)
            for (float& v : sub) v = any(rng);
        if (trial % 3 == 0) {  // ties: a second bin with the same lanes as the first
            const int a = pick(rng), b = pick(rng);
            for (auto& sub : s) {
                sub[2 * b] = sub[2 * a];
                sub[2 * b + 1] = sub[2 * a + 1];
            }
        }
        if (trial % 7 == 0)
            for (auto& sub : s)
                for (float& v : sub) v = 0.0f;  // all equal: the first of each group
        float want[kBankMaxFreqs], got[kBankMaxFreqs];
        int want_low = 0, want_high = 4;
        for (int f = 0; f < kBankMaxFreqs; ++f) {
            const float re = s[0][2 * f] + s[1][2 * f] + s[2][2 * f];
            const float im = s[0][2 * f + 1] + s[1][2 * f + 1] + s[2][2 * f + 1];
            want[f] = re * re + im * im;
        }
        for (int f = 1; f < 4; ++f)
            if (want[f] > want[want_low]) want_low = f;
        for (int f = 5; f < 8; ++f)
            if (want[f] > want[want_high]) want_high = f;
        const WindowPeaks peak = t.powers3(s[0], s[1], s[2], got);
        for (int f = 0; f < kBankMaxFreqs; ++f) CHECK(got[f] == want[f]);
        CHECK(peak.low == want_low);
        CHECK(peak.high == want_high);
        CHECK(peak.low_q == want[want_low]);
        CHECK(peak.high_q == want[want_high]);
    }
}

void check_block_window(const std::shared_ptr<const BankTables>& tables, std::mt19937& rng) {
    const BankTables& t = *tables;
    CorrelatorBank bank(tables, false);
    std::uniform_int_distribution<int> any(-32768, 32767);
    std::vector<std::int16_t> x(static_cast<std::size_t>(t.sub_block));
    SubBlock ring[3] = {};  // the window's first two sub-blocks and the new one
    const int blocks = 2 * t.period + 37;
    std::vector<std::int16_t> all;  // every sub-block's samples, for block_windows4 below
    std::vector<SubBlock> subs;
    std::vector<float> powers;
    std::vector<WindowPeaks> peaks;
    for (int b = 0; b < blocks; ++b) {
        for (auto& v : x) v = static_cast<std::int16_t>(b % 50 == 7 ? -32768 : any(rng) >> (b % 9));
        all.insert(all.end(), x.begin(), x.end());
        // Written out: the sums, rotated onto the absolute phase of sub-block b, then the
        // window (first + second) + new.
        std::int32_t acc[kBankLanes];
        std::uint64_t energy = 0;
        reference(t, x.data(), acc, &energy);
        SubBlock want;
        want.energy = static_cast<float>(energy);
        const float* a = t.rot_a.data() + static_cast<std::size_t>(b % t.period) * kBankLanes;
        const float* c = t.rot_b.data() + static_cast<std::size_t>(b % t.period) * kBankLanes;
        auto* w = reinterpret_cast<float*>(want.corr.data());
        for (int k = 0; k < kBankLanes; k += 2) {
            const float re = static_cast<float>(acc[k]), im = static_cast<float>(acc[k + 1]);
            w[k] = re * a[k] + im * c[k];
            w[k + 1] = im * a[k + 1] + re * c[k + 1];
        }
        float want_q[kBankMaxFreqs];
        const auto* f0 = reinterpret_cast<const float*>(ring[0].corr.data());
        const auto* f1 = reinterpret_cast<const float*>(ring[1].corr.data());
        for (int f = 0; f < kBankMaxFreqs; ++f) {
            const float re = f0[2 * f] + f1[2 * f] + w[2 * f];
            const float im = f0[2 * f + 1] + f1[2 * f + 1] + w[2 * f + 1];
            want_q[f] = re * re + im * im;
        }
        float q[kBankMaxFreqs];
        const WindowPeaks peak = bank.block_window(x.data(), ring[0], ring[1], &ring[2], q);
        CHECK(ring[2].energy == want.energy);
        for (int k = 0; k < kBankLanes; ++k)
            CHECK(reinterpret_cast<const float*>(ring[2].corr.data())[k] == w[k]);
        for (int f = 0; f < kBankMaxFreqs; ++f) CHECK(q[f] == want_q[f]);
        CHECK(peak.low_q == q[peak.low] && peak.high_q == q[peak.high]);
        for (int f = 0; f < 4; ++f) CHECK(q[f] <= q[peak.low]);
        for (int f = 4; f < 8; ++f) CHECK(q[f] <= q[peak.high]);
        subs.push_back(ring[2]);
        powers.insert(powers.end(), q, q + kBankMaxFreqs);
        peaks.push_back(peak);
        ring[0] = ring[1];
        ring[1] = ring[2];
    }
    CHECK(bank.blocks_done() == blocks);
    // Four sub-blocks at a time: the same sub-blocks, powers and peaks.
    CorrelatorBank bank4(tables, false);
    SubBlock prev[2] = {};
    for (int b = 0; b + 4 <= blocks; b += 4) {
        SubBlock out[4];
        WindowPeaks pk[4];
        float q4[4 * kBankMaxFreqs];
        bank4.block_windows4(all.data() + static_cast<std::size_t>(b) * t.sub_block, prev[0], prev[1],
                             out, pk, q4);
        for (int k = 0; k < 4; ++k) {
            const auto i = static_cast<std::size_t>(b + k);
            CHECK(std::memcmp(&out[k], &subs[i], sizeof(SubBlock)) == 0);
            CHECK(std::memcmp(q4 + kBankMaxFreqs * k, powers.data() + kBankMaxFreqs * i,
                              kBankMaxFreqs * sizeof(float)) == 0);
            CHECK(pk[k].low == peaks[i].low && pk[k].high == peaks[i].high);
            CHECK(pk[k].low_q == peaks[i].low_q && pk[k].high_q == peaks[i].high_q);
        }
        prev[0] = out[2];
        prev[1] = out[3];
    }
    CHECK(bank4.blocks_done() == blocks / 4 * 4);
    // All bins equal (silence): the first of each group, as the scalar search has it.
    std::fill(x.begin(), x.end(), std::int16_t{0});
    const SubBlock silent{};
    float q[kBankMaxFreqs];
    const WindowPeaks peak = bank.block_window(x.data(), silent, silent, &ring[2], q);
    CHECK(peak.low == 0 && peak.high == 4 && peak.low_q == 0.0f && peak.high_q == 0.0f);
}

}  // namespace

int main() {
    std::mt19937 rng(1234);
    CHECK(dtmf_bank_tables()->isa == usable_bank_isa(best_bank_isa()));
    std::printf("kernels in use: %s\n", bank_isa_name(dtmf_bank_tables()->isa));
    const std::vector<double> dtmf(DtmfDetector::kFreqs.begin(), DtmfDetector::kFreqs.end());
    for (BankIsa isa : kBankIsas) {
        if (!bank_isa_runs(isa)) continue;
        std::printf("checked: %s\n", bank_isa_name(isa));
        const auto tables =
            std::make_shared<const BankTables>(dtmf, DtmfDetector::kSubBlock, 8000.0, isa);
        CHECK(tables->isa == isa);
        check_tables(*tables, rng);  // 40-sample sub-blocks, 8 frequencies
        check_powers3(*tables, rng);
        check_block_window(tables, rng);
        check_tables(BankTables({1100.0, 2100.0}, 64, 8000.0, isa), rng);
        check_tables(BankTables({440.0, 350.0, 480.0}, 24, 8000.0, isa), rng);
    }
    return CHECK_DONE();
}
