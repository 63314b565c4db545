// SPDX-License-Identifier: Apache-2.0
// KMeans: k-means++ / k-means|| seeding, Lloyd and Hamerly iterations, restarts, save/load.
#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "kmeans_impl.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace detail {
namespace {

/// Index i with probability values[i] / total, given per-chunk sums of `values`.
Eigen::Index draw_weighted(const Eigen::VectorXd& values, const std::vector<double>& chunk_sums, double total, double u) {
  double target = u * total;
  const Eigen::Index n = values.size();
  for (std::size_t c = 0; c < chunk_sums.size(); ++c) {
    if (target < chunk_sums[c] || c + 1 == chunk_sums.size()) {
      const Eigen::Index begin = static_cast<Eigen::Index>(c) * kChunkRows, end = std::min(n, begin + kChunkRows);
      Eigen::Index last_positive = -1;
      for (Eigen::Index i = begin; i < end; ++i) {
        if (values[i] > 0) last_positive = i;
        if (target < values[i]) return i;
        target -= values[i];
      }
      if (last_positive >= 0) return last_positive;  // rounding pushed us past the end of this chunk
    } else {
      target -= chunk_sums[c];
    }
  }
  for (Eigen::Index i = n - 1; i >= 0; --i)
    if (values[i] > 0) return i;
  return 0;
}

/// Weighted squared distances of every row to its closest chosen centre, kept with chunk sums.
struct Potential {
  Eigen::VectorXd closest;          // squared distance to the nearest chosen centre
  Eigen::VectorXd weighted;         // w * closest
  std::vector<double> chunk_sums;   // sums of `weighted` per chunk
  double total = 0;

  void sum_up() {
    total = 0;
    for (double s : chunk_sums) total += s;
  }
};

[[noreturn]] void too_few_distinct(const char* where, int k, Eigen::Index found) {
  throw_invalid(where, "n_clusters", k, " exceeds the number of distinct rows of X with positive weight (", found, ")");
}

}  // namespace

RowMatrix seed_kmeans_plus_plus(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, int n_threads, const char* where) {
  const Eigen::Index n = X.rows(), d = X.cols();
  RowMatrix centres(k, d);
  Potential pot{Eigen::VectorXd(n), Eigen::VectorXd(n), std::vector<double>(static_cast<std::size_t>(chunk_count(n))), 0};
  // The first centre is drawn in proportion to weight.
  std::vector<double> w_chunks(pot.chunk_sums.size());
  for (std::size_t c = 0; c < w_chunks.size(); ++c) {
    const Eigen::Index b = static_cast<Eigen::Index>(c) * kChunkRows;
    w_chunks[c] = w.segment(b, std::min(n, b + kChunkRows) - b).sum();
  }
  double w_total = 0;
  for (double s : w_chunks) w_total += s;
  const Eigen::Index first = draw_weighted(w, w_chunks, w_total, rng.uniform());
  centres.row(0) = X.row(first);
  for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    double s = 0;
    for (Eigen::Index i = b; i < e; ++i) {
      pot.closest[i] = squared_distance(X.row(i).data(), centres.row(0).data(), d);
      pot.weighted[i] = w[i] * pot.closest[i];
      s += pot.weighted[i];
    }
    pot.chunk_sums[c] = s;
  });
  pot.sum_up();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<Eigen::Index> candidates(static_cast<std::size_t>(trials));
  std::vector<double> trial_chunk_pot(static_cast<std::size_t>(trials) * pot.chunk_sums.size());
  for (int j = 1; j < k; ++j) {
    if (!(pot.total > 0)) too_few_distinct(where, k, j);
    for (auto& cand : candidates) cand = draw_weighted(pot.weighted, pot.chunk_sums, pot.total, rng.uniform());
    const std::size_t n_chunks = pot.chunk_sums.size();
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      for (int t = 0; t < trials; ++t) {
        const double* cx = X.row(candidates[static_cast<std::size_t>(t)]).data();
        double s = 0;
        for (Eigen::Index i = b; i < e; ++i) s += w[i] * std::min(pot.closest[i], squared_distance(X.row(i).data(), cx, d));
        trial_chunk_pot[static_cast<std::size_t>(t) * n_chunks + static_cast<std::size_t>(c)] = s;
      }
    });
    int best = 0;
    double best_pot = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      double s = 0;
      for (std::size_t c = 0; c < n_chunks; ++c) s += trial_chunk_pot[static_cast<std::size_t>(t) * n_chunks + c];
      if (s < best_pot) best_pot = s, best = t;
    }
    centres.row(j) = X.row(candidates[static_cast<std::size_t>(best)]);
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double s = 0;
      for (Eigen::Index i = b; i < e; ++i) {
        pot.closest[i] = std::min(pot.closest[i], squared_distance(X.row(i).data(), centres.row(j).data(), d));
        pot.weighted[i] = w[i] * pot.closest[i];
        s += pot.weighted[i];
      }
      pot.chunk_sums[c] = s;
    });
    pot.sum_up();
  }
  return centres;
}

