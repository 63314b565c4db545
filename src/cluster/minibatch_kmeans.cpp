// SPDX-License-Identifier: Apache-2.0
// MiniBatchKMeans: Sculley's web-scale k-means with per-centre learning rates.
#include <crmine/cluster/kmeans.hpp>

#include "common.hpp"
#include "kmeans_impl.hpp"

#include <algorithm>
#include <istream>
#include <ostream>

namespace crmine {

void validate(const MiniBatchKMeansOptions& o) {
  constexpr const char* where = "MiniBatchKMeans";
  if (o.n_clusters < 1) detail::throw_invalid(where, "n_clusters", "must be >= 1, got ", o.n_clusters);
  if (o.batch_size < 1) detail::throw_invalid(where, "batch_size", "must be >= 1, got ", o.batch_size);
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "must be >= 1, got ", o.max_iter);
  if (o.max_no_improvement < 0) detail::throw_invalid(where, "max_no_improvement", "must be >= 0, got ", o.max_no_improvement);
  if (o.init_size < 0) detail::throw_invalid(where, "init_size", "must be >= 0, got ", o.init_size);
  if (o.n_init < 1) detail::throw_invalid(where, "n_init", "must be >= 1, got ", o.n_init);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

MiniBatchKMeans::MiniBatchKMeans(MiniBatchKMeansOptions options) : options_(options) {}

MiniBatchKMeans& MiniBatchKMeans::fit(MatrixRef X) { return fit(X, Eigen::VectorXd()); }

MiniBatchKMeans& MiniBatchKMeans::fit(MatrixRef X, VectorRef sample_weight) {
  constexpr const char* where = "MiniBatchKMeans::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::VectorXd w = detail::checked_weights(where, sample_weight, X.rows());
  const Eigen::Index n = X.rows(), d = X.cols();
  const int k = options_.n_clusters;
  if (k > n) detail::throw_invalid(where, "n_clusters", k, " exceeds the number of rows of X (", n, ")");
  Random rng(options_.seed);

  // Seeding: k-means++ on a random sample, best of n_init by inertia on that sample.
  Eigen::Index init_size = options_.init_size > 0 ? options_.init_size : std::max<Eigen::Index>(3 * options_.batch_size, 3 * k);
  init_size = std::clamp<Eigen::Index>(init_size, k, n);
  RowMatrix sample(init_size, d);
  Eigen::VectorXd sample_w(init_size);
  if (init_size == n) {
    sample = X;
    sample_w = w;
  } else {
    for (Eigen::Index r = 0; r < init_size; ++r) {
      const auto i = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(n)));
      sample.row(r) = X.row(i);
      sample_w[r] = w[i];
    }
    if (!(sample_w.sum() > 0)) sample_w.setOnes();
  }
  RowMatrix centres;
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < options_.n_init; ++r) {
    Random init_rng(options_.seed, static_cast<std::uint64_t>(r) + 1);
    RowMatrix start;
    try {
      start = detail::seed_kmeans_plus_plus(sample, sample_w, k, init_rng, options_.n_threads, where);
    } catch (const InvalidArgument&) {
      if (init_size == n) throw;
      // The sample may hold fewer distinct rows than X: seed on all rows instead.
      start = detail::seed_kmeans_plus_plus(X, w, k, init_rng, options_.n_threads, where);
    }
    const detail::Assignment a = detail::assign_nearest(sample, start, options_.n_threads);
    const double inertia = sample_w.dot(a.min_sq);
    if (inertia < best) best = inertia, centres = std::move(start);
  }

  // Mini-batch steps; the batch is drawn sequentially, assigned in parallel (per-row results only).
  const Eigen::Index batch = std::min<Eigen::Index>(options_.batch_size, n);
  const long long steps = std::max<long long>(1, (static_cast<long long>(options_.max_iter) * n + batch - 1) / batch);
  Eigen::VectorXd seen = Eigen::VectorXd::Zero(k);
  RowMatrix xb(batch, d);
  Eigen::VectorXd wb(batch);
  const double alpha = std::min(1.0, 2.0 * static_cast<double>(batch) / static_cast<double>(n + 1));
  double ewa = -1, best_ewa = std::numeric_limits<double>::infinity();
  int no_improvement = 0;
  long long step = 0;
  bool stopped_early = false;
  for (; step < steps; ++step) {
    for (Eigen::Index r = 0; r < batch; ++r) {
      const auto i = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(n)));
      xb.row(r) = X.row(i);
      wb[r] = w[i];
    }
    // One batch is one chunk of work: assigned on this thread, without entering an OpenMP region
    // per step (tens of thousands of steps; under load each region waits for a woken thread).
    detail::Assignment a{Eigen::VectorXi(batch), Eigen::VectorXd(batch)};
    detail::NearestCentre(centres).scan_range<false>(xb, 0, batch, [&](Eigen::Index r, int label, double exact, double) {
      a.labels[r] = label;
      a.min_sq[r] = exact;
    });
    const double wsum = wb.sum();
    if (!(wsum > 0)) continue;
    RowMatrix sums = RowMatrix::Zero(k, d);
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
    for (Eigen::Index r = 0; r < batch; ++r) {
      sums.row(a.labels[r]) += wb[r] * xb.row(r);
      counts[a.labels[r]] += wb[r];
    }
    for (Eigen::Index j = 0; j < k; ++j) {
      if (counts[j] <= 0) continue;
      seen[j] += counts[j];
      centres.row(j) += (sums.row(j) - counts[j] * centres.row(j)) / seen[j];
    }
    const double batch_inertia = wb.dot(a.min_sq) / wsum;
    ewa = ewa < 0 ? batch_inertia : ewa * (1 - alpha) + batch_inertia * alpha;
    if (ewa < best_ewa) {
      best_ewa = ewa;
      no_improvement = 0;
    } else if (options_.max_no_improvement > 0 && ++no_improvement >= options_.max_no_improvement) {
      stopped_early = true;
      ++step;
      break;
    }
  }
  const detail::Assignment final_assignment = detail::assign_nearest(X, centres, options_.n_threads);
  centroids_ = std::move(centres);
  labels_ = final_assignment.labels;
  report_ = FitReport{};
  report_.n_iter = static_cast<int>(std::min<long long>(step, std::numeric_limits<int>::max()));
  report_.converged = stopped_early;
  // Chunked like every other reduction so the value does not depend on the thread count.
  double inertia = 0;
  for (Eigen::Index c = 0; c < detail::chunk_count(n); ++c) {
    const Eigen::Index b = c * detail::kChunkRows, len = std::min(n, b + detail::kChunkRows) - b;
    inertia += w.segment(b, len).dot(final_assignment.min_sq.segment(b, len));
  }
  report_.objective = inertia;
  fitted_ = true;
  return *this;
}

