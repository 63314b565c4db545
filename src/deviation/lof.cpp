// SPDX-License-Identifier: Apache-2.0
// LocalOutlierFactor: exact kNN (kd-tree or blocked brute force) or approximate kNN (random-projection
// forest), reachability densities, save/load.
#include <crmine/deviation/lof.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "knn.hpp"
#include "rp_forest.hpp"

#include <cmath>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("LOF1");
constexpr std::uint32_t kSchema = 3;  // 2: n_trees and seed appended; 3: n_refine appended
constexpr Eigen::Index kQueryBlock = 256;

}  // namespace

struct LocalOutlierFactor::Index {
  std::optional<detail::KdTree> tree;      // empty: brute force over train_ (or approximate)
  std::optional<detail::RpForest> forest;  // approximate only
  RowMatrixXi graph;                       // approximate only: the training rows' neighbours, refining queries
  Eigen::VectorXd norms;                   // squared row norms of train_ (brute force)
};

void validate(const LocalOutlierFactorOptions& o) {
  constexpr const char* where = "LocalOutlierFactor";
  if (o.n_neighbors < 1) detail::throw_invalid(where, "n_neighbors", "must be >= 1, got ", o.n_neighbors);
  if (o.algorithm != NeighborAlgorithm::automatic && o.algorithm != NeighborAlgorithm::brute && o.algorithm != NeighborAlgorithm::kd_tree &&
      o.algorithm != NeighborAlgorithm::approximate)
    detail::throw_invalid(where, "algorithm", "must be automatic, brute, kd_tree or approximate, got ", static_cast<int>(o.algorithm));
  if (o.leaf_size < 1) detail::throw_invalid(where, "leaf_size", "must be >= 1, got ", o.leaf_size);
  if (o.n_trees < 1) detail::throw_invalid(where, "n_trees", "must be >= 1, got ", o.n_trees);
  if (o.n_refine < 0 || o.n_refine > 8) detail::throw_invalid(where, "n_refine", "must be in [0, 8], got ", o.n_refine);
  detail::check_contamination(where, o.contamination, true);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

LocalOutlierFactor::LocalOutlierFactor(LocalOutlierFactorOptions options) : options_(options) {}
LocalOutlierFactor::~LocalOutlierFactor() = default;
LocalOutlierFactor::LocalOutlierFactor(LocalOutlierFactor&&) noexcept = default;
LocalOutlierFactor& LocalOutlierFactor::operator=(LocalOutlierFactor&&) noexcept = default;

void LocalOutlierFactor::build_index() {
  index_ = std::make_unique<Index>();
  if (algorithm_used_ == NeighborAlgorithm::kd_tree)
    index_->tree.emplace(train_, options_.leaf_size);
  else if (algorithm_used_ == NeighborAlgorithm::approximate)
    // Leaves of >= 2 (k + 1) rows split into halves of >= k + 1, so every training row finds k others.
    index_->forest.emplace(train_, options_.n_trees, std::max(options_.leaf_size, 2 * (k_ + 1)), options_.seed, options_.n_threads);
  else
    index_->norms = train_.rowwise().squaredNorm();
}

namespace {

/// Offers each candidate row once (per query) to `best` with its exact squared distance to q, then
/// writes the k best, nearest first, into row i of dist/idx. `seen[j] == stamp` marks rows already
/// offered (or the query itself), which spares sorting the candidate lists to drop repeats.
void keep_best(const double* q, MatrixRef train, const std::vector<int>& candidates, std::vector<std::int64_t>& seen, std::int64_t stamp,
               int k, detail::TopK& best, Eigen::Index i, RowMatrix& dist, RowMatrixXi& idx) {
  best.clear();
  for (int j : candidates) {
    if (seen[static_cast<std::size_t>(j)] == stamp) continue;
    seen[static_cast<std::size_t>(j)] = stamp;
    best.offer(detail::squared_distance(q, train.row(j).data(), train.cols()), j);
  }
  const auto& found = best.sorted();
  for (int j = 0; j < k; ++j) {
    dist(i, j) = std::sqrt(found[static_cast<std::size_t>(j)].first);
    idx(i, j) = found[static_cast<std::size_t>(j)].second;
  }
}

/// Approximate k nearest training rows: the union of the query's forest leaves, then `rounds`
/// rounds of neighbour-of-neighbour refinement (NN-descent's local join, Dong, Moses & Li 2011): a
/// row's candidates are its current list and the lists of its current neighbours. New rows (Q not
/// the training rows) look their neighbours' lists up in `graph`, the training rows' own finished
/// lists; the training rows themselves (`training`, Q = train) use the lists of the round before,
/// and each row is excluded from its own list. Every round reads only finished lists, so results
/// do not depend on threads.
void approximate_search(MatrixRef Q, MatrixRef train, const detail::RpForest& forest, const RowMatrixXi* graph, int k,
                        int rounds, bool training, int n_threads, RowMatrix& dist, RowMatrixXi& idx) {
  // One "seen" array per thread, stamped with (round, query) so it never needs clearing.
  std::vector<std::vector<std::int64_t>> seen(static_cast<std::size_t>(detail::resolve_threads(n_threads)));
  const auto round = [&](int r, RowMatrix& d_out, RowMatrixXi& i_out, const auto& gather) {
    d_out.resize(Q.rows(), k);
    i_out.resize(Q.rows(), k);
    detail::for_each_block(Q.rows(), kQueryBlock, n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
      auto& mark = seen[static_cast<std::size_t>(detail::thread_id())];
      if (mark.empty()) mark.assign(static_cast<std::size_t>(train.rows()), -1);
      std::vector<int> candidates;
      detail::TopK best(k);
      for (Eigen::Index i = b; i < e; ++i) {
        const std::int64_t stamp = static_cast<std::int64_t>(r) * Q.rows() + i;
        if (training) mark[static_cast<std::size_t>(i)] = stamp;  // a training row is not its own neighbour
        candidates.clear();
        gather(i, candidates);
        keep_best(Q.row(i).data(), train, candidates, mark, stamp, k, best, i, d_out, i_out);
      }
    });
  };
  round(0, dist, idx, [&](Eigen::Index i, std::vector<int>& out) {
    if (training)
      forest.training_candidates(i, out);
    else
      forest.query_candidates(Q.row(i).data(), out);
  });
  RowMatrix dist_before;
  RowMatrixXi idx_before;
  for (int r = 1; r <= rounds; ++r) {
    std::swap(dist, dist_before);
    std::swap(idx, idx_before);
    const RowMatrixXi& links = training ? idx_before : *graph;
    round(r, dist, idx, [&](Eigen::Index i, std::vector<int>& out) {
      out.assign(idx_before.row(i).data(), idx_before.row(i).data() + k);
      for (int j = 0; j < k; ++j) {
        const auto next = links.row(idx_before(i, j));
        out.insert(out.end(), next.data(), next.data() + links.cols());
      }
    });
  }
}

/// The k nearest training rows of each row of Q (k + 1 with `exclude_self`, which then drops the
/// query's own index, or the farthest when duplicates crowd it out, as scikit-learn does).
void search(MatrixRef Q, MatrixRef train, const detail::KdTree* tree, const Eigen::VectorXd& norms, int k, bool exclude_self,
            Eigen::Index row_offset, int n_threads, RowMatrix& dist, RowMatrixXi& idx) {
  const int want = k + (exclude_self ? 1 : 0);
  dist.resize(Q.rows(), k);
  idx.resize(Q.rows(), k);
  detail::for_each_block(Q.rows(), kQueryBlock, n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    std::vector<detail::TopK> best(static_cast<std::size_t>(e - b), detail::TopK(want));
    if (tree) {
      for (Eigen::Index i = b; i < e; ++i) tree->query(Q.row(i).data(), best[static_cast<std::size_t>(i - b)]);
    } else {
      detail::brute_block(Q.middleRows(b, e - b), train, norms, best);
    }
    for (Eigen::Index i = b; i < e; ++i) {
      auto& found = best[static_cast<std::size_t>(i - b)].sorted();
      if (!tree)  // the GEMM identity loses digits; the chosen neighbours are re-measured exactly
        for (auto& [d2, j] : found) d2 = detail::squared_distance(Q.row(i).data(), train.row(j).data(), Q.cols());
      if (!tree) std::sort(found.begin(), found.end());
      if (exclude_self) {
        auto self = std::find_if(found.begin(), found.end(), [&](const auto& p) { return p.second == i + row_offset; });
        found.erase(self == found.end() ? found.end() - 1 : self);
      }
      for (int j = 0; j < k; ++j) {
        dist(i, j) = std::sqrt(found[static_cast<std::size_t>(j)].first);
        idx(i, j) = found[static_cast<std::size_t>(j)].second;
      }
    }
  });
}

}  // namespace

