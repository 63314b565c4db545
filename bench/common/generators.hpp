// SPDX-License-Identifier: Apache-2.0
// Seeded synthetic transaction logs for benchmarks: time-ordered rows, customers in random order.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace crmine::bench {

/// A log of `rows` rows over `customers` customers (ids 0..customers-1 in random order) and
/// `days` days, rows in time order as a real log is; gamma-distributed amounts.
struct SyntheticLog {
  std::vector<std::int64_t> customer, time;
  std::vector<double> amount;
};

inline SyntheticLog make_log(std::int64_t rows, std::int64_t customers, std::int64_t days, std::uint64_t seed) {
  SyntheticLog log;
  log.customer.resize(static_cast<std::size_t>(rows));
  log.time.resize(static_cast<std::size_t>(rows));
  log.amount.resize(static_cast<std::size_t>(rows));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, customers - 1);
  std::gamma_distribution<double> spend(2.0, 25.0);
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto r = static_cast<std::size_t>(i);
    log.customer[r] = pick(rng);
    log.time[r] = 19000 + i * days / rows;
    log.amount[r] = spend(rng);
  }
  return log;
}

}  // namespace crmine::bench
