// SPDX-License-Identifier: Apache-2.0
// Mahalanobis: FastMCD concentration steps, consistency correction and reweighting as scikit-learn.
#include <crmine/deviation/mahalanobis.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("MCDE");
constexpr std::uint32_t kSchema = 1;
constexpr Eigen::Index kBlock = 1024;
constexpr Eigen::Index kSubsampleRows = 1500;  // Rousseeuw & Van Driessen's merged-set size
constexpr int kKeep = 10;                      // candidates refined on all rows
constexpr int kMaxSteps = 30;                  // C-steps per refinement (scikit-learn's max_iter)
// A feature whose variance inside the subset is below this share of its overall variance makes the
// subset's covariance singular: the MCD has found an exact fit.
constexpr double kSingular = 1e-12;

/// Regularised lower incomplete gamma P(a, x) (series below a + 1, continued fraction above).
double gamma_p(double a, double x) {
  if (x <= 0) return 0.0;
  const double log_front = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    double term = 1.0 / a, sum = term;
    for (int k = 1; k < 1000 && std::abs(term) > std::abs(sum) * 1e-17; ++k) {
      term *= x / (a + k);
      sum += term;
    }
    return std::min(1.0, sum * std::exp(log_front));
  }
  // Lentz's method for the continued fraction of Q(a, x).
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < 1e-17) break;
  }
  return std::max(0.0, 1.0 - std::exp(log_front) * h);
}

double chi2_cdf(double x, double dof) { return gamma_p(dof / 2, x / 2); }

/// Croux & Haesbroeck's factor making the covariance of the share `alpha` of most central rows
/// consistent at the normal (scikit-learn's _consistency_factor).
double consistency_factor(double dof, double alpha) { return alpha / chi2_cdf(chi2_quantile(alpha, dof), dof + 2); }

struct Estimate {
  Eigen::VectorXd mean;
  RowMatrix cov;
  RowMatrix whitening;  // L^-1, cov = L L^T
  double log_det = 0;
  Eigen::Index singular_feature = -1;  // >= 0: exact fit in this feature
  std::vector<Eigen::Index> subset;
};

/// Mean and (ddof 0) covariance of the rows `idx` of X, summed in a fixed order.
Estimate estimate(MatrixRef X, std::vector<Eigen::Index> idx, const Eigen::VectorXd& overall_var) {
  const Eigen::Index d = X.cols(), m = static_cast<Eigen::Index>(idx.size());
  Estimate e;
  e.mean = Eigen::VectorXd::Zero(d);
  for (Eigen::Index i : idx) e.mean += X.row(i).transpose();
  e.mean /= static_cast<double>(m);
  e.cov = RowMatrix::Zero(d, d);
  RowMatrix block(std::min(kBlock, m), d);
  for (Eigen::Index b = 0; b < m; b += kBlock) {
    const Eigen::Index len = std::min(kBlock, m - b);
    for (Eigen::Index r = 0; r < len; ++r) block.row(r) = X.row(idx[static_cast<std::size_t>(b + r)]) - e.mean.transpose();
    e.cov.noalias() += block.topRows(len).transpose() * block.topRows(len);
  }
  e.cov /= static_cast<double>(m);
  e.subset = std::move(idx);
  Eigen::LLT<RowMatrix> llt(e.cov);
  const RowMatrix L = llt.matrixL();
  // L(j, j)^2 is feature j's variance left after regressing on the features before it, so a tiny
  // ratio to its overall variance flags constant and collinear features alike.
  const bool factored = llt.info() == Eigen::Success;
  double worst = std::numeric_limits<double>::infinity();
  for (Eigen::Index j = 0; j < d; ++j) {
    const double ratio = (factored ? L(j, j) * L(j, j) : e.cov(j, j)) / overall_var[j];
    if (ratio < worst) worst = ratio, e.singular_feature = j;
  }
  if (!factored || !(worst > kSingular)) {
    e.log_det = -std::numeric_limits<double>::infinity();
    return e;
  }
  e.singular_feature = -1;
  e.log_det = 2 * L.diagonal().array().log().sum();
  e.whitening = L.triangularView<Eigen::Lower>().solve(RowMatrix::Identity(d, d));
  return e;
}