RowMatrix seed_kmeans_parallel(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, std::uint64_t seed,
                               int n_threads, const char* where) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const Eigen::Index n_chunks = chunk_count(n);
  constexpr int kRounds = 5;
  const double oversample = 2.0 * k;
  std::vector<Eigen::Index> chosen;
  // First centre: in proportion to weight, with the restart's stream.
  std::vector<double> w_chunks(static_cast<std::size_t>(n_chunks));
  for (Eigen::Index c = 0; c < n_chunks; ++c) w_chunks[c] = w.segment(c * kChunkRows, std::min(n, (c + 1) * kChunkRows) - c * kChunkRows).sum();
  double w_total = 0;
  for (double s : w_chunks) w_total += s;
  chosen.push_back(draw_weighted(w, w_chunks, w_total, rng.uniform()));
  Eigen::VectorXd closest = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
  std::vector<double> chunk_pot(static_cast<std::size_t>(n_chunks));
  std::size_t scanned = 0;
  const std::uint64_t round_seed = seed;
  for (int round = 0; round <= kRounds; ++round) {
    // Fold the centres added last round into `closest`.
    const std::vector<Eigen::Index> fresh(chosen.begin() + static_cast<std::ptrdiff_t>(scanned), chosen.end());
    scanned = chosen.size();
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double s = 0;
      for (Eigen::Index i = b; i < e; ++i) {
        for (Eigen::Index f : fresh) closest[i] = std::min(closest[i], squared_distance(X.row(i).data(), X.row(f).data(), d));
        s += w[i] * closest[i];
      }
      chunk_pot[c] = s;
    });
    if (round == kRounds) break;
    double phi = 0;
    for (double s : chunk_pot) phi += s;
    if (!(phi > 0)) break;
    // Every row joins independently with probability l * w * d^2 / phi; streams are per chunk.
    std::vector<std::vector<Eigen::Index>> picked(static_cast<std::size_t>(n_chunks));
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      Random chunk_rng(derive_seed(round_seed, static_cast<std::uint64_t>(round)), static_cast<std::uint64_t>(c));
      for (Eigen::Index i = b; i < e; ++i)
        if (chunk_rng.uniform() < oversample * w[i] * closest[i] / phi) picked[c].push_back(i);
    });
    for (const auto& p : picked) chosen.insert(chosen.end(), p.begin(), p.end());
  }
  // Weight each candidate by the weight of the rows closest to it, then recluster the candidates.
  RowMatrix cand(static_cast<Eigen::Index>(chosen.size()), d);
  for (Eigen::Index r = 0; r < cand.rows(); ++r) cand.row(r) = X.row(chosen[static_cast<std::size_t>(r)]);
  const Assignment a = assign_nearest(X, cand, n_threads);
  Eigen::VectorXd cand_w = Eigen::VectorXd::Zero(cand.rows());
  for (Eigen::Index i = 0; i < n; ++i) cand_w[a.labels[i]] += w[i];
  if (cand.rows() < k || (cand_w.array() > 0).count() < k) too_few_distinct(where, k, (cand_w.array() > 0).count());
  Random sub_rng(rng());
  RowMatrix centres = seed_kmeans_plus_plus(cand, cand_w, k, sub_rng, 1, where);
  KMeansOptions sub;
  sub.n_clusters = k;
  sub.max_iter = 30;
  return run_kmeans(cand, cand_w, std::move(centres), sub, KMeansAlgorithm::lloyd, 1).centres;
}

