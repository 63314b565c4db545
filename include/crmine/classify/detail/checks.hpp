// SPDX-License-Identifier: Apache-2.0
// Input checks and weight handling shared by the classifiers (one message style for all models).
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/matrix.hpp>

#include <array>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// Read-only view of integer labels (0/1 for the binary classifiers).
using LabelRef = Eigen::Ref<const Eigen::VectorXi>;

namespace detail {

/// Rows of a batch processed together; fixed so that reductions never depend on the thread count.
inline constexpr Eigen::Index kRowChunk = 2048;

/// Checks X (non-empty; finite, or finite-or-NaN when `allow_nan`), that y has one 0/1 label per
/// row with both classes present, and that `sample_weight` is empty or one finite non-negative
/// weight per row with a positive sum. Throws InvalidArgument naming `where` and the problem.
void check_binary_fit(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, bool allow_nan);

/// check_binary_fit on the rows rows[0..n) of X, y and sample_weight (every row when `rows` is
/// null), without X's finiteness: a fit that reads X anyway folds that into its first pass and calls
/// throw_first_nonfinite only when the pass finds a non-finite value. Messages name rows of X.
void check_binary_fit_rows(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, const Eigen::Index* rows, Eigen::Index n);

/// Throws InvalidArgument for the first NaN (unless `allow_nan`) or infinite entry of the rows
/// rows[0..n) of X (every row when `rows` is null), in row order; returns when there is none.
void throw_first_nonfinite(const char* where, MatrixRef X, bool allow_nan, const Eigen::Index* rows, Eigen::Index n);

/// As check_binary_fit for K classes: labels are class indices 0..K-1, K >= 2, every class
/// present. Returns K (the largest label + 1).
int check_multiclass_fit(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, bool allow_nan);

/// Checks X and y for a regressor: finite targets, one per row, weights as above.
void check_regression_fit(const char* where, MatrixRef X, VectorRef y, VectorRef sample_weight, bool allow_nan);

/// Checks the row selection of a subset fit (`fit_rows`): at least one row, every entry a row of X.
void check_row_selection(const char* where, std::span<const Eigen::Index> rows, Eigen::Index n_rows);

/// Checks X at predict time: `n_features` columns, finite (or NaN when `allow_nan`).
void check_predict(const char* where, MatrixRef X, Eigen::Index n_features, bool allow_nan);

/// Per-row weights: sample_weight (or ones) times class_weight[y].
Eigen::VectorXd combined_weights(LabelRef y, VectorRef sample_weight, const std::array<double, 2>& class_weight);

/// Throws InvalidArgument unless both class weights are finite and positive.
void check_class_weight(const char* where, const std::array<double, 2>& class_weight);

/// Feature names are optional metadata: empty, or one per feature.
void check_feature_names(const char* where, const std::vector<std::string>& names, Eigen::Index n_features);

/// Per column of a matrix of p columns, whether `features` lists it as categorical; throws
/// InvalidArgument naming `where` when an index is out of range or repeated.
std::vector<char> categorical_mask(const char* where, const std::vector<std::int32_t>& features, Eigen::Index p);

/// Throws InvalidArgument naming `where` when a categorical column of X holds a value that is not a
/// category code: an integer, or NaN/negative for missing; when `max_code` >= 0 also one above it.
void check_codes(const char* where, MatrixRef X, const std::vector<std::int32_t>& features, double max_code);

/// Two columns (P(y=0), P(y=1)) from P(y=1).
RowMatrix two_column_proba(const Eigen::VectorXd& p1);

}  // namespace detail
}  // namespace crmine
