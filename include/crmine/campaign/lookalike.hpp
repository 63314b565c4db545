// SPDX-License-Identifier: Apache-2.0
// Look-alike prospecting: nearest neighbours, similarity to the best customers, cross-sell look-alikes.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <iosfwd>
#include <span>
#include <vector>

namespace crmine {

/// Row-major int64 matrix (neighbour indices).
using RowMatrixXl = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The k nearest reference rows of each query row, nearest first (ties: lower index first).
struct KNeighbors {
  RowMatrixXl indices;  ///< n_queries x k positions in the reference rows
  RowMatrix distances;  ///< n_queries x k Euclidean distances
};

/// Exact brute-force k nearest neighbours in Euclidean distance, computed block by block as
/// |q|^2 + |r|^2 - 2 q.r with a matrix product (as scikit-learn's brute force does). With
/// `exclude_self` the query rows are the reference rows and a row is not its own neighbour.
/// Every query is answered independently, so the result does not depend on `n_threads`.
KNeighbors nearest_neighbors(MatrixRef reference, MatrixRef query, int k, bool exclude_self = false,
                             int n_threads = 0);

/// Hyperparameters of LookAlike. Names and defaults match the Python keyword arguments.
struct LookAlikeOptions {
  int n_neighbors = 20;     ///< neighbours consulted per prospect; >= 1 and <= the fitted customers
  bool standardize = true;  ///< scale features to mean 0, sd 1 (fitted on the customers) before measuring distance
  int n_threads = 0;        ///< 0 = OpenMP default; results do not depend on it
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const LookAlikeOptions& options);

/// How much a prospect resembles the best customers, and what it may be worth.
struct LookAlikeScores {
  Eigen::VectorXd p_best;          ///< share of the prospect's k nearest customers that are best customers
  Eigen::VectorXd similar_value;   ///< mean value of the prospect's k nearest best customers
  Eigen::VectorXd expected_value;  ///< p_best x similar_value
};

/// Nearest-neighbour look-alike model: the customers (features, a best/other label, a value) are
/// the model; a prospect's score is the share of best customers among its k nearest customers, and
/// its expected value that share times the mean value of its k nearest best customers.
class LookAlike {
 public:
  explicit LookAlike(LookAlikeOptions options = {});

  /// `best` is 1 for a best customer, 0 otherwise (both must occur); `value` is empty (all 1) or one
  /// finite value per customer. X may not contain NaN or inf.
  LookAlike& fit(MatrixRef X, LabelRef best, VectorRef value);
  LookAlikeScores score(MatrixRef prospects) const;
  /// Mean value of each prospect's k nearest best customers (the value side of `score`).
  Eigen::VectorXd similar_value(MatrixRef prospects) const;
  /// The k nearest fitted customers of each prospect (indices in fit order, distances in the
  /// standardised space when `standardize`).
  KNeighbors kneighbors(MatrixRef prospects, int k) const;

  bool is_fitted() const { return fitted_; }
  const LookAlikeOptions& options() const { return options_; }
  Eigen::Index n_features() const { return mean_.size(); }
  Eigen::Index n_customers() const { return reference_.rows(); }
  Eigen::Index n_best() const { return best_rows_.rows(); }

  void save(std::ostream& out) const;
  static LookAlike load(std::istream& in);

 private:
  RowMatrix prepare(MatrixRef X, const char* where) const;
  void rebuild_best();

  LookAlikeOptions options_;
  Eigen::VectorXd mean_, scale_;
  RowMatrix reference_;           // customers, standardised
  std::vector<std::int32_t> best_;
  std::vector<double> value_;
  RowMatrix best_rows_;           // the best customers' rows of reference_
  std::vector<double> best_value_;
  bool fitted_ = false;
};

/// Items a customer has never bought but many of its look-alikes have.
struct CrossSellScores {
  std::vector<std::int64_t> customer;  ///< row of the customer
  std::vector<std::int64_t> item;      ///< item code
  std::vector<double> score;           ///< share of the customer's neighbours who bought the item
};

/// For each customer (row r owns items[indptr[r]..indptr[r+1]), codes in [0, n_items)), the items
/// it does not own that at least `min_score` of its neighbours (rows of `neighbors`, e.g. from
/// nearest_neighbors with exclude_self) own: at most `top_n` per customer, best first (ties: lower
/// item code first), customers in row order.
CrossSellScores cross_sell_scores(const RowMatrixXl& neighbors, std::span<const std::int64_t> indptr,
                                  std::span<const std::int64_t> items, std::int64_t n_items, int top_n,
                                  double min_score, int n_threads = 0);

}  // namespace crmine
