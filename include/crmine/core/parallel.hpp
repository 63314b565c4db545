// SPDX-License-Identifier: Apache-2.0
// Thread-count resolution and exception transport out of OpenMP regions.
#pragma once

#include <exception>
#include <mutex>

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

}  // namespace crmine::detail
