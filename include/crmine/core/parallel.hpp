// SPDX-License-Identifier: Apache-2.0
// Thread-count resolution, exception transport out of OpenMP regions, stable parallel scatter offsets.
#pragma once

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

/// Turns per-thread bucket counts (`counts[t * n_buckets + b]`, from each thread's contiguous
/// share of the rows) into scatter offsets ordered (bucket, thread): thread t's rows of a bucket
/// follow thread t-1's, so a scatter through them is stable. `begin_of[b]` becomes where bucket b
/// starts (n_buckets + 1 entries; the last is the total).
inline void stable_scatter_offsets(std::vector<std::int64_t>& counts, std::size_t n_buckets, int threads,
                                   std::vector<std::int64_t>& begin_of) {
  std::int64_t offset = 0;
  for (std::size_t b = 0; b < n_buckets; ++b) {
    begin_of[b] = offset;
    for (int t = 0; t < threads; ++t) {
      std::int64_t& c = counts[static_cast<std::size_t>(t) * n_buckets + b];
      const std::int64_t size = c;
      c = offset;
      offset += size;
    }
  }
  begin_of[n_buckets] = offset;
}

}  // namespace crmine::detail
