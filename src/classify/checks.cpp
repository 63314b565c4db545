// SPDX-License-Identifier: Apache-2.0
// Input checks shared by the classifiers.
#include <crmine/classify/detail/checks.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace crmine::detail {
namespace {

/// Whether every value of X is finite (or NaN, with `allow_nan`): comparisons without branches,
/// which vectorise, so a clean matrix costs a fraction of the search for the first bad value.
bool all_valid(MatrixRef X, bool allow_nan) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const double* row = X.row(i).data();
    unsigned bad = 0;
    if (allow_nan)
      for (Eigen::Index j = 0; j < X.cols(); ++j) bad |= static_cast<unsigned>(std::abs(row[j]) == kInf);
    else
      for (Eigen::Index j = 0; j < X.cols(); ++j) bad |= static_cast<unsigned>(!(std::abs(row[j]) < kInf));
    if (bad) return false;
  }
  return true;
}

void check_shape(const char* where, MatrixRef X) {
  if (X.rows() == 0) throw_invalid(where, "X", "has no rows");
  if (X.cols() == 0) throw_invalid(where, "X", "has no columns");
}

void check_matrix(const char* where, MatrixRef X, bool allow_nan) {
  check_shape(where, X);
  if (!all_valid(X, allow_nan)) throw_first_nonfinite(where, X, allow_nan, nullptr, X.rows());
}

/// Labels of the selected rows are 0 or 1 and both occur.
void check_binary_labels(const char* where, LabelRef y, const Eigen::Index* rows, Eigen::Index n) {
  Eigen::Index count[2] = {0, 0};
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::Index i = rows ? rows[r] : r;
    if (y[i] != 0 && y[i] != 1) throw_invalid(where, "y", "label ", y[i], " at row ", i, "; labels must be 0 or 1 (binary classification)");
    ++count[y[i]];
  }
  if (count[0] == 0 || count[1] == 0)
    throw_invalid(where, "y", "only one class (", count[0] == 0 ? 1 : 0, ") is present; a classifier needs both 0 and 1");
}

/// `w` is empty or has one entry per row of X (n_rows), and the selected entries are finite,
/// non-negative and not all zero.
void check_weights(const char* where, VectorRef w, Eigen::Index n_rows, const Eigen::Index* rows, Eigen::Index n) {
  if (w.size() == 0) return;
  if (w.size() != n_rows) throw_invalid(where, "sample_weight", "has ", w.size(), " entries, X has ", n_rows, " rows");
  double total = 0.0;
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::Index i = rows ? rows[r] : r;
    if (!std::isfinite(w[i]) || w[i] < 0) throw_invalid(where, "sample_weight", "entry ", i, " is ", w[i], "; weights must be finite and >= 0");
    total += w[i];
  }
  if (!(total > 0)) throw_invalid(where, "sample_weight", "weights sum to zero");
}

}  // namespace

void check_row_selection(const char* where, std::span<const Eigen::Index> rows, Eigen::Index n_rows) {
  if (rows.empty()) throw_invalid(where, "rows", "is empty; select at least one row");
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (rows[k] < 0 || rows[k] >= n_rows) throw_invalid(where, "rows", "entry ", k, " is ", rows[k], "; X has ", n_rows, " rows");
}

void throw_first_nonfinite(const char* where, MatrixRef X, bool allow_nan, const Eigen::Index* rows, Eigen::Index n) {
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::Index i = rows ? rows[r] : r;
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const double v = X(i, j);
      if (std::isfinite(v)) continue;
      if (std::isnan(v)) {
        if (allow_nan) continue;
        throw_invalid(where, "X", "NaN at row ", i, ", column ", j, "; this model does not accept missing values "
                      "(impute them, or use DecisionTree, NaiveBayes or GradientBoosting)");
      }
      throw_invalid(where, "X", "infinite value at row ", i, ", column ", j);
    }
  }
}

void check_binary_fit(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, bool allow_nan) {
  check_matrix(where, X, allow_nan);
  if (y.size() != X.rows()) throw_invalid(where, "y", "has ", y.size(), " labels, X has ", X.rows(), " rows");
  check_binary_labels(where, y, nullptr, y.size());
  check_weights(where, sample_weight, X.rows(), nullptr, X.rows());
}