/// Squared Mahalanobis distances of all rows of X under (mean, whitening).
Eigen::VectorXd distances(MatrixRef X, const Eigen::VectorXd& mean, const RowMatrix& whitening, int n_threads) {
  Eigen::VectorXd out(X.rows());
  const RowMatrix Wt = whitening.transpose();
  detail::for_each_block(X.rows(), kBlock, n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    const RowMatrix centred = X.middleRows(b, e - b).rowwise() - mean.transpose();
    out.segment(b, e - b) = (centred * Wt).rowwise().squaredNorm();
  });
  return out;
}

/// Indices of the h smallest distances (ties by index, so the choice is reproducible), sorted.
std::vector<Eigen::Index> closest(const Eigen::VectorXd& dist, Eigen::Index h) {
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(dist.size()));
  std::iota(idx.begin(), idx.end(), 0);
  auto less = [&](Eigen::Index a, Eigen::Index b) { return dist[a] < dist[b] || (dist[a] == dist[b] && a < b); };
  std::nth_element(idx.begin(), idx.begin() + (h - 1), idx.end(), less);
  idx.resize(static_cast<std::size_t>(h));
  std::sort(idx.begin(), idx.end());
  return idx;
}

/// C-steps from `e` until the determinant stops decreasing (or `steps` are done). A step that
/// would reach a singular covariance (an exact fit) is not taken.
Estimate concentrate(MatrixRef X, Estimate e, Eigen::Index h, int steps, const Eigen::VectorXd& overall_var, int n_threads) {
  for (int s = 0; s < steps && e.singular_feature < 0; ++s) {
    Estimate next = estimate(X, closest(distances(X, e.mean, e.whitening, n_threads), h), overall_var);
    if (next.singular_feature >= 0) break;
    const bool improved = next.log_det < e.log_det - 1e-12 * std::max(1.0, std::abs(e.log_det));
    const bool same = next.subset == e.subset;
    if (next.log_det <= e.log_det) e = std::move(next);
    if (!improved || same) break;
  }
  return e;
}

}  // namespace