LocalOutlierFactor& LocalOutlierFactor::fit(MatrixRef X) {
  constexpr const char* where = "LocalOutlierFactor::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  if (X.rows() < 2) detail::throw_invalid(where, "X", "has ", X.rows(), " row; LOF needs at least 2");
  if (X.rows() > std::numeric_limits<int>::max()) detail::throw_invalid(where, "X", "has more rows than LOF supports (2^31 - 1)");
  const Eigen::Index n = X.rows();
  k_ = static_cast<int>(std::min<Eigen::Index>(options_.n_neighbors, n - 1));
  algorithm_used_ = options_.algorithm;
  if (algorithm_used_ == NeighborAlgorithm::automatic)
    algorithm_used_ = X.cols() <= 15 ? NeighborAlgorithm::kd_tree : NeighborAlgorithm::brute;
  train_ = X;
  build_index();
  RowMatrix dist;
  RowMatrixXi idx;
  training_neighbours(dist, idx);
  k_distance_ = dist.col(k_ - 1);
  lrd_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < k_; ++j) s += std::max(dist(i, j), k_distance_[idx(i, j)]);
    lrd_[i] = 1.0 / (s / k_ + 1e-10);
  }
  nof_.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < k_; ++j) s += lrd_[idx(i, j)];
    nof_[i] = -(s / k_) / lrd_[i];
  }
  fitted_ = true;
  offset_ = options_.contamination == kAutoContamination ? -1.5 : detail::offset_from_scores(nof_, options_.contamination);
  return *this;
}

