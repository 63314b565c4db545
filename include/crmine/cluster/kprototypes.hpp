// SPDX-License-Identifier: Apache-2.0
// k-prototypes for mixed numeric + categorical data, and k-modes for purely categorical data.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace crmine {

/// How the first prototypes are chosen.
enum class KPrototypesInit : std::uint8_t {
  kmeans_plus_plus = 0,  ///< D^2 sampling under the mixed dissimilarity (k-means++ generalised)
  random = 1,            ///< k distinct rows drawn uniformly (Huang 1998, first method)
};

/// Hyperparameters of KPrototypes and KModes. Names and defaults match the Python keyword arguments.
struct KPrototypesOptions {
  int n_clusters = 8;                                   ///< k; 1 <= k <= distinct rows
  double gamma = -1;                                    ///< weight of one categorical mismatch against squared numeric distance; < 0 = estimate as 0.5 x mean numeric standard deviation (Huang 1998); ignored by KModes
  KPrototypesInit init = KPrototypesInit::kmeans_plus_plus;  ///< seeding method
  int n_init = 10;                                      ///< restarts; the lowest cost wins; >= 1
  int max_iter = 100;                                   ///< iterations per restart; >= 1
  std::uint64_t seed = 1234;                            ///< same data + same seed => same model at any n_threads
  int n_threads = 0;                                    ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const KPrototypesOptions& options);

/// k-prototypes (Huang 1998, "Extensions to the k-means algorithm for clustering large data sets
/// with categorical values"): the cost of a row against a prototype is the squared Euclidean
/// distance of the numeric part plus gamma times the number of categorical mismatches; prototypes
/// are numeric means and categorical modes. Iterations are batch (all rows assigned, then all
/// prototypes updated), which decreases the same cost as Huang's incremental updates and
/// parallelises. Categories are int32 codes >= 0; at predict time a code never seen in training
/// (or negative, e.g. missing) mismatches every prototype.
class KPrototypes {
 public:
  explicit KPrototypes(KPrototypesOptions options = {});

  /// X_num: n x p numeric (p may be 0), X_cat: n x q codes (q may be 0, not both);
  /// sample_weight empty = all ones.
  KPrototypes& fit(MatrixRef X_num, MatrixXiRef X_cat, VectorRef sample_weight = Eigen::VectorXd());
  Eigen::VectorXi predict(MatrixRef X_num, MatrixXiRef X_cat) const;
  /// Dissimilarity of each row to each prototype, n x k.
  RowMatrix transform(MatrixRef X_num, MatrixXiRef X_cat) const;
  /// Weighted total dissimilarity of rows to their nearest prototype.
  double cost_of(MatrixRef X_num, MatrixXiRef X_cat, VectorRef sample_weight = Eigen::VectorXd()) const;

  int n_clusters() const { return options_.n_clusters; }
  bool is_fitted() const { return fitted_; }
  const KPrototypesOptions& options() const { return options_; }
  const FitReport& report() const;
  /// k x p numeric prototype parts.
  const RowMatrix& numeric_centroids() const;
  /// k x q categorical prototype parts (modes).
  const RowMatrixXi& categorical_centroids() const;
  /// Number of categories of each categorical column seen in training (max code + 1).
  const std::vector<std::int32_t>& n_categories() const;
  /// The gamma used (estimated or given).
  double gamma() const;
  const Eigen::VectorXi& labels() const;
  double cost() const { return report().objective; }

  void save(std::ostream& out) const;
  static KPrototypes load(std::istream& in);

 private:
  friend class KModes;
  KPrototypes& fit_impl(MatrixRef X_num, MatrixXiRef X_cat, VectorRef sample_weight, const char* where, bool modes_only);
  void save_tagged(std::ostream& out, const char (&tag)[5]) const;
  static KPrototypes load_tagged(std::istream& in, const char (&tag)[5]);
  KPrototypesOptions options_;
  RowMatrix num_centroids_;
  RowMatrixXi cat_centroids_;
  std::vector<std::int32_t> n_categories_;
  double gamma_ = 0;
  Eigen::VectorXi labels_;
  FitReport report_;
  bool fitted_ = false;
};

/// k-modes (Huang 1998): k-prototypes without numeric columns; the cost is the number of
/// mismatched categories. `gamma` in the options is ignored.
class KModes {
 public:
  explicit KModes(KPrototypesOptions options = {});
  KModes& fit(MatrixXiRef X, VectorRef sample_weight = Eigen::VectorXd());
  Eigen::VectorXi predict(MatrixXiRef X) const;
  RowMatrix transform(MatrixXiRef X) const;
  int n_clusters() const { return model_.n_clusters(); }
  bool is_fitted() const { return model_.is_fitted(); }
  const KPrototypesOptions& options() const { return model_.options(); }
  const FitReport& report() const { return model_.report(); }
  const RowMatrixXi& centroids() const { return model_.categorical_centroids(); }
  const std::vector<std::int32_t>& n_categories() const { return model_.n_categories(); }
  const Eigen::VectorXi& labels() const { return model_.labels(); }
  double cost() const { return model_.cost(); }
  void save(std::ostream& out) const;
  static KModes load(std::istream& in);

 private:
  KPrototypes model_;
};

}  // namespace crmine