namespace {

/// Weighted means of the rows of each cluster; a cluster that lost all its rows keeps its centre.
RowMatrix update_centres(MatrixRef X, const Eigen::VectorXd& w, const Eigen::VectorXi& labels, const RowMatrix& old,
                         int n_threads) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = old.rows();
  const Eigen::Index n_chunks = chunk_count(n);
  const Eigen::Index stride = k * (d + 1);
  std::vector<double> partial(static_cast<std::size_t>(n_chunks * stride), 0.0);
  for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    double* acc = partial.data() + c * stride;
    for (Eigen::Index i = b; i < e; ++i) {
      double* slot = acc + static_cast<Eigen::Index>(labels[i]) * (d + 1);
      const double wi = w[i];
      const double* x = X.row(i).data();
      for (Eigen::Index f = 0; f < d; ++f) slot[f] += wi * x[f];
      slot[d] += wi;
    }
  });
  std::vector<double> total(static_cast<std::size_t>(stride), 0.0);
  for (Eigen::Index c = 0; c < n_chunks; ++c)
    for (Eigen::Index t = 0; t < stride; ++t) total[t] += partial[c * stride + t];
  RowMatrix centres = old;
  for (Eigen::Index j = 0; j < k; ++j) {
    const double* slot = total.data() + j * (d + 1);
    if (slot[d] > 0)
      for (Eigen::Index f = 0; f < d; ++f) centres(j, f) = slot[f] / slot[d];
  }
  return centres;
}

