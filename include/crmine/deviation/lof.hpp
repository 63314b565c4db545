// SPDX-License-Identifier: Apache-2.0
// Local outlier factor: a row's local density against that of its k nearest neighbours.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>

namespace crmine {

/// How the k nearest neighbours are found; all but `approximate` are exact, and `automatic` never
/// picks `approximate` (it is opt-in).
enum class NeighborAlgorithm : std::uint8_t {
  automatic = 0,    ///< kd_tree up to 15 features, brute above (scikit-learn's rule of thumb)
  brute = 1,        ///< blocked distance matrices (GEMM); candidates re-measured exactly
  kd_tree = 2,      ///< kd-tree with bounding-box pruning; fast in low dimensions
  approximate = 3,  ///< random-projection forest + neighbour-of-neighbour rounds; for n in the millions
};

/// Hyperparameters of LocalOutlierFactor; names and defaults are scikit-learn's.
struct LocalOutlierFactorOptions {
  int n_neighbors = 20;                                     ///< k; >= 1; more than n - 1 training rows means n - 1
  NeighborAlgorithm algorithm = NeighborAlgorithm::automatic;  ///< neighbour search
  int leaf_size = 40;                                       ///< rows per kd-tree leaf; >= 1 (approximate: at least 2 (k + 1))
  int n_trees = 20;                                         ///< approximate only: random-projection trees; >= 1 (more = higher recall, slower; 20: recall@20 ~0.96 on 200k unclustered rows)
  int n_refine = 1;                                         ///< approximate only: neighbour-of-neighbour rounds after the forest; in [0, 8] (more = higher recall, slower)
  std::uint64_t seed = 0;                                   ///< approximate only: same data + seed => the same neighbours at any n_threads
  double contamination = kAutoContamination;                ///< outlier share in (0, 0.5], or 'auto' (offset -1.5, Breunig et al.)
  bool novelty = false;                                     ///< false: score the training rows only (negative_outlier_factor); true: score_samples on new rows
  int n_threads = 0;                                        ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const LocalOutlierFactorOptions& options);

/// Local outlier factor (Breunig, Kriegel, Ng & Sander 2000) with scikit-learn's conventions:
/// reach-dist_k(a, b) = max(k-distance(b), d(a, b)); lrd(a) = 1 / (mean over the k neighbours of
/// reach-dist + 1e-10); LOF(a) = mean lrd(neighbours) / lrd(a). negative_outlier_factor() is -LOF of
/// the training rows (each row is not its own neighbour); with novelty, score_samples(X) = -LOF of
/// new rows against the training rows. Unlike the other detectors the model keeps the training rows,
/// which LOF needs to score new data.
class LocalOutlierFactor final : public Detector {
 public:
  explicit LocalOutlierFactor(LocalOutlierFactorOptions options = {});
  ~LocalOutlierFactor() override;
  LocalOutlierFactor(LocalOutlierFactor&&) noexcept;
  LocalOutlierFactor& operator=(LocalOutlierFactor&&) noexcept;

  LocalOutlierFactor& fit(MatrixRef X) override;
  /// -LOF of new rows; requires novelty (otherwise InvalidArgument: use negative_outlier_factor()).
  Eigen::VectorXd score_samples(MatrixRef X) const override;
  double offset() const override;
  Eigen::Index n_features() const override { return train_.cols(); }
  bool is_fitted() const override { return fitted_; }

  const LocalOutlierFactorOptions& options() const { return options_; }
  /// -LOF of each training row (scikit-learn's negative_outlier_factor_).
  const Eigen::VectorXd& negative_outlier_factor() const;
  /// -1 / +1 labels of the training rows from negative_outlier_factor() and offset() (fit_predict).
  Eigen::VectorXi training_labels() const;
  /// The k actually used: min(n_neighbors, n_train - 1).
  int n_neighbors_used() const { return k_; }
  /// The neighbour search actually used (automatic resolved).
  NeighborAlgorithm algorithm_used() const { return algorithm_used_; }
  /// Distances and indices (into the training rows) of the k nearest training rows of each row of X,
  /// nearest first.
  void kneighbors(MatrixRef X, RowMatrix& distances, RowMatrixXi& indices) const;

  void save(std::ostream& out) const override;
  static LocalOutlierFactor load(std::istream& in);

 private:
  struct Index;
  void build_index();
  void training_neighbours(RowMatrix& dist, RowMatrixXi& idx);
  Eigen::VectorXd lof_of(const RowMatrix& dist, const RowMatrixXi& idx) const;

  LocalOutlierFactorOptions options_;
  RowMatrix train_;
  Eigen::VectorXd k_distance_, lrd_, nof_;
  std::unique_ptr<Index> index_;
  int k_ = 0;
  NeighborAlgorithm algorithm_used_ = NeighborAlgorithm::automatic;
  double offset_ = -1.5;
  bool fitted_ = false;
};

}  // namespace crmine
