// SPDX-License-Identifier: Apache-2.0
// GaussianMixture: EM with full or diagonal covariances, k-means or random initialisation.
#include <crmine/cluster/gaussian_mixture.hpp>
#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "kmeans_impl.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <istream>
#include <numbers>
#include <ostream>

namespace crmine {
namespace {

constexpr Eigen::Index kBlockRows = 32768;  // per-block partial covariances: k x d x d each

double sum_in_chunks(const Eigen::VectorXd& v) {
  double total = 0;
  for (Eigen::Index c = 0; c < detail::chunk_count(v.size()); ++c) {
    const Eigen::Index b = c * detail::kChunkRows;
    total += v.segment(b, std::min(v.size(), b + detail::kChunkRows) - b).sum();
  }
  return total;
}

}  // namespace

void validate(const GaussianMixtureOptions& o) {
  constexpr const char* where = "GaussianMixture";
  if (o.n_components < 1) detail::throw_invalid(where, "n_components", "must be >= 1, got ", o.n_components);
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::throw_invalid(where, "tol", "must be finite and >= 0, got ", o.tol);
  if (!(o.reg_covar >= 0) || !std::isfinite(o.reg_covar)) detail::throw_invalid(where, "reg_covar", "must be finite and >= 0, got ", o.reg_covar);
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "must be >= 1, got ", o.max_iter);
  if (o.n_init < 1) detail::throw_invalid(where, "n_init", "must be >= 1, got ", o.n_init);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
  if (static_cast<int>(o.covariance_type) > 1) detail::throw_invalid(where, "covariance_type", "unknown value ", static_cast<int>(o.covariance_type));
  if (static_cast<int>(o.init) > 1) detail::throw_invalid(where, "init", "unknown value ", static_cast<int>(o.init));
}

GaussianMixture::GaussianMixture(GaussianMixtureOptions options) : options_(options) {}

void GaussianMixture::set_cholesky() {
  const auto k = static_cast<Eigen::Index>(covariances_.size());
  const Eigen::Index d = means_.cols();
  inv_chol_.assign(static_cast<std::size_t>(k), RowMatrix());
  log_det_.resize(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    const RowMatrix& cov = covariances_[j];
    if (options_.covariance_type == CovarianceType::full) {
      Eigen::LLT<Eigen::MatrixXd> llt(cov);
      if (llt.info() != Eigen::Success)
        detail::throw_invalid("GaussianMixture::fit", "reg_covar", "covariance of component ", j,
                              " is not positive definite (collapsed component or duplicate rows); increase reg_covar");
      const Eigen::MatrixXd L = llt.matrixL();
      inv_chol_[j] = L.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(d, d));
      log_det_[j] = 2 * L.diagonal().array().log().sum();
    } else {
      if (!(cov.array() > 0).all())
        detail::throw_invalid("GaussianMixture::fit", "reg_covar", "variance of component ", j, " is not positive; increase reg_covar");
      inv_chol_[j] = cov.array().sqrt().inverse().matrix();
      log_det_[j] = cov.array().log().sum();
    }
  }
}

RowMatrix GaussianMixture::weighted_log_prob(MatrixRef X) const {
  const Eigen::Index n = X.rows(), d = X.cols(), k = means_.rows();
  const bool full = options_.covariance_type == CovarianceType::full;
  Eigen::VectorXd constant(k);
  for (Eigen::Index j = 0; j < k; ++j)
    constant[j] = std::log(weights_[j]) - 0.5 * (static_cast<double>(d) * std::log(2 * std::numbers::pi) + log_det_[j]);
  RowMatrix out(n, k);
  detail::for_each_chunk(n, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    std::vector<double> diff(static_cast<std::size_t>(d));
    for (Eigen::Index i = b; i < e; ++i) {
      const double* x = X.row(i).data();
      for (Eigen::Index j = 0; j < k; ++j) {
        const double* mu = means_.row(j).data();
        const RowMatrix& inv = inv_chol_[j];
        double maha = 0;
        if (full) {
          for (Eigen::Index a = 0; a < d; ++a) diff[a] = x[a] - mu[a];
          for (Eigen::Index a = 0; a < d; ++a) {
            const double* row = inv.row(a).data();
            double y = 0;
            for (Eigen::Index c = 0; c <= a; ++c) y += row[c] * diff[c];
            maha += y * y;
          }
        } else {
          const double* s = inv.data();
          for (Eigen::Index a = 0; a < d; ++a) {
            const double y = (x[a] - mu[a]) * s[a];
            maha += y * y;
          }
        }
        out(i, j) = constant[j] - 0.5 * maha;
      }
    }
  });
  return out;
}