void check_binary_fit_rows(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, const Eigen::Index* rows, Eigen::Index n) {
  check_shape(where, X);
  if (y.size() != X.rows()) throw_invalid(where, "y", "has ", y.size(), " labels, X has ", X.rows(), " rows");
  check_binary_labels(where, y, rows, n);
  check_weights(where, sample_weight, X.rows(), rows, n);
}

int check_multiclass_fit(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, bool allow_nan) {
  check_matrix(where, X, allow_nan);
  if (y.size() != X.rows()) throw_invalid(where, "y", "has ", y.size(), " labels, X has ", X.rows(), " rows");
  int k = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (y[i] < 0) throw_invalid(where, "y", "label ", y[i], " at row ", i, "; labels must be class indices 0..K-1");
    k = std::max(k, y[i] + 1);
  }
  if (k < 2) throw_invalid(where, "y", "only one class (0) is present; a classifier needs at least two");
  std::vector<Eigen::Index> count(static_cast<std::size_t>(k), 0);
  for (Eigen::Index i = 0; i < y.size(); ++i) ++count[static_cast<std::size_t>(y[i])];
  for (int c = 0; c < k; ++c)
    if (count[static_cast<std::size_t>(c)] == 0)
      throw_invalid(where, "y", "class ", c, " has no rows; labels must be the indices 0..", k - 1, " of classes that all occur");
  check_weights(where, sample_weight, X.rows(), nullptr, X.rows());
  return k;
}

void check_regression_fit(const char* where, MatrixRef X, VectorRef y, VectorRef sample_weight, bool allow_nan) {
  check_matrix(where, X, allow_nan);
  if (y.size() != X.rows()) throw_invalid(where, "y", "has ", y.size(), " targets, X has ", X.rows(), " rows");
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i])) throw_invalid(where, "y", "target at row ", i, " is ", y[i], "; targets must be finite");
  check_weights(where, sample_weight, X.rows(), nullptr, X.rows());
}

void check_predict(const char* where, MatrixRef X, Eigen::Index n_features, bool allow_nan) {
  if (X.cols() != n_features) throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", n_features);
  if (X.rows() == 0) return;
  check_matrix(where, X, allow_nan);
}

Eigen::VectorXd combined_weights(LabelRef y, VectorRef sample_weight, const std::array<double, 2>& class_weight) {
  Eigen::VectorXd w(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i)
    w[i] = (sample_weight.size() ? sample_weight[i] : 1.0) * class_weight[static_cast<std::size_t>(y[i])];
  return w;
}

void check_class_weight(const char* where, const std::array<double, 2>& class_weight) {
  for (std::size_t k = 0; k < 2; ++k)
    if (!std::isfinite(class_weight[k]) || !(class_weight[k] > 0))
      throw_invalid(where, "class_weight", "weight of class ", k, " is ", class_weight[k], "; must be finite and > 0");
}

void check_feature_names(const char* where, const std::vector<std::string>& names, Eigen::Index n_features) {
  if (!names.empty() && static_cast<Eigen::Index>(names.size()) != n_features)
    throw_invalid(where, "feature_names", names.size(), " names for ", n_features, " features");
}

RowMatrix two_column_proba(const Eigen::VectorXd& p1) {
  RowMatrix out(p1.size(), 2);
  out.col(1) = p1;
  out.col(0) = (1.0 - p1.array()).matrix();
  return out;
}

std::vector<char> categorical_mask(const char* where, const std::vector<std::int32_t>& features, Eigen::Index p) {
  std::vector<char> mask(static_cast<std::size_t>(p), 0);
  for (const std::int32_t j : features) {
    if (j < 0 || j >= p) throw_invalid(where, "categorical_features", "holds column ", j, "; X has ", p, " columns");
    if (mask[static_cast<std::size_t>(j)]) throw_invalid(where, "categorical_features", "lists column ", j, " twice");
    mask[static_cast<std::size_t>(j)] = 1;
  }
  return mask;
}

void check_codes(const char* where, MatrixRef X, const std::vector<std::int32_t>& features, double max_code) {
  for (const std::int32_t j : features)
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      const double x = X(i, j);
      if (std::isnan(x) || x < 0) continue;
      if (std::isinf(x) || x != std::floor(x))
        throw_invalid(where, "X", "column ", j, " is categorical but row ", i, " holds ", x, ", not an integer category code");
      if (max_code >= 0 && x > max_code)
        throw_invalid(where, "X", "categorical column ", j, " holds code ", x, " in row ", i, "; codes must be below ", max_code + 1);
    }
}

}  // namespace crmine::detail
