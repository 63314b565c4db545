// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of DecisionTree fits on a bank-marketing-shaped table: one-hot indicators of ten
// text columns (53 columns), eight few-valued numeric columns and one with ~300 values. Unweighted
// rows take the counted path for all but the last column; class weights of 0.1 force ranked lists.
#include <crmine/classify/tree.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cmath>

namespace {

void make_table(Eigen::Index n, crmine::RowMatrix& X, Eigen::VectorXi& y) {
  constexpr std::array<int, 10> kLevels{12, 4, 8, 3, 3, 3, 2, 10, 5, 3};  // bank's text columns
  crmine::Random rng(9);
  X.setZero(n, 62);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double eta = -2.2;
    Eigen::Index col = 0;
    for (const int levels : kLevels) {
      const auto level = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(levels)));
      X(i, col + level) = 1.0;
      eta += 0.15 * static_cast<double>(level % 3) - 0.1;
      col += levels;
    }
    for (Eigen::Index j = 0; j < 8; ++j, ++col) {
      X(i, col) = std::floor(rng.uniform() * static_cast<double>(4 + 10 * j));
      eta += 0.02 * X(i, col) / static_cast<double>(1 + j);
    }
    X(i, col) = std::round(rng.uniform() * 300.0) / 100.0;
    eta += 0.4 * X(i, col) - 0.6;
    y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
  }
}

/// Args: rows, threads, class-1 weight x 10 (10 = unweighted: counted columns; 1 = weight 0.1: lists).
void BM_DecisionTree_onehot_fit(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  make_table(state.range(0), X, y);
  crmine::DecisionTreeOptions o;
  o.max_depth = 8;
  o.min_samples_leaf = 20;
  o.n_threads = static_cast<int>(state.range(1));
  o.class_weight = {1.0, static_cast<double>(state.range(2)) / 10.0};
  for (auto _ : state) {
    crmine::DecisionTreeClassifier m(o);
    m.fit(X, y);
    benchmark::DoNotOptimize(m.n_leaves());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecisionTree_onehot_fit)->ArgsProduct({{28845}, {1, 2}, {10, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