namespace {

/// Row-wise log-sum-exp; turns `log_prob` into responsibilities in place and returns log p(x).
Eigen::VectorXd normalise(RowMatrix& log_prob, int n_threads) {
  Eigen::VectorXd lse(log_prob.rows());
  detail::for_each_chunk(log_prob.rows(), n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i) {
      const double m = log_prob.row(i).maxCoeff();
      const double l = m + std::log((log_prob.row(i).array() - m).exp().sum());
      lse[i] = l;
      log_prob.row(i) = (log_prob.row(i).array() - l).exp();
    }
  });
  return lse;
}

}  // namespace

GaussianMixture& GaussianMixture::fit(MatrixRef X) { return fit(X, Eigen::VectorXd()); }

GaussianMixture& GaussianMixture::fit(MatrixRef X, VectorRef sample_weight) {
  constexpr const char* where = "GaussianMixture::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::VectorXd w = detail::checked_weights(where, sample_weight, X.rows());
  const double total_weight = sum_in_chunks(w);
  const Eigen::Index n = X.rows(), d = X.cols();
  const int k = options_.n_components;
  if (k > n) detail::throw_invalid(where, "n_components", k, " exceeds the number of rows of X (", n, ")");
  const bool full = options_.covariance_type == CovarianceType::full;
  const Eigen::Index blocks = (n + kBlockRows - 1) / kBlockRows;
  const Eigen::Index cov_size = full ? d * d : d;

  auto m_step = [&](const RowMatrix& resp) {
    // Pass 1: Nk and weighted sums; pass 2: centred second moments. Per-block partials, in order.
    std::vector<double> p1(static_cast<std::size_t>(blocks * k * (d + 1)), 0.0);
    detail::for_each_block(n, kBlockRows, options_.n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double* acc = p1.data() + c * k * (d + 1);
      for (Eigen::Index i = b; i < e; ++i)
        for (Eigen::Index j = 0; j < k; ++j) {
          const double r = resp(i, j);
          double* slot = acc + j * (d + 1);
          for (Eigen::Index f = 0; f < d; ++f) slot[f] += r * X(i, f);
          slot[d] += r;
        }
    });
    Eigen::VectorXd nk = Eigen::VectorXd::Zero(k);
    RowMatrix means = RowMatrix::Zero(k, d);
    for (Eigen::Index c = 0; c < blocks; ++c)
      for (Eigen::Index j = 0; j < k; ++j) {
        const double* slot = p1.data() + (c * k + j) * (d + 1);
        for (Eigen::Index f = 0; f < d; ++f) means(j, f) += slot[f];
        nk[j] += slot[d];
      }
    nk.array() += 10 * std::numeric_limits<double>::epsilon();  // an empty component stays finite
    for (Eigen::Index j = 0; j < k; ++j) means.row(j) /= nk[j];
    std::vector<double> p2(static_cast<std::size_t>(blocks * k * cov_size), 0.0);
    detail::for_each_block(n, kBlockRows, options_.n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      std::vector<double> diff(static_cast<std::size_t>(d));
      double* acc = p2.data() + c * k * cov_size;
      for (Eigen::Index i = b; i < e; ++i)
        for (Eigen::Index j = 0; j < k; ++j) {
          const double r = resp(i, j);
          if (r == 0) continue;
          double* slot = acc + j * cov_size;
          for (Eigen::Index f = 0; f < d; ++f) diff[f] = X(i, f) - means(j, f);
          if (full) {
            for (Eigen::Index a = 0; a < d; ++a) {
              const double ra = r * diff[a];
              for (Eigen::Index bb = 0; bb <= a; ++bb) slot[a * d + bb] += ra * diff[bb];
            }
          } else {
            for (Eigen::Index f = 0; f < d; ++f) slot[f] += r * diff[f] * diff[f];
          }
        }
    });
    covariances_.assign(static_cast<std::size_t>(k), full ? RowMatrix::Zero(d, d) : RowMatrix::Zero(1, d));
    for (Eigen::Index c = 0; c < blocks; ++c)
      for (Eigen::Index j = 0; j < k; ++j) {
        const double* slot = p2.data() + (c * k + j) * cov_size;
        double* cov = covariances_[j].data();
        for (Eigen::Index t = 0; t < cov_size; ++t) cov[t] += slot[t];
      }
    for (Eigen::Index j = 0; j < k; ++j) {
      RowMatrix& cov = covariances_[j];
      cov /= nk[j];
      if (full) {
        for (Eigen::Index a = 0; a < d; ++a) {
          for (Eigen::Index bb = 0; bb < a; ++bb) cov(bb, a) = cov(a, bb);
          cov(a, a) += options_.reg_covar;
        }
      } else {
        cov.array() += options_.reg_covar;
      }
    }
    weights_ = nk / total_weight;
    means_ = std::move(means);
    set_cholesky();
  };

  double best_ll = -std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_w;
  RowMatrix best_means;
  std::vector<RowMatrix> best_cov;
  FitReport best_report;
  for (int r = 0; r < options_.n_init; ++r) {
    RowMatrix resp = RowMatrix::Zero(n, k);
    if (options_.init == MixtureInit::kmeans) {
      KMeansOptions ko;
      ko.n_clusters = k;
      // Best of a few k-means restarts: EM cannot leave a poor start, and k-means is cheap next to it.
      ko.n_init = 3;
      ko.seed = derive_seed(options_.seed, static_cast<std::uint64_t>(r));
      ko.n_threads = options_.n_threads;
      KMeans km(ko);
      try {
        km.fit(X, w);
      } catch (const InvalidArgument&) {
        detail::throw_invalid(where, "n_components", k, " exceeds the number of distinct rows of X");
      }
      for (Eigen::Index i = 0; i < n; ++i) resp(i, km.labels()[i]) = w[i];
    } else {
      const std::uint64_t stream = derive_seed(options_.seed, static_cast<std::uint64_t>(r));
      detail::for_each_chunk(n, options_.n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
        Random rng(stream, static_cast<std::uint64_t>(c));
        for (Eigen::Index i = b; i < e; ++i) {
          for (Eigen::Index j = 0; j < k; ++j) resp(i, j) = rng.uniform();
          resp.row(i) *= w[i] / resp.row(i).sum();
        }
      });
    }
    m_step(resp);
    FitReport rep;
    double prev = -std::numeric_limits<double>::infinity(), ll = prev;
    for (int it = 1; it <= options_.max_iter; ++it) {
      resp = weighted_log_prob(X);
      // A row of weight w counts as w rows: its responsibilities and log-likelihood scale by w.
      Eigen::VectorXd log_p = normalise(resp, options_.n_threads);
      detail::for_each_chunk(n, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
        for (Eigen::Index i = b; i < e; ++i) {
          resp.row(i) *= w[i];
          log_p[i] *= w[i];
        }
      });
      ll = sum_in_chunks(log_p) / total_weight;
      m_step(resp);
      rep.n_iter = it;
      if (std::abs(ll - prev) < options_.tol) {
        rep.converged = true;
        break;
      }
      prev = ll;
    }
    rep.objective = ll;
    if (ll > best_ll || r == 0) {
      best_ll = ll;
      best_w = weights_;
      best_means = means_;
      best_cov = covariances_;
      best_report = rep;
      best_report.best_init = r;
    }
  }
  weights_ = std::move(best_w);
  means_ = std::move(best_means);
  covariances_ = std::move(best_cov);
  set_cholesky();
  report_ = best_report;
  fitted_ = true;
  return *this;
}