void LocalOutlierFactor::training_neighbours(RowMatrix& dist, RowMatrixXi& idx) {
  if (index_->forest) {
    approximate_search(train_, train_, *index_->forest, nullptr, k_, options_.n_refine, true, options_.n_threads, dist, idx);
    index_->graph = idx;
  } else {
    search(train_, train_, index_->tree ? &*index_->tree : nullptr, index_->norms, k_, true, 0, options_.n_threads, dist, idx);
  }
}

void LocalOutlierFactor::kneighbors(MatrixRef X, RowMatrix& distances, RowMatrixXi& indices) const {
  constexpr const char* where = "LocalOutlierFactor::kneighbors";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  if (index_->forest)
    approximate_search(X, train_, *index_->forest, &index_->graph, k_, options_.n_refine, false, options_.n_threads, distances,
                       indices);
  else
    search(X, train_, index_->tree ? &*index_->tree : nullptr, index_->norms, k_, false, 0, options_.n_threads, distances, indices);
}

Eigen::VectorXd LocalOutlierFactor::score_samples(MatrixRef X) const {
  constexpr const char* where = "LocalOutlierFactor::score_samples";
  detail::require_fitted(fitted_, where);
  if (!options_.novelty)
    detail::throw_invalid(where, "novelty", "is false: LOF scores only its training rows (negative_outlier_factor, fit_predict); "
                          "refit with novelty=true to score new rows");
  RowMatrix dist;
  RowMatrixXi idx;
  kneighbors(X, dist, idx);
  Eigen::VectorXd out(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    double reach = 0, neighbour_lrd = 0;
    for (int j = 0; j < k_; ++j) {
      reach += std::max(dist(i, j), k_distance_[idx(i, j)]);
      neighbour_lrd += lrd_[idx(i, j)];
    }
    const double lrd = 1.0 / (reach / k_ + 1e-10);
    out[i] = -(neighbour_lrd / k_) / lrd;
  }
  return out;
}

double LocalOutlierFactor::offset() const {
  detail::require_fitted(fitted_, "LocalOutlierFactor::offset");
  return offset_;
}

const Eigen::VectorXd& LocalOutlierFactor::negative_outlier_factor() const {
  detail::require_fitted(fitted_, "LocalOutlierFactor::negative_outlier_factor");
  return nof_;
}

Eigen::VectorXi LocalOutlierFactor::training_labels() const {
  detail::require_fitted(fitted_, "LocalOutlierFactor::training_labels");
  return (nof_.array() < offset_).select(Eigen::VectorXi::Constant(nof_.size(), -1), Eigen::VectorXi::Ones(nof_.size()));
}

