// SPDX-License-Identifier: Apache-2.0
// HBOS: numpy.histogram-exact bins, pyod's right-closed lookup and out-of-range rule, save/load.
#include <crmine/deviation/hbos.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("HBOS");
constexpr std::uint32_t kSchema = 1;
constexpr Eigen::Index kBlock = 4096;

}  // namespace

void validate(const HBOSOptions& o) {
  constexpr const char* where = "HBOS";
  if (o.n_bins < 2) detail::throw_invalid(where, "n_bins", "must be >= 2, got ", o.n_bins);
  if (!(o.alpha > 0) || !std::isfinite(o.alpha)) detail::throw_invalid(where, "alpha", "must be finite and > 0, got ", o.alpha);
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::throw_invalid(where, "tol", "must be finite and >= 0, got ", o.tol);
  detail::check_contamination(where, o.contamination, false);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

HBOS::HBOS(HBOSOptions options) : options_(options) {}

HBOS& HBOS::fit(MatrixRef X) {
  constexpr const char* where = "HBOS::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::Index n = X.rows(), d = X.cols(), B = options_.n_bins;
  edges_.resize(d, B + 1);
  density_.resize(d, B);
  // Per-feature work; features are independent, so the result does not depend on the threads.
  detail::for_each_block(d, 1, options_.n_threads, [&](Eigen::Index, Eigen::Index f, Eigen::Index) {
    double lo = X(0, f), hi = lo;
    for (Eigen::Index i = 1; i < n; ++i) lo = std::min(lo, X(i, f)), hi = std::max(hi, X(i, f));
    if (lo == hi) lo -= 0.5, hi += 0.5;  // numpy.histogram's range for a constant feature
    // numpy.linspace: k x step + first, the last edge exactly `last`.
    const double step = (hi - lo) / static_cast<double>(B);
    for (Eigen::Index k = 0; k < B; ++k) edges_(f, k) = static_cast<double>(k) * step + lo;
    edges_(f, B) = hi;
    std::vector<double> count(static_cast<std::size_t>(B), 0.0);
    const double* e = edges_.row(f).data();
    for (Eigen::Index i = 0; i < n; ++i) {
      // numpy.histogram's bins are [e_k, e_k+1), the last one closed: the estimate from the
      // arithmetic is corrected against the stored edges exactly as numpy does.
      const double x = X(i, f);
      auto k = static_cast<Eigen::Index>((x - lo) / (hi - lo) * static_cast<double>(B));
      k = std::clamp<Eigen::Index>(k, 0, B - 1);
      if (x < e[k]) --k;
      else if (k != B - 1 && x >= e[k + 1]) ++k;
      count[static_cast<std::size_t>(k)] += 1;
    }
    for (Eigen::Index k = 0; k < B; ++k)
      density_(f, k) = count[static_cast<std::size_t>(k)] / static_cast<double>(n) / (e[k + 1] - e[k]);
  });
  derive();
  fitted_ = true;
  offset_ = detail::offset_from_scores(score_samples(X), options_.contamination);
  return *this;
}

void HBOS::derive() {
  log_score_.resize(density_.rows(), density_.cols());
  for (Eigen::Index f = 0; f < log_score_.rows(); ++f)
    for (Eigen::Index k = 0; k < log_score_.cols(); ++k) log_score_(f, k) = std::log2(density_(f, k) + options_.alpha);
  min_score_ = log_score_.rowwise().minCoeff();
}

double HBOS::feature_score(Eigen::Index f, double x) const {
  const Eigen::Index B = density_.cols();
  const double* e = edges_.row(f).data();
  // pyod looks bins up with numpy.digitize(right=True): bin k holds (e_k, e_k+1], and x == e_0
  // falls "below" the range, within tol, so it still scores as the first bin.
  const auto i = std::lower_bound(e, e + B + 1, x) - e;
  if (i == 0) return e[0] - x <= (e[1] - e[0]) * options_.tol ? log_score_(f, 0) : min_score_[f];
  if (i == B + 1) return x - e[B] <= (e[B] - e[B - 1]) * options_.tol ? log_score_(f, B - 1) : min_score_[f];
  return log_score_(f, i - 1);
}

RowMatrix HBOS::feature_scores(MatrixRef X) const {
  constexpr const char* where = "HBOS::feature_scores";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  RowMatrix out(X.rows(), X.cols());
  detail::for_each_block(X.rows(), kBlock, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i)
      for (Eigen::Index f = 0; f < X.cols(); ++f) out(i, f) = feature_score(f, X(i, f));
  });
  return out;
}

Eigen::VectorXd HBOS::score_samples(MatrixRef X) const {
  constexpr const char* where = "HBOS::score_samples";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  Eigen::VectorXd out(X.rows());
  detail::for_each_block(X.rows(), kBlock, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i) {
      double s = 0;
      for (Eigen::Index f = 0; f < X.cols(); ++f) s += feature_score(f, X(i, f));
      out[i] = s;
    }
  });
  return out;
}

double HBOS::offset() const {
  detail::require_fitted(fitted_, "HBOS::offset");
  return offset_;
}

const RowMatrix& HBOS::bin_edges() const {
  detail::require_fitted(fitted_, "HBOS::bin_edges");
  return edges_;
}

const RowMatrix& HBOS::densities() const {
  detail::require_fitted(fitted_, "HBOS::densities");
  return density_;
}

void HBOS::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "HBOS::save");
  ModelWriter w(kTag, kSchema);
  w.i32(options_.n_bins);
  w.f64(options_.alpha);
  w.f64(options_.tol);
  w.f64(options_.contamination);
  w.i32(options_.n_threads);
  w.f64(offset_);
  w.matrix(edges_);
  w.matrix(density_);
  w.finish(out);
}

HBOS HBOS::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  HBOSOptions o;
  o.n_bins = r.i32("n_bins");
  o.alpha = r.f64("alpha");
  o.tol = r.f64("tol");
  o.contamination = r.f64("contamination");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  HBOS model(o);
  model.offset_ = r.f64("offset");
  model.edges_ = r.matrix("bin_edges");
  model.density_ = r.matrix("densities");
  r.expect_end();
  if (!std::isfinite(model.offset_)) r.fail("offset", "must be finite");
  if (model.edges_.rows() < 1 || model.edges_.cols() != o.n_bins + 1 || model.density_.rows() != model.edges_.rows() ||
      model.density_.cols() != o.n_bins)
    r.fail("bin_edges", "shapes do not match n_bins");
  for (Eigen::Index f = 0; f < model.edges_.rows(); ++f)
    for (Eigen::Index k = 0; k < o.n_bins; ++k)
      if (!(model.edges_(f, k) < model.edges_(f, k + 1)) || !(model.density_(f, k) >= 0) || !std::isfinite(model.density_(f, k)))
        r.fail("bin_edges", detail::concat("feature ", f, ": edges must increase and densities be finite and >= 0"));
  model.derive();
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