const FitReport& MiniBatchKMeans::report() const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::report");
  return report_;
}
const RowMatrix& MiniBatchKMeans::centroids() const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::centroids");
  return centroids_;
}
const Eigen::VectorXi& MiniBatchKMeans::labels() const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::labels");
  return labels_;
}
double MiniBatchKMeans::inertia() const { return report().objective; }

Eigen::VectorXi MiniBatchKMeans::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::predict");
  detail::check_features("MiniBatchKMeans::predict", X, centroids_.cols());
  return detail::assign_nearest(X, centroids_, options_.n_threads).labels;
}

RowMatrix MiniBatchKMeans::transform(MatrixRef X) const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::transform");
  return KMeans::from_centroids(centroids_).transform(X);
}

namespace {
constexpr ModelTag kTag = model_tag("MBKM");
constexpr std::uint32_t kSchema = 1;
}  // namespace

void MiniBatchKMeans::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "MiniBatchKMeans::save");
  ModelWriter w(kTag, kSchema);
  w.i32(options_.n_clusters);
  w.i32(options_.batch_size);
  w.i32(options_.max_iter);
  w.i32(options_.max_no_improvement);
  w.i32(options_.init_size);
  w.i32(options_.n_init);
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  detail::write_fit_report(w, report_);
  w.matrix(centroids_);
  w.finish(out);
}

MiniBatchKMeans MiniBatchKMeans::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  MiniBatchKMeansOptions o;
  o.n_clusters = r.i32("n_clusters");
  o.batch_size = r.i32("batch_size");
  o.max_iter = r.i32("max_iter");
  o.max_no_improvement = r.i32("max_no_improvement");
  o.init_size = r.i32("init_size");
  o.n_init = r.i32("n_init");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  MiniBatchKMeans model(o);
  model.report_ = detail::read_report(r);
  model.centroids_ = r.matrix("centroids");
  r.expect_end();
  if (model.centroids_.rows() != o.n_clusters || model.centroids_.cols() < 1) r.fail("centroids", "shape does not match n_clusters");
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
