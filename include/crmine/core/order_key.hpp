// SPDX-License-Identifier: Apache-2.0
// Doubles as unsigned integers in the same order, for radix sorts, hashing and integer compares.
#pragma once

#include <bit>
#include <cstdint>

namespace crmine {

/// The bits of a double (not NaN) flipped so that unsigned order is the double's order, -0.0 just
/// below +0.0; from_order_bits inverts it exactly.
constexpr std::uint64_t order_bits(double v) noexcept {
  const auto u = std::bit_cast<std::uint64_t>(v);
  return (u >> 63) ? ~u : u | (std::uint64_t{1} << 63);
}

constexpr double from_order_bits(std::uint64_t key) noexcept {
  return std::bit_cast<double>((key >> 63) ? key & ~(std::uint64_t{1} << 63) : ~key);
}

/// order_bits with -0.0 folded onto +0.0 first: equal doubles get equal keys, so a > b <=> key(a) >
/// key(b) for non-NaN values.
constexpr std::uint64_t order_key(double v) noexcept { return order_bits(v + 0.0); }

}  // namespace crmine
