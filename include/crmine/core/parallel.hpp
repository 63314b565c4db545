// SPDX-License-Identifier: Apache-2.0
// Thread-count resolution, exception transport out of OpenMP regions, stable parallel scatter offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace crmine::detail {

/// The number of threads a region should use: `n_jobs` > 0 as given, otherwise all cores.
inline int resolve_threads(int n_jobs) {
  if (n_jobs > 0) return n_jobs;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// Keeps the first exception thrown inside a parallel region so it can be rethrown outside it:
/// an exception escaping an OpenMP region terminates the process.
class ExceptionCollector {
 public:
  template <typename Fn>
  void run(Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr first_;
};

/// Turns per-source bucket counts (`counts[s * n_buckets + b]`: the rows of bucket b among source
/// s's rows, sources being consecutive ranges of rows, such as threads' shares or fixed blocks)
/// into scatter offsets ordered (bucket, source): source s's rows of a bucket follow source
/// s-1's, so a scatter through them is stable. `begin_of[b]` becomes where bucket b starts
/// (n_buckets + 1 entries; the last is the total).
template <typename Count>
void stable_scatter_offsets(std::vector<Count>& counts, std::size_t n_buckets, std::size_t n_sources,
                            std::vector<Count>& begin_of) {
  Count offset = 0;
  for (std::size_t b = 0; b < n_buckets; ++b) {
    begin_of[b] = offset;
    for (std::size_t s = 0; s < n_sources; ++s) {
      Count& c = counts[s * n_buckets + b];
      const Count size = c;
      c = offset;
      offset += size;
    }
  }
  begin_of[n_buckets] = offset;
}

}  // namespace crmine::detail
