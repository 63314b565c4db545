// SPDX-License-Identifier: Apache-2.0
// Eclat with diffsets (Zaki & Gouda 2003): the first level intersects tidsets, every deeper
// level stores d(PXY) = d(PY) \ d(PX), so support(PXY) = support(PX) - weight(d(PXY)).
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/rules/eclat.hpp>

#include <algorithm>
#include <deque>

namespace crmine {
namespace {

using detail::Budget;
using detail::Sink;
constexpr const char* kCaller = "eclat";

/// Members of one equivalence class: item (global rank), support and diffset w.r.t. the prefix.
struct ClassLevel {
  std::vector<std::int32_t> item;
  std::vector<std::int64_t> support;
  std::vector<std::int64_t> offset{0};
  std::vector<std::int32_t> tids;
  void clear() {
    item.clear();
    support.clear();
    offset.assign(1, 0);
    tids.clear();
  }
  std::size_t size() const { return item.size(); }
};

/// Appends a \ b (both ascending) to out; returns the summed weight of the appended tids.
std::int64_t difference(const std::int32_t* a, std::size_t na, const std::int32_t* b, std::size_t nb,
                        const std::int64_t* weight, std::vector<std::int32_t>& out) {
  std::int64_t w = 0;
  std::size_t j = 0;
  const bool gallop = nb > 16 * na;
  for (std::size_t i = 0; i < na; ++i) {
    const std::int32_t x = a[i];
    if (gallop) {
      j = static_cast<std::size_t>(std::lower_bound(b + j, b + nb, x) - b);
    } else {
      while (j < nb && b[j] < x) ++j;
    }
    if (j == nb || b[j] != x) {
      out.push_back(x);
      w += weight[x];
    }
  }
  return w;
}

/// Appends a n b (both ascending) to out; returns the summed weight of the appended tids.
std::int64_t intersection(const std::int32_t* a, std::size_t na, const std::int32_t* b, std::size_t nb,
                          const std::int64_t* weight, std::vector<std::int32_t>& out) {
  if (na > nb) return intersection(b, nb, a, na, weight, out);
  std::int64_t w = 0;
  std::size_t j = 0;
  const bool gallop = nb > 16 * na;
  for (std::size_t i = 0; i < na && j < nb; ++i) {
    const std::int32_t x = a[i];
    if (gallop) {
      j = static_cast<std::size_t>(std::lower_bound(b + j, b + nb, x) - b);
    } else {
      while (j < nb && b[j] < x) ++j;
    }
    if (j < nb && b[j] == x) {
      out.push_back(x);
      w += weight[x];
    }
  }
  return w;
}

struct Miner {
  const std::int64_t* weight;
  std::int64_t min_count;
  std::int32_t max_len;
  std::deque<ClassLevel> levels;  // references stay valid as it grows
  bool diffsets = true;            // mode of the current top-level class (tidsets when sparse)
  std::vector<std::int32_t> prefix;

  ClassLevel& level(std::size_t d) {
    if (levels.size() <= d) levels.resize(d + 1);
    return levels[d];
  }