double weighted_inertia(MatrixRef X, const Eigen::VectorXd& w, const RowMatrix& centres, const Eigen::VectorXi& labels,
                        int n_threads) {
  std::vector<double> partial(static_cast<std::size_t>(chunk_count(X.rows())));
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    double s = 0;
    for (Eigen::Index i = b; i < e; ++i) s += w[i] * squared_distance(X.row(i).data(), centres.row(labels[i]).data(), X.cols());
    partial[c] = s;
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

/// Lloyd E-step: returns whether any label changed.
bool lloyd_assign(MatrixRef X, const RowMatrix& centres, Eigen::VectorXi& labels, int n_threads) {
  const CentreTable table(centres);
  std::vector<char> changed(static_cast<std::size_t>(chunk_count(X.rows())), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    std::vector<double> dist(static_cast<std::size_t>(table.k));
    for (Eigen::Index i = b; i < e; ++i) {
      table.distances(X.row(i).data(), dist.data());
      int best = 0;
      for (Eigen::Index j = 1; j < table.k; ++j)
        if (dist[j] < dist[best]) best = static_cast<int>(j);
      if (labels[i] != best) changed[c] = 1, labels[i] = best;
    }
  });
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

/// Hamerly state: u = upper bound on the distance to the own centre, l = lower bound on the
/// distance to every other centre (Euclidean, not squared).
struct Bounds {
  Eigen::VectorXd upper, lower;
};

/// Exact distances to all centres for rows whose bounds cannot rule out a change.
bool hamerly_assign(MatrixRef X, const RowMatrix& centres, Eigen::VectorXi& labels, Bounds& bounds, bool all,
                    int n_threads, long long& n_dist) {
  const Eigen::Index k = centres.rows(), d = X.cols();
  // s[j]: half the distance from centre j to its nearest other centre.
  Eigen::VectorXd s = Eigen::VectorXd::Constant(k, std::numeric_limits<double>::infinity());
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = a + 1; b < k; ++b) {
      const double half = 0.5 * std::sqrt(squared_distance(centres.row(a).data(), centres.row(b).data(), d));
      s[a] = std::min(s[a], half);
      s[b] = std::min(s[b], half);
    }
  const Eigen::Index n_chunks = chunk_count(X.rows());
  std::vector<char> changed(static_cast<std::size_t>(n_chunks), 0);
  std::vector<long long> evals(static_cast<std::size_t>(n_chunks), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    long long count = 0;
    for (Eigen::Index i = b; i < e; ++i) {
      const double* x = X.row(i).data();
      if (!all) {
        const double z = std::max(bounds.lower[i], s[labels[i]]);
        if (bounds.upper[i] <= z) continue;
        bounds.upper[i] = std::sqrt(squared_distance(x, centres.row(labels[i]).data(), d));
        ++count;
        if (bounds.upper[i] <= z) continue;
      }
      double d1 = std::numeric_limits<double>::infinity(), d2 = d1;
      int best = 0;
      for (Eigen::Index j = 0; j < k; ++j) {
        const double dj = squared_distance(x, centres.row(j).data(), d);
        if (dj < d1) {
          d2 = d1, d1 = dj, best = static_cast<int>(j);
        } else if (dj < d2) {
          d2 = dj;
        }
      }
      count += k;
      if (labels[i] != best) changed[c] = 1, labels[i] = best;
      bounds.upper[i] = std::sqrt(d1);
      bounds.lower[i] = std::sqrt(d2);
    }
    evals[c] = count;
  });
  for (long long v : evals) n_dist += v;
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

}  // namespace

KMeansRun run_kmeans(MatrixRef X, const Eigen::VectorXd& w, RowMatrix centres, const KMeansOptions& options,
                     KMeansAlgorithm algorithm, int n_threads) {
  const Eigen::Index n = X.rows();
  const double tol = options.tol * mean_variance(X, w);
  KMeansRun run;
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(n, -1);
  const bool hamerly = algorithm == KMeansAlgorithm::hamerly;
  Bounds bounds{Eigen::VectorXd::Zero(hamerly ? n : 0), Eigen::VectorXd::Zero(hamerly ? n : 0)};
  auto assign = [&](bool all) {
    if (hamerly) return hamerly_assign(X, centres, labels, bounds, all, n_threads, run.n_dist);
    run.n_dist += static_cast<long long>(n) * centres.rows();
    return lloyd_assign(X, centres, labels, n_threads);
  };
  assign(true);
  bool labels_current = true;
  for (int it = 1; it <= options.max_iter; ++it) {
    RowMatrix next = update_centres(X, w, labels, centres, n_threads);
    const Eigen::VectorXd shift = (next - centres).rowwise().norm();
    const double shift_sq = shift.squaredNorm();
    if (hamerly) {
      // Own centre moved by shift[a]: the upper bound grows by it; the others moved by at most the
      // largest shift among them, so the lower bound shrinks by that.
      Eigen::Index r1 = 0;
      const double max1 = shift.maxCoeff(&r1);
      double max2 = 0;
      for (Eigen::Index j = 0; j < shift.size(); ++j)
        if (j != r1) max2 = std::max(max2, shift[j]);
      for (Eigen::Index i = 0; i < n; ++i) {
        bounds.upper[i] += shift[labels[i]];
        bounds.lower[i] -= labels[i] == r1 ? max2 : max1;
      }
    }
    centres = std::move(next);
    run.n_iter = it;
    labels_current = false;
    if (shift_sq <= tol) {
      run.converged = true;
      break;
    }
    const bool changed = assign(false);
    labels_current = true;
    if (!changed) {
      run.converged = true;
      break;
    }
  }
  if (!labels_current) assign(false);
  run.inertia = weighted_inertia(X, w, centres, labels, n_threads);
  run.centres = std::move(centres);
  run.labels = std::move(labels);
  return run;
}

}  // namespace detail