double chi2_quantile(double p, double dof) {
  if (!(p > 0 && p < 1) || !(dof > 0)) detail::throw_invalid("chi2_quantile", "p", "must be in (0, 1) with dof > 0, got p = ", p, ", dof = ", dof);
  double lo = 0, hi = std::max(1.0, dof);
  while (chi2_cdf(hi, dof) < p) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (chi2_cdf(mid, dof) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

void validate(const MahalanobisOptions& o) {
  constexpr const char* where = "Mahalanobis";
  if (!(o.support_fraction >= 0 && o.support_fraction <= 1))
    detail::throw_invalid(where, "support_fraction", "must be in (0, 1] (0 = default), got ", o.support_fraction);
  if (o.n_trials < 1) detail::throw_invalid(where, "n_trials", "must be >= 1, got ", o.n_trials);
  detail::check_contamination(where, o.contamination, false);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

Mahalanobis::Mahalanobis(MahalanobisOptions options) : options_(options) {}

Mahalanobis& Mahalanobis::fit(MatrixRef X) {
  constexpr const char* where = "Mahalanobis::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::Index n = X.rows(), d = X.cols();
  if (n <= d + 1) detail::throw_invalid(where, "X", "n_samples = ", n, ", but a covariance of ", d, " features needs more than ", d + 1, " rows");
  const Eigen::Index h = options_.support_fraction > 0
                             ? static_cast<Eigen::Index>(options_.support_fraction * static_cast<double>(n))
                             : static_cast<Eigen::Index>(std::ceil(0.5 * static_cast<double>(n + d + 1)));
  if (h <= d || h > n)
    detail::throw_invalid(where, "support_fraction", "gives ", h, " support rows; it must be more than n_features (", d, ")");
  const Eigen::VectorXd overall_var = ((X.rowwise() - X.colwise().mean()).colwise().squaredNorm() / static_cast<double>(n)).transpose();
  for (Eigen::Index j = 0; j < d; ++j)
    if (!(overall_var[j] > 0))
      detail::throw_invalid(where, "X", "feature ", j, " is constant; a covariance needs every feature to vary (drop it, or use RobustZ or HBOS)");

  // Starts on a random subsample of at most kSubsampleRows rows, with h scaled to its size.
  Random rng(options_.seed, 0);
  std::vector<Eigen::Index> sub(static_cast<std::size_t>(n));
  std::iota(sub.begin(), sub.end(), 0);
  const Eigen::Index m = std::min(n, kSubsampleRows);
  for (Eigen::Index i = 0; i < m; ++i) std::swap(sub[i], sub[i + static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(n - i)))]);
  sub.resize(static_cast<std::size_t>(m));
  std::sort(sub.begin(), sub.end());
  RowMatrix S(m, d);
  for (Eigen::Index i = 0; i < m; ++i) S.row(i) = X.row(sub[i]);
  const Eigen::Index h_sub = std::max<Eigen::Index>(d + 1, static_cast<Eigen::Index>(std::ceil(static_cast<double>(h) * static_cast<double>(m) / static_cast<double>(n))));

  const int T = options_.n_trials;
  std::vector<Estimate> trials(static_cast<std::size_t>(T));
  detail::ExceptionCollector errors;
  const int threads = std::min(detail::resolve_threads(options_.n_threads), T);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
  for (int t = 0; t < T; ++t) {
    errors.run([&] {
      Random trng(options_.seed, static_cast<std::uint64_t>(t) + 1);
      // A random (d+1)-subset, enlarged row by row while its covariance is singular.
      std::vector<Eigen::Index> perm(static_cast<std::size_t>(m));
      std::iota(perm.begin(), perm.end(), 0);
      Eigen::Index size = 0;
      auto draw = [&] {
        std::swap(perm[size], perm[size + static_cast<Eigen::Index>(trng.below(static_cast<std::uint64_t>(m - size)))]);
        ++size;
      };
      while (size < d + 1) draw();
      Estimate e = estimate(S, {perm.begin(), perm.begin() + size}, overall_var);
      while (e.singular_feature >= 0 && size < h_sub) {
        draw();
        e = estimate(S, {perm.begin(), perm.begin() + size}, overall_var);
      }
      if (e.singular_feature < 0) e = estimate(S, closest(distances(S, e.mean, e.whitening, 1), h_sub), overall_var);
      trials[t] = concentrate(S, std::move(e), h_sub, 2, overall_var, 1);
    });
  }
  errors.rethrow();

  // The kKeep best non-singular starts (lowest determinant, ties by trial), refined on all rows.
  std::vector<int> order;
  for (int t = 0; t < T; ++t)
    if (trials[static_cast<std::size_t>(t)].singular_feature < 0) order.push_back(t);
  if (order.empty())
    detail::throw_invalid(where, "X", "feature ", trials[0].singular_feature, " is constant or collinear within ",
                          h_sub, " of ", m, " sampled rows, so every candidate covariance is singular (an exact fit); "
                          "drop or jitter that feature, raise support_fraction, or use RobustZ or HBOS");
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return trials[a].log_det < trials[b].log_det; });
  Estimate best;
  best.log_det = std::numeric_limits<double>::infinity();
  Eigen::Index singular_feature = -1;
  for (std::size_t r = 0; r < std::min<std::size_t>(kKeep, order.size()); ++r) {
    const Estimate& start = trials[static_cast<std::size_t>(order[r])];
    Estimate first = estimate(X, closest(distances(X, start.mean, start.whitening, options_.n_threads), h), overall_var);
    if (first.singular_feature >= 0) {
      singular_feature = first.singular_feature;
      continue;
    }
    Estimate refined = concentrate(X, std::move(first), h, kMaxSteps, overall_var, options_.n_threads);
    if (refined.log_det < best.log_det) best = std::move(refined);
  }
  if (best.whitening.size() == 0)
    detail::throw_invalid(where, "X", "feature ", singular_feature, " is constant or collinear within the ", h, " most central of ", n,
                          " rows, so every candidate covariance is singular (an exact fit); drop or jitter that feature, "
                          "raise support_fraction, or use RobustZ or HBOS");

  raw_location_ = best.mean;
  raw_covariance_ = best.cov;
  support_size_ = h;
  // Consistency at the normal, then reweighting by the rows inside the 0.975 chi2 quantile.
  const double dof = static_cast<double>(d);
  const Eigen::VectorXd raw_dist =
      distances(X, best.mean, best.whitening, options_.n_threads) / consistency_factor(dof, static_cast<double>(h) / static_cast<double>(n));
  const double cutoff = chi2_quantile(0.975, dof);
  std::vector<Eigen::Index> inside;
  for (Eigen::Index i = 0; i < n; ++i)
    if (raw_dist[i] < cutoff) inside.push_back(i);
  if (static_cast<Eigen::Index>(inside.size()) <= d)
    detail::throw_invalid(where, "X", "only ", inside.size(), " rows lie inside the raw MCD ellipsoid; too few to reweight");
  Estimate reweighted = estimate(X, std::move(inside), overall_var);
  location_ = reweighted.mean;
  covariance_ = reweighted.cov * consistency_factor(dof, 0.975);
  derive(where);
  fitted_ = true;
  offset_ = detail::offset_from_scores(score_samples(X), options_.contamination);
  return *this;
}