  /// Mines the class at depth d (its members extend prefix[0..d)).
  void mine(std::size_t d, Sink& sink) {
    const ClassLevel& cls = levels[d];
    for (std::size_t p = 0; p < cls.size(); ++p) {
      prefix[d] = cls.item[p];
      sink.emit(prefix.data(), static_cast<std::int32_t>(d + 1), cls.support[p]);
      if ((max_len != 0 && static_cast<std::int32_t>(d + 1) >= max_len) || p + 1 == cls.size()) continue;
      ClassLevel& next = level(d + 1);
      const ClassLevel& c = cls;
      next.clear();
      const auto dp = static_cast<std::size_t>(c.offset[p]);
      const auto np = static_cast<std::size_t>(c.offset[p + 1]) - dp;
      for (std::size_t q = p + 1; q < c.size(); ++q) {
        const auto dq = static_cast<std::size_t>(c.offset[q]);
        const auto nq = static_cast<std::size_t>(c.offset[q + 1]) - dq;
        const std::size_t mark = next.tids.size();
        const std::int64_t sup =
            diffsets ? c.support[p] - difference(c.tids.data() + dq, nq, c.tids.data() + dp, np, weight, next.tids)
                     : intersection(c.tids.data() + dp, np, c.tids.data() + dq, nq, weight, next.tids);
        if (sup >= min_count) {
          next.item.push_back(c.item[q]);
          next.support.push_back(sup);
          next.offset.push_back(static_cast<std::int64_t>(next.tids.size()));
        } else {
          next.tids.resize(mark);
        }
      }
      if (next.size() > 0) mine(d + 1, sink);
    }
  }
};


/// Mines a prepared database: one task per equivalence class of a first-level rank, parallel.
std::vector<Sink> eclat_core(const detail::Prepared& prep, const ItemsetOptions& options, Budget& budget) {
  const std::int32_t n_freq = prep.n_frequent();
  // Vertical layout: tidsets per rank over the merged transactions, ascending tids.
  std::vector<std::int64_t> toff(static_cast<std::size_t>(n_freq) + 1, 0);
  for (const std::int32_t r : prep.items) ++toff[static_cast<std::size_t>(r) + 1];
  for (std::size_t r = 0; r < static_cast<std::size_t>(n_freq); ++r) toff[r + 1] += toff[r];
  std::vector<std::int32_t> tids(prep.items.size());
  {
    std::vector<std::int64_t> fill(toff.begin(), toff.end() - 1);
    for (std::int64_t t = 0; t < prep.n_transactions(); ++t)
      for (std::int64_t k = prep.indptr[static_cast<std::size_t>(t)]; k < prep.indptr[static_cast<std::size_t>(t) + 1]; ++k)
        tids[static_cast<std::size_t>(fill[static_cast<std::size_t>(prep.items[static_cast<std::size_t>(k)])]++)] =
            static_cast<std::int32_t>(t);
  }
  const auto tid_bytes = static_cast<std::int64_t>(tids.size() * 4 + toff.size() * 8);
  budget.charge(0, tid_bytes, kCaller);
  std::vector<Sink> sinks(static_cast<std::size_t>(n_freq));
  for (auto& s : sinks) s.bind(&budget, kCaller);

  const int threads = detail::mining_threads(options.n_threads, static_cast<std::int64_t>(prep.items.size()));
  detail::ExceptionCollector errors;
#pragma omp parallel num_threads(threads)
  {
    Miner miner{prep.weight.data(), prep.min_count, options.max_len, {}, true, {}};
    miner.prefix.resize(static_cast<std::size_t>(n_freq) + 1);
    std::vector<std::int64_t> pair(static_cast<std::size_t>(n_freq), 0);
    std::int64_t charged = 0;
    // The class of rank a holds the more frequent ranks b < a; d(ab) = t(a) \ t(b) is small.
#pragma omp for schedule(dynamic, 1)
    for (std::int32_t i = 0; i < n_freq; ++i) {
      const std::int32_t a = n_freq - 1 - i;
      if (budget.stopped()) continue;
      errors.run([&] {
        Sink& sink = sinks[static_cast<std::size_t>(a)];
        miner.prefix[0] = a;
        sink.emit(miner.prefix.data(), 1, prep.support[static_cast<std::size_t>(a)]);
        if (options.max_len != 1 && a > 0) {
          ClassLevel& cls = miner.level(1);
          cls.clear();
          const std::int32_t* ta = tids.data() + toff[static_cast<std::size_t>(a)];
          const auto na = static_cast<std::size_t>(toff[static_cast<std::size_t>(a) + 1] - toff[static_cast<std::size_t>(a)]);
          // Pair supports first, horizontally over a's transactions (cost: sum of their
          // lengths), so diffsets are only built for the pairs that are frequent.
          std::fill(pair.begin(), pair.begin() + a, 0);
          std::int64_t sum_pairs = 0, n_frequent_pairs = 0;
          for (std::size_t u = 0; u < na; ++u) {
            const auto t = static_cast<std::size_t>(ta[u]);
            const std::int64_t w = prep.weight[t];
            for (std::int64_t k = prep.indptr[t]; k < prep.indptr[t + 1]; ++k) {
              const std::int32_t b = prep.items[static_cast<std::size_t>(k)];
              if (b >= a) break;  // ranks ascend within a transaction
              pair[static_cast<std::size_t>(b)] += w;
            }
          }
          for (std::int32_t b = 0; b < a; ++b)
            if (pair[static_cast<std::size_t>(b)] >= prep.min_count) {
              sum_pairs += pair[static_cast<std::size_t>(b)];
              ++n_frequent_pairs;
            }
          // Diffsets (Zaki & Gouda) pay off on dense classes, tidsets on sparse ones: pick the
          // representation whose first level is smaller (weights approximate set sizes).
          miner.diffsets = sum_pairs * 2 > n_frequent_pairs * prep.support[static_cast<std::size_t>(a)];
          for (std::int32_t b = a - 1; b >= 0; --b) {
            if (pair[static_cast<std::size_t>(b)] < prep.min_count) continue;
            const std::int32_t* tb = tids.data() + toff[static_cast<std::size_t>(b)];
            const auto nb = static_cast<std::size_t>(toff[static_cast<std::size_t>(b) + 1] - toff[static_cast<std::size_t>(b)]);
            if (miner.diffsets) difference(ta, na, tb, nb, prep.weight.data(), cls.tids);
            else intersection(ta, na, tb, nb, prep.weight.data(), cls.tids);
            cls.item.push_back(b);
            cls.support.push_back(pair[static_cast<std::size_t>(b)]);
            cls.offset.push_back(static_cast<std::int64_t>(cls.tids.size()));
          }
          if (cls.size() > 0) miner.mine(1, sink);
        }
        sink.flush();
        std::int64_t bytes = 0;
        for (const auto& l : miner.levels) bytes += static_cast<std::int64_t>(l.tids.capacity() * 4 + l.item.capacity() * 28);
        if (bytes > charged) {
          budget.charge(0, bytes - charged, kCaller);
          charged = bytes;
        }
      });
    }
    budget.release(charged);
  }
  errors.rethrow();
  budget.release(tid_bytes);
  return sinks;
}

}  // namespace

Itemsets eclat(const BasketView& baskets, const ItemsetOptions& options) {
  return detail::mine_with(baskets, options, &eclat_core, kCaller);
}

}  // namespace crmine
