// SPDX-License-Identifier: Apache-2.0
// Level conventions shared by every block.
//
// 0 dBm0 is the power of a sine whose peak is 10^(-3.14/20) of full scale (32768), as in
// ITU-T G.711 (the A-law/µ-law maximum sine is +3.14/+3.17 dBm0) and spandsp. "Power" in
// this code base is mean square in int16 units, so a sine of amplitude A has power A²/2.
#pragma once

#include <cmath>

namespace pcifilter {

constexpr double kDbm0MaxSine = 3.14;

inline double dbm0_to_power(double dbm0) {
    const double amplitude = 32768.0 * std::pow(10.0, (dbm0 - kDbm0MaxSine) / 20.0);
    return amplitude * amplitude / 2.0;
}

inline double power_to_dbm0(double power) {
    if (power <= 0.0) return -200.0;
    return 10.0 * std::log10(power / dbm0_to_power(0.0));
}

inline double dbm0_to_amplitude(double dbm0) { return std::sqrt(2.0 * dbm0_to_power(dbm0)); }

}  // namespace pcifilter
