// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the tree models: GradientBoosting and DecisionTree fits, scoring 1M x 50 rows.
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/tree.hpp>

#include <benchmark/benchmark.h>

#include "synthetic.hpp"

namespace {

using bench::make_data;

/// Args: rows, threads. 100 rounds of 31-leaf trees on 50 features.
void BM_GradientBoosting_fit(benchmark::State& state) {
  crmine::GradientBoostingOptions o;
  o.n_threads = static_cast<int>(state.range(1));
  bench::fit_loop<crmine::GradientBoostingClassifier>(state, o);
}
BENCHMARK(BM_GradientBoosting_fit)->ArgsProduct({{1 << 16}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

/// Args: rows scored, threads. 200 trees of 31 leaves fitted on 50,000 rows, as in bench_predict_1m.py.
void BM_GradientBoosting_decision_function(benchmark::State& state) {
  crmine::RowMatrix X, Xs;
  Eigen::VectorXi y, ys;
  make_data(50000, 50, 7, X, y);
  crmine::GradientBoostingOptions o;
  o.n_estimators = 200;
  o.n_threads = static_cast<int>(state.range(1));
  crmine::GradientBoostingClassifier m(o);
  m.fit(X, y);
  make_data(state.range(0), 50, 8, Xs, ys);
  for (auto _ : state) benchmark::DoNotOptimize(m.decision_function(Xs));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GradientBoosting_decision_function)->ArgsProduct({{1 << 20}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

/// Args: rows, threads, max_depth (-1 = unlimited). Gini trees on 50 features; depth 8 with leaves of at
/// least 20 rows is bench_classify.py's setting.
void BM_DecisionTree_fit(benchmark::State& state) {
  crmine::DecisionTreeOptions o;
  o.n_threads = static_cast<int>(state.range(1));
  o.max_depth = static_cast<int>(state.range(2));
  if (o.max_depth > 0) o.min_samples_leaf = 20;
  bench::fit_loop<crmine::DecisionTreeClassifier>(state, o);
}
BENCHMARK(BM_DecisionTree_fit)
    ->ArgsProduct({{1 << 16}, {1, 2}, {-1, 8}})
    ->Args({1 << 20, 1, 8})
    ->Args({1 << 20, 2, 8})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
