// SPDX-License-Identifier: Apache-2.0
// Seeded random streams: one engine per (seed, purpose, chunk), so results never depend on threads.
#pragma once

#include <cstdint>
#include <limits>

namespace crmine {

/// SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Derives an independent seed for sub-stream `index` of `seed` (a restart, a round, a data chunk).
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  return mix64(mix64(seed) ^ mix64(index + 0x632BE59BD9B4E019ULL));
}

/// xoshiro256** (Blackman & Vigna 2018); a UniformRandomBitGenerator with a fixed, portable output
/// sequence (std::mt19937 is portable too, but std distributions are not, so we draw ourselves).
class Random {
 public:
  using result_type = std::uint64_t;

  explicit Random(std::uint64_t seed = 0) noexcept {
    std::uint64_t z = seed;
    for (auto& s : state_) {
      z += 0x9E3779B97F4A7C15ULL;
      s = mix64(z);
    }
  }
  /// The stream for chunk/restart `index` of `seed`.
  Random(std::uint64_t seed, std::uint64_t index) noexcept : Random(derive_seed(seed, index)) {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>((*this)()) * n) >> 64);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace crmine