void LocalOutlierFactor::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "LocalOutlierFactor::save");
  ModelWriter w(kTag, kSchema);
  w.i32(options_.n_neighbors);
  w.u8(static_cast<std::uint8_t>(options_.algorithm));
  w.i32(options_.leaf_size);
  w.f64(options_.contamination);
  w.boolean(options_.novelty);
  w.i32(options_.n_threads);
  w.i32(k_);
  w.u8(static_cast<std::uint8_t>(algorithm_used_));
  w.f64(offset_);
  w.matrix(train_);
  w.f64_vector({k_distance_.data(), k_distance_.data() + k_distance_.size()});
  w.f64_vector({lrd_.data(), lrd_.data() + lrd_.size()});
  w.f64_vector({nof_.data(), nof_.data() + nof_.size()});
  w.i32(options_.n_trees);
  w.u64(options_.seed);
  w.i32(options_.n_refine);
  w.finish(out);
}

LocalOutlierFactor LocalOutlierFactor::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  LocalOutlierFactorOptions o;
  o.n_neighbors = r.i32("n_neighbors");
  o.algorithm = static_cast<NeighborAlgorithm>(r.u8("algorithm"));
  o.leaf_size = r.i32("leaf_size");
  o.contamination = r.f64("contamination");
  o.novelty = r.boolean("novelty");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  LocalOutlierFactor model(o);
  model.k_ = r.i32("k");
  model.algorithm_used_ = static_cast<NeighborAlgorithm>(r.u8("algorithm_used"));
  model.offset_ = r.f64("offset");
  model.train_ = r.matrix("train");
  const auto kd = r.f64_vector("k_distance");
  const auto lrd = r.f64_vector("lrd");
  const auto nof = r.f64_vector("negative_outlier_factor");
  if (r.schema() >= 2) {  // schema 1 files predate the approximate search and keep the defaults
    model.options_.n_trees = r.i32("n_trees");
    model.options_.seed = r.u64("seed");
    if (r.schema() >= 3) model.options_.n_refine = r.i32("n_refine");  // earlier files refined once
    try {
      validate(model.options_);
    } catch (const InvalidArgument& e) {
      r.fail("options", e.what());
    }
  }
  r.expect_end();
  const Eigen::Index n = model.train_.rows();
  if (n < 2 || model.train_.cols() < 1 || !model.train_.allFinite()) r.fail("train", "must hold at least 2 finite rows");
  if (model.k_ < 1 || model.k_ > o.n_neighbors || model.k_ > n - 1) r.fail("k", "out of range for n_neighbors and the rows");
  if (model.algorithm_used_ != NeighborAlgorithm::brute && model.algorithm_used_ != NeighborAlgorithm::kd_tree &&
      model.algorithm_used_ != NeighborAlgorithm::approximate)
    r.fail("algorithm_used", "must be brute, kd_tree or approximate");
  if ((model.algorithm_used_ == NeighborAlgorithm::approximate) != (o.algorithm == NeighborAlgorithm::approximate))
    r.fail("algorithm_used", "must be approximate exactly when the algorithm option is");
  if (static_cast<Eigen::Index>(kd.size()) != n || static_cast<Eigen::Index>(lrd.size()) != n || static_cast<Eigen::Index>(nof.size()) != n)
    r.fail("lrd", "one value per training row expected");
  if (!std::isfinite(model.offset_)) r.fail("offset", "must be finite");
  model.k_distance_ = Eigen::Map<const Eigen::VectorXd>(kd.data(), n);
  model.lrd_ = Eigen::Map<const Eigen::VectorXd>(lrd.data(), n);
  model.nof_ = Eigen::Map<const Eigen::VectorXd>(nof.data(), n);
  if (!model.k_distance_.allFinite() || !model.lrd_.allFinite() || !model.nof_.allFinite() || (model.lrd_.array() <= 0).any())
    r.fail("lrd", "must be finite and positive");
  model.build_index();
  if (model.index_->forest) {  // the forest is rebuilt from the rows and seed; its neighbour graph with it
    RowMatrix dist;
    RowMatrixXi idx;
    model.training_neighbours(dist, idx);
  }
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