Eigen::VectorXd GaussianMixture::score_samples(MatrixRef X) const {
  detail::require_fitted(fitted_, "GaussianMixture::score_samples");
  detail::check_features("GaussianMixture::score_samples", X, means_.cols());
  RowMatrix lp = weighted_log_prob(X);
  return normalise(lp, options_.n_threads);
}

double GaussianMixture::score(MatrixRef X) const {
  const Eigen::VectorXd s = score_samples(X);
  if (s.size() == 0) detail::throw_invalid("GaussianMixture::score", "X", "is empty (0 rows)");
  return sum_in_chunks(s) / static_cast<double>(s.size());
}

RowMatrix GaussianMixture::predict_proba(MatrixRef X) const {
  detail::require_fitted(fitted_, "GaussianMixture::predict_proba");
  detail::check_features("GaussianMixture::predict_proba", X, means_.cols());
  RowMatrix lp = weighted_log_prob(X);
  normalise(lp, options_.n_threads);
  return lp;
}

Eigen::VectorXi GaussianMixture::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "GaussianMixture::predict");
  detail::check_features("GaussianMixture::predict", X, means_.cols());
  const RowMatrix lp = weighted_log_prob(X);
  Eigen::VectorXi labels(lp.rows());
  for (Eigen::Index i = 0; i < lp.rows(); ++i) lp.row(i).maxCoeff(&labels[i]);
  return labels;
}

