// SPDX-License-Identifier: Apache-2.0
// Stable LSD radix sort of records by a 64-bit key, for the sorts on hot paths (the decision
// tree's presort, preparing baskets for mining).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace crmine::detail {

/// Sorts `a` stably by `key(x)` (a std::uint64_t), least significant byte first, using `tmp` as
/// scratch (resized; contents ignored). Bytes: 256 output streams stay in cache, where wider digits
/// missed it on every scattered store. Only the bytes in which some keys differ are counted and
/// sorted, so keys that vary in one byte (a 0/1 column, short transactions) take one pass, not eight.
template <class T, class Key>
void radix_sort_by_key(std::vector<T>& a, std::vector<T>& tmp, Key key) {
  constexpr int kBits = 8, kPasses = (64 + kBits - 1) / kBits;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  if (a.empty()) return;
  const std::uint64_t first = key(a[0]);
  std::uint64_t diff = 0;
  for (const T& x : a) diff |= key(x) ^ first;
  std::array<int, kPasses> shift{};
  int passes = 0;
  for (int d = 0; d < kPasses; ++d)
    if ((diff >> (kBits * d)) & (kBuckets - 1)) shift[static_cast<std::size_t>(passes++)] = kBits * d;
  std::vector<std::size_t> count(static_cast<std::size_t>(passes) * kBuckets, 0);
  for (const T& x : a)
    for (int d = 0; d < passes; ++d) ++count[static_cast<std::size_t>(d) * kBuckets + ((key(x) >> shift[static_cast<std::size_t>(d)]) & (kBuckets - 1))];
  tmp.resize(a.size());
  for (int d = 0; d < passes; ++d) {
    std::size_t* c = count.data() + static_cast<std::size_t>(d) * kBuckets;
    const int sh = shift[static_cast<std::size_t>(d)];
    std::size_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) sum += std::exchange(c[b], sum);
    for (const T& x : a) tmp[c[(key(x) >> sh) & (kBuckets - 1)]++] = x;
    a.swap(tmp);
  }
}

}  // namespace crmine::detail
