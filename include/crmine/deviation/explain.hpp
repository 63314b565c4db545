// SPDX-License-Identifier: Apache-2.0
// Alert explanations: the features that make a row deviate, with its value and the reference value.
#pragma once

#include <crmine/core/estimator.hpp>
#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace crmine {

/// Robust z of every cell: (X - reference) / scale. `reference` and `scale` have either one row
/// (shared by every row of X, e.g. training medians and 1.4826 MAD) or one row per row of X (per-row
/// references such as a customer's segment or own baseline); both have X's columns. A scale that is
/// not > 0 (zero, negative or NaN) gives NaN: the feature cannot be judged for that row. NaN in X or
/// the reference propagates. Throws InvalidArgument for empty X or mismatched shapes.
RowMatrix robust_contributions(MatrixRef X, MatrixRef reference, MatrixRef scale);

/// A detector's normality scores of a block of rows (lower = more abnormal): Detector::score_samples
/// or any other scorer whose score of a row does not depend on the rows scored with it.
using ScoreFunction = std::function<Eigen::VectorXd(MatrixRef)>;

/// Contribution of feature j to the alert on row i: score(row i with feature j set to its reference
/// value) - score(row i), positive when the feature makes the row abnormal. Rows are scored in
/// blocks of at most about 65,536 variants (the row itself and its n_features edited copies), so
/// memory stays bounded for any number of rows. `reference` has one row or one row per row of X.
/// Throws InvalidArgument for empty X, mismatched shapes, NaN in X or the reference, or a scorer
/// returning the wrong number of scores.
RowMatrix detector_contributions(const ScoreFunction& score, MatrixRef X, MatrixRef reference);
/// detector_contributions through a fitted detector's score_samples; throws NotFittedError before
/// fit and InvalidArgument when X's feature count differs from the detector's.
RowMatrix detector_contributions(const Detector& detector, MatrixRef X, MatrixRef reference);

/// Direction of a row's value against the reference.
enum class Direction : std::int8_t { below = -1, at = 0, above = 1 };

/// The `top` strongest features of every row in long form, row after row, strongest first.
struct Explanation {
  std::vector<std::int64_t> row;       ///< row of X
  std::vector<std::int32_t> rank;      ///< 1 = strongest; a rank whose strength is not finite is skipped
  std::vector<std::int32_t> feature;   ///< column of X
  std::vector<double> value;           ///< X(row, feature)
  std::vector<double> reference;       ///< the reference value of that cell
  std::vector<double> contribution;    ///< the contribution of that cell
  std::vector<Direction> direction;    ///< value above / below / at the reference (NaN compares as at)
  std::size_t size() const { return row.size(); }
};

/// Ranks the features of every row by `strength` (higher = stronger; NaN ranks last, equal strengths
/// keep column order), keeps the first min(top, n_features) and drops those whose strength is not
/// finite, with each kept cell's value, reference and contribution. `reference` has one row or one
/// row per row of X; `contribution` and `strength` are n x d. Throws InvalidArgument for top < 1,
/// empty X or mismatched shapes.
Explanation top_contributions(MatrixRef X, MatrixRef reference, MatrixRef contribution, MatrixRef strength, int top);

}  // namespace crmine