RowMatrix GaussianMixture::transform(MatrixRef X) const {
  detail::require_fitted(fitted_, "GaussianMixture::transform");
  detail::check_features("GaussianMixture::transform", X, means_.cols());
  RowMatrix lp = weighted_log_prob(X);
  const auto d = static_cast<double>(means_.cols());
  for (Eigen::Index j = 0; j < lp.cols(); ++j) {
    const double constant = std::log(weights_[j]) - 0.5 * (d * std::log(2 * std::numbers::pi) + log_det_[j]);
    lp.col(j) = (2 * (constant - lp.col(j).array())).max(0.0).sqrt().matrix();
  }
  return lp;
}

long long GaussianMixture::n_parameters() const {
  const long long k = options_.n_components, d = means_.cols();
  const long long cov = options_.covariance_type == CovarianceType::full ? k * d * (d + 1) / 2 : k * d;
  return cov + k * d + k - 1;
}

double GaussianMixture::bic(MatrixRef X) const {
  const auto n = static_cast<double>(X.rows());
  return -2 * score(X) * n + static_cast<double>(n_parameters()) * std::log(n);
}

double GaussianMixture::aic(MatrixRef X) const {
  return -2 * score(X) * static_cast<double>(X.rows()) + 2 * static_cast<double>(n_parameters());
}

const FitReport& GaussianMixture::report() const {
  detail::require_fitted(fitted_, "GaussianMixture::report");
  return report_;
}
const Eigen::VectorXd& GaussianMixture::weights() const {
  detail::require_fitted(fitted_, "GaussianMixture::weights");
  return weights_;
}
const RowMatrix& GaussianMixture::means() const {
  detail::require_fitted(fitted_, "GaussianMixture::means");
  return means_;
}
RowMatrix GaussianMixture::covariance(int j) const {
  detail::require_fitted(fitted_, "GaussianMixture::covariance");
  if (j < 0 || j >= options_.n_components) throw std::out_of_range(detail::concat("GaussianMixture::covariance: j=", j, " out of range"));
  return covariances_[static_cast<std::size_t>(j)];
}

namespace {
constexpr ModelTag kTag = model_tag("GMIX");
constexpr std::uint32_t kSchema = 1;
}  // namespace

void GaussianMixture::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "GaussianMixture::save");
  ModelWriter w(kTag, kSchema);
  w.i32(options_.n_components);
  w.u8(static_cast<std::uint8_t>(options_.covariance_type));
  w.f64(options_.tol);
  w.f64(options_.reg_covar);
  w.i32(options_.max_iter);
  w.i32(options_.n_init);
  w.u8(static_cast<std::uint8_t>(options_.init));
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  detail::write_fit_report(w, report_);
  w.f64_vector(std::vector<double>(weights_.data(), weights_.data() + weights_.size()));
  w.matrix(means_);
  for (const RowMatrix& c : covariances_) w.matrix(c);
  w.finish(out);
}

GaussianMixture GaussianMixture::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  GaussianMixtureOptions o;
  o.n_components = r.i32("n_components");
  o.covariance_type = static_cast<CovarianceType>(r.u8("covariance_type"));
  o.tol = r.f64("tol");
  o.reg_covar = r.f64("reg_covar");
  o.max_iter = r.i32("max_iter");
  o.n_init = r.i32("n_init");
  o.init = static_cast<MixtureInit>(r.u8("init"));
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  GaussianMixture m(o);
  m.report_ = detail::read_report(r);
  const auto w = r.f64_vector("weights");
  m.means_ = r.matrix("means");
  if (w.size() != static_cast<std::size_t>(o.n_components) || m.means_.rows() != o.n_components || m.means_.cols() < 1)
    r.fail("means", "shape does not match n_components");
  m.weights_ = Eigen::Map<const Eigen::VectorXd>(w.data(), static_cast<Eigen::Index>(w.size()));
  const Eigen::Index d = m.means_.cols();
  for (int j = 0; j < o.n_components; ++j) {
    m.covariances_.push_back(r.matrix("covariance"));
    const RowMatrix& c = m.covariances_.back();
    if (c.cols() != d || c.rows() != (o.covariance_type == CovarianceType::full ? d : 1)) r.fail("covariance", "shape does not match");
  }
  r.expect_end();
  try {
    m.set_cholesky();
  } catch (const InvalidArgument& e) {
    r.fail("covariance", e.what());
  }
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
