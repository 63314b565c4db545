// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of LogisticRegression's fit: few features (an uplift or response model on a
// handful of RFM columns) and many, at 1 and 2 threads.
#include <crmine/classify/logistic.hpp>

#include <benchmark/benchmark.h>

#include "synthetic.hpp"

namespace {

/// Args: rows, features, threads. L2 penalty C = 1, standardised inside (the defaults).
void BM_LogisticRegression_fit(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  bench::make_data(state.range(0), state.range(1), 42, X, y);
  crmine::LogisticRegressionOptions o;
  o.n_threads = static_cast<int>(state.range(2));
  int n_iter = 0;
  for (auto _ : state) {
    crmine::LogisticRegression m(o);
    m.fit(X, y);
    n_iter = m.report().n_iter;
    benchmark::DoNotOptimize(m.is_fitted());
  }
  state.counters["newton_iterations"] = n_iter;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LogisticRegression_fit)
    ->ArgsProduct({{350000}, {10}, {1, 2}})
    ->Args({1 << 20, 50, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
