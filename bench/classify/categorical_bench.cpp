// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of native categorical splits: GradientBoosting and DecisionTree on a table with
// three category columns (30, 100 and 250 levels) and 10 numeric ones, against the same table one-hot.
#include <benchmark/benchmark.h>
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <cmath>

namespace {

constexpr int kLevels[3] = {30, 100, 250};

/// Codes table (3 code columns, then 10 numeric) when `one_hot` is false, else the same with each code
/// column replaced by its 380 indicators in total; y from hidden per-level effects (seeded).
void make_table(Eigen::Index n, bool one_hot, crmine::RowMatrix& X, Eigen::VectorXi& y) {
  crmine::Random rng(7);
  std::vector<double> effect;
  for (const int k : kLevels)
    for (int v = 0; v < k; ++v) effect.push_back(std::sin(13.0 * v + k));
  const Eigen::Index width = one_hot ? 380 + 10 : 13;
  X = crmine::RowMatrix::Zero(n, width);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double eta = -0.5;
    int base = 0;
    for (int c = 0; c < 3; ++c) {
      const int v = static_cast<int>(rng.below(static_cast<std::uint64_t>(kLevels[c])));
      eta += effect[static_cast<std::size_t>(base + v)];
      if (one_hot) X(i, base + v) = 1.0;
      else X(i, c) = v;
      base += kLevels[c];
    }
    for (int j = 0; j < 10; ++j) {
      const double x = rng.uniform() * 2 - 1;
      X(i, width - 10 + j) = x;
      eta += j < 5 ? 0.5 * x : 0.0;
    }
    y[i] = rng.uniform() < 1 / (1 + std::exp(-eta)) ? 1 : 0;
  }
}

/// Arguments: rows, native (1) or one-hot (0).
void BM_GradientBoosting_categorical_fit(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  const bool native = state.range(1) != 0;
  make_table(state.range(0), !native, X, y);
  crmine::GradientBoostingOptions o;
  o.n_estimators = 100;
  o.n_threads = 2;
  if (native) o.categorical_features = {0, 1, 2};
  for (auto _ : state) {
    crmine::GradientBoostingClassifier m(o);
    m.fit(X, y);
    benchmark::DoNotOptimize(m.n_trees());
  }
}
BENCHMARK(BM_GradientBoosting_categorical_fit)->ArgsProduct({{1 << 17}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DecisionTree_categorical_fit(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  const bool native = state.range(1) != 0;
  make_table(state.range(0), !native, X, y);
  crmine::DecisionTreeOptions o;
  o.max_depth = 8;
  o.min_samples_leaf = 20;
  o.n_threads = 2;
  if (native) o.categorical_features = {0, 1, 2};
  for (auto _ : state) {
    crmine::DecisionTreeClassifier m(o);
    m.fit(X, y);
    benchmark::DoNotOptimize(m.n_leaves());
  }
}
BENCHMARK(BM_DecisionTree_categorical_fit)->ArgsProduct({{1 << 17}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
