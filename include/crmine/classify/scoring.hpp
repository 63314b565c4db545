// SPDX-License-Identifier: Apache-2.0
// Campaign scoring: rank a customer table by a model's score, pick the top N, find the profitable N.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

namespace crmine {

/// Row positions ordered by descending score; equal scores keep input order (a stable ranking).
std::vector<std::int64_t> rank_by_score(VectorRef score);

/// The `n` best-scored rows: their positions, ids and scores, best first.
struct Selection {
  std::vector<std::int64_t> rows;
  std::vector<std::int64_t> ids;
  std::vector<double> scores;
};

/// Scores X with P(y=1) of `model` and returns the top `n` (all rows when n >= rows of X).
Selection select_top(const Classifier& model, MatrixRef X, const std::vector<std::int64_t>& ids, std::int64_t n);

/// Expected profit of contacting the best k rows, k = 0..n:
/// profit[k] = sum over the top k of (proba_i x value_per_response - cost_per_contact).
struct ProfitCurve {
  std::vector<double> profit;  ///< n + 1 entries, profit[0] = 0
  std::int64_t best_n = 0;     ///< the k with the largest expected profit (the smallest on ties)
  double best_profit = 0.0;
};
/// `proba` are calibrated response probabilities; `value_per_response` and `cost_per_contact` >= 0.
ProfitCurve profit_curve(VectorRef proba, double value_per_response, double cost_per_contact);

/// Loads any classifier saved by this library (LogisticRegression, DecisionTreeClassifier,
/// GradientBoostingClassifier, NaiveBayes, MLPClassifier), dispatching on the model tag; ModelFormatError for anything else.
std::unique_ptr<Classifier> load_classifier(std::istream& in);

}  // namespace crmine