void Mahalanobis::derive(const char* where) {
  // A pseudo-inverse square root, as scikit-learn's pinvh: directions with eigenvalues below
  // d x eps x the largest (features collinear among the central rows) carry no distance.
  Eigen::SelfAdjointEigenSolver<RowMatrix> eig(covariance_);
  if (eig.info() != Eigen::Success || !(eig.eigenvalues().maxCoeff() > 0))
    detail::throw_invalid(where, "X", "the reweighted covariance has no positive eigenvalue");
  const Eigen::VectorXd& values = eig.eigenvalues();
  const double cutoff = values.maxCoeff() * static_cast<double>(values.size()) * std::numeric_limits<double>::epsilon();
  const Eigen::VectorXd inv_sqrt = (values.array() > cutoff).select(values.array().max(cutoff).rsqrt(), 0.0);
  whitening_ = inv_sqrt.asDiagonal() * eig.eigenvectors().transpose();
}

Eigen::VectorXd Mahalanobis::mahalanobis(MatrixRef X) const {
  constexpr const char* where = "Mahalanobis::mahalanobis";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  return distances(X, location_, whitening_, options_.n_threads);
}

Eigen::VectorXd Mahalanobis::score_samples(MatrixRef X) const {
  constexpr const char* where = "Mahalanobis::score_samples";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  return -distances(X, location_, whitening_, options_.n_threads);
}

double Mahalanobis::offset() const {
  detail::require_fitted(fitted_, "Mahalanobis::offset");
  return offset_;
}

const Eigen::VectorXd& Mahalanobis::location() const {
  detail::require_fitted(fitted_, "Mahalanobis::location");
  return location_;
}
const RowMatrix& Mahalanobis::covariance() const {
  detail::require_fitted(fitted_, "Mahalanobis::covariance");
  return covariance_;
}
const Eigen::VectorXd& Mahalanobis::raw_location() const {
  detail::require_fitted(fitted_, "Mahalanobis::raw_location");
  return raw_location_;
}
const RowMatrix& Mahalanobis::raw_covariance() const {
  detail::require_fitted(fitted_, "Mahalanobis::raw_covariance");
  return raw_covariance_;
}

void Mahalanobis::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "Mahalanobis::save");
  ModelWriter w(kTag, kSchema);
  w.f64(options_.support_fraction);
  w.i32(options_.n_trials);
  w.f64(options_.contamination);
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  w.i64(support_size_);
  w.f64(offset_);
  w.f64_vector({location_.data(), location_.data() + location_.size()});
  w.matrix(covariance_);
  w.f64_vector({raw_location_.data(), raw_location_.data() + raw_location_.size()});
  w.matrix(raw_covariance_);
  w.finish(out);
}

Mahalanobis Mahalanobis::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  MahalanobisOptions o;
  o.support_fraction = r.f64("support_fraction");
  o.n_trials = r.i32("n_trials");
  o.contamination = r.f64("contamination");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  Mahalanobis model(o);
  model.support_size_ = r.i64("support_size");
  model.offset_ = r.f64("offset");
  const auto loc = r.f64_vector("location");
  model.covariance_ = r.matrix("covariance");
  const auto raw_loc = r.f64_vector("raw_location");
  model.raw_covariance_ = r.matrix("raw_covariance");
  r.expect_end();
  const auto d = static_cast<Eigen::Index>(loc.size());
  if (d < 1 || static_cast<Eigen::Index>(raw_loc.size()) != d || model.covariance_.rows() != d || model.covariance_.cols() != d ||
      model.raw_covariance_.rows() != d || model.raw_covariance_.cols() != d)
    r.fail("covariance", "shapes do not match the location");
  if (!std::isfinite(model.offset_) || !model.covariance_.allFinite()) r.fail("covariance", "must be finite");
  model.location_ = Eigen::Map<const Eigen::VectorXd>(loc.data(), d);
  model.raw_location_ = Eigen::Map<const Eigen::VectorXd>(raw_loc.data(), d);
  try {
    model.derive("Mahalanobis::load");
  } catch (const InvalidArgument& e) {
    r.fail("covariance", e.what());
  }
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
