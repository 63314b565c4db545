// SPDX-License-Identifier: Apache-2.0
// Seeded synthetic classification data and the fit loop shared by the classify Google Benchmarks.
#pragma once

#include <benchmark/benchmark.h>
#include <crmine/core/matrix.hpp>
#include <crmine/core/random.hpp>

#include <cmath>

namespace bench {

/// n rows of p standard-normal features; y from a logistic model with a sine term (seeded).
inline void make_data(Eigen::Index n, Eigen::Index p, std::uint64_t seed, crmine::RowMatrix& X, Eigen::VectorXi& y) {
  crmine::Random rng(seed);
  X.resize(n, p);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double eta = -1.5;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double u1 = rng.uniform() + 1e-300, u2 = rng.uniform();
      X(i, j) = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      if (j % 3 == 0) eta += 0.4 * X(i, j);
    }
    eta += std::sin(2 * X(i, 1));
    y[i] = rng.uniform() < 1 / (1 + std::exp(-eta)) ? 1 : 0;
  }
}

/// Times fitting a fresh Model(options) on state.range(0) rows of 50 features (make_data, seed 42).
template <typename Model, typename Options>
void fit_loop(benchmark::State& state, const Options& options) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  make_data(state.range(0), 50, 42, X, y);
  for (auto _ : state) {
    Model m(options);
    m.fit(X, y);
    benchmark::DoNotOptimize(m.is_fitted());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace bench