void validate(const KMeansOptions& o) {
  constexpr const char* where = "KMeans";
  if (o.n_clusters < 1) detail::throw_invalid(where, "n_clusters", "must be >= 1, got ", o.n_clusters);
  if (o.n_init < 1) detail::throw_invalid(where, "n_init", "must be >= 1, got ", o.n_init);
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "must be >= 1, got ", o.max_iter);
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::throw_invalid(where, "tol", "must be finite and >= 0, got ", o.tol);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
  if (static_cast<int>(o.init) > 1) detail::throw_invalid(where, "init", "unknown value ", static_cast<int>(o.init));
  if (static_cast<int>(o.algorithm) > 2) detail::throw_invalid(where, "algorithm", "unknown value ", static_cast<int>(o.algorithm));
}

KMeans::KMeans(KMeansOptions options) : options_(options) {}

KMeans& KMeans::fit(MatrixRef X) { return fit(X, Eigen::VectorXd()); }

KMeans& KMeans::fit(MatrixRef X, VectorRef sample_weight) {
  constexpr const char* where = "KMeans::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::VectorXd w = detail::checked_weights(where, sample_weight, X.rows());
  if (options_.n_clusters > X.rows())
    detail::throw_invalid(where, "n_clusters", options_.n_clusters, " exceeds the number of rows of X (", X.rows(), ")");
  const int k = options_.n_clusters;
  algorithm_used_ = options_.algorithm;
  if (algorithm_used_ == KMeansAlgorithm::automatic)
    algorithm_used_ = (X.cols() <= 64 && k >= 4) ? KMeansAlgorithm::hamerly : KMeansAlgorithm::lloyd;
  detail::KMeansRun best;
  best.inertia = std::numeric_limits<double>::infinity();
  long long evaluations = 0;
  for (int r = 0; r < options_.n_init; ++r) {
    Random rng(options_.seed, static_cast<std::uint64_t>(r));
    RowMatrix start = options_.init == KMeansInit::kmeans_parallel
                          ? detail::seed_kmeans_parallel(X, w, k, rng, derive_seed(options_.seed, 1000003u + static_cast<std::uint64_t>(r)), options_.n_threads, where)
                          : detail::seed_kmeans_plus_plus(X, w, k, rng, options_.n_threads, where);
    detail::KMeansRun run = detail::run_kmeans(X, w, std::move(start), options_, algorithm_used_, options_.n_threads);
    evaluations += run.n_dist;
    if (run.inertia < best.inertia) {
      best = std::move(run);
      report_.best_init = r;
    }
  }
  centroids_ = std::move(best.centres);
  labels_ = std::move(best.labels);
  report_.n_iter = best.n_iter;
  report_.converged = best.converged;
  report_.objective = best.inertia;
  report_.n_distance_evaluations = evaluations;
  fitted_ = true;
  return *this;
}

const FitReport& KMeans::report() const {
  detail::require_fitted(fitted_, "KMeans::report");
  return report_;
}
const RowMatrix& KMeans::centroids() const {
  detail::require_fitted(fitted_, "KMeans::centroids");
  return centroids_;
}
const Eigen::VectorXi& KMeans::labels() const {
  detail::require_fitted(fitted_, "KMeans::labels");
  return labels_;
}
double KMeans::inertia() const { return report().objective; }

Eigen::VectorXi KMeans::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "KMeans::predict");
  detail::check_features("KMeans::predict", X, centroids_.cols());
  return detail::assign_nearest(X, centroids_, options_.n_threads).labels;
}

RowMatrix KMeans::transform(MatrixRef X) const {
  detail::require_fitted(fitted_, "KMeans::transform");
  detail::check_features("KMeans::transform", X, centroids_.cols());
  RowMatrix out(X.rows(), centroids_.rows());
  detail::for_each_chunk(X.rows(), options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i)
      for (Eigen::Index j = 0; j < centroids_.rows(); ++j)
        out(i, j) = std::sqrt(detail::squared_distance(X.row(i).data(), centroids_.row(j).data(), X.cols()));
  });
  return out;
}

double KMeans::inertia_of(MatrixRef X, VectorRef sample_weight) const {
  detail::require_fitted(fitted_, "KMeans::inertia_of");
  detail::check_features("KMeans::inertia_of", X, centroids_.cols());
  const Eigen::VectorXd w = detail::checked_weights("KMeans::inertia_of", sample_weight, X.rows());
  const detail::Assignment a = detail::assign_nearest(X, centroids_, options_.n_threads);
  return w.dot(a.min_sq);
}

KMeans KMeans::from_centroids(RowMatrix centroids, KMeansOptions options) {
  if (centroids.rows() < 1 || centroids.cols() < 1) detail::throw_invalid("KMeans::from_centroids", "centroids", "is empty");
  if (!centroids.allFinite()) detail::throw_invalid("KMeans::from_centroids", "centroids", "contains NaN or infinity");
  options.n_clusters = static_cast<int>(centroids.rows());
  KMeans model(options);
  model.centroids_ = std::move(centroids);
  model.fitted_ = true;
  return model;
}

namespace {
constexpr ModelTag kKMeansTag = model_tag("KMNS");
constexpr std::uint32_t kKMeansSchema = 1;

void write_report(ModelWriter& w, const FitReport& r) {
  w.i32(r.n_iter);
  w.boolean(r.converged);
  w.f64(r.objective);
  w.i32(r.best_init);
  w.i64(r.n_distance_evaluations);
}
}  // namespace

namespace detail {
FitReport read_report(ModelReader& r) {
  FitReport rep;
  rep.n_iter = r.i32("report.n_iter");
  rep.converged = r.boolean("report.converged");
  rep.objective = r.f64("report.objective");
  rep.best_init = r.i32("report.best_init");
  rep.n_distance_evaluations = r.i64("report.n_distance_evaluations");
  return rep;
}
void write_fit_report(ModelWriter& w, const FitReport& r) { write_report(w, r); }
}  // namespace detail

void KMeans::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "KMeans::save");
  ModelWriter w(kKMeansTag, kKMeansSchema);
  w.i32(options_.n_clusters);
  w.u8(static_cast<std::uint8_t>(options_.init));
  w.i32(options_.n_init);
  w.i32(options_.max_iter);
  w.f64(options_.tol);
  w.u8(static_cast<std::uint8_t>(options_.algorithm));
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  w.u8(static_cast<std::uint8_t>(algorithm_used_));
  write_report(w, report_);
  w.matrix(centroids_);
  w.finish(out);
}

KMeans KMeans::load(std::istream& in) {
  ModelReader r(in, kKMeansTag, kKMeansSchema);
  KMeansOptions o;
  o.n_clusters = r.i32("n_clusters");
  o.init = static_cast<KMeansInit>(r.u8("init"));
  o.n_init = r.i32("n_init");
  o.max_iter = r.i32("max_iter");
  o.tol = r.f64("tol");
  o.algorithm = static_cast<KMeansAlgorithm>(r.u8("algorithm"));
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  KMeans model(o);
  model.algorithm_used_ = static_cast<KMeansAlgorithm>(r.u8("algorithm_used"));
  model.report_ = detail::read_report(r);
  model.centroids_ = r.matrix("centroids");
  r.expect_end();
  if (model.centroids_.rows() != o.n_clusters || model.centroids_.cols() < 1)
    r.fail("centroids", detail::concat("shape ", model.centroids_.rows(), " x ", model.centroids_.cols(), " does not match n_clusters ", o.n_clusters));
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
