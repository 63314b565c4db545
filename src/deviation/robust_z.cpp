// SPDX-License-Identifier: Apache-2.0
// RobustZ: per-feature median and MAD (mean-absolute-deviation fallback), max or RMS aggregation.
#include <crmine/deviation/robust_z.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"

#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("RBZ1");
constexpr std::uint32_t kSchema = 1;
constexpr Eigen::Index kBlock = 4096;
constexpr double kMadToSigma = 1.482602218505602;       // 1 / Phi^-1(3/4)
constexpr double kMeanAdToSigma = 1.2533141373155003;   // sqrt(pi / 2)

}  // namespace

void validate(const RobustZOptions& o) {
  constexpr const char* where = "RobustZ";
  if (o.aggregate != RobustZAggregate::max_abs && o.aggregate != RobustZAggregate::rms)
    detail::throw_invalid(where, "aggregate", "must be max_abs or rms, got ", static_cast<int>(o.aggregate));
  detail::check_contamination(where, o.contamination, false);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

RobustZ::RobustZ(RobustZOptions options) : options_(options) {}

RobustZ& RobustZ::fit(MatrixRef X) {
  constexpr const char* where = "RobustZ::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::Index n = X.rows(), d = X.cols();
  center_.resize(d);
  scale_.resize(d);
  detail::for_each_block(d, 1, options_.n_threads, [&](Eigen::Index, Eigen::Index f, Eigen::Index) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = X(i, f);
    const double med = detail::quantile(v, 0.5);
    double mean_ad = 0;
    for (double& x : v) {
      x = std::abs(x - med);
      mean_ad += x;
    }
    mean_ad /= static_cast<double>(n);
    const double mad = detail::quantile(v, 0.5);
    center_[f] = med;
    scale_[f] = mad > 0 ? kMadToSigma * mad : kMeanAdToSigma * mean_ad;
  });
  fitted_ = true;
  offset_ = detail::offset_from_scores(score_samples(X), options_.contamination);
  return *this;
}

RowMatrix RobustZ::z_scores(MatrixRef X) const {
  constexpr const char* where = "RobustZ::z_scores";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  RowMatrix z(X.rows(), X.cols());
  const Eigen::ArrayXd inv = (scale_.array() > 0).select(scale_.array().inverse(), 0.0);
  detail::for_each_block(X.rows(), kBlock, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i)
      z.row(i) = ((X.row(i).transpose().array() - center_.array()) * inv).transpose();
  });
  return z;
}

Eigen::VectorXd RobustZ::score_samples(MatrixRef X) const {
  constexpr const char* where = "RobustZ::score_samples";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features());
  Eigen::VectorXd out(X.rows());
  const Eigen::ArrayXd inv = (scale_.array() > 0).select(scale_.array().inverse(), 0.0);
  const auto used = static_cast<double>((scale_.array() > 0).count());
  const bool rms = options_.aggregate == RobustZAggregate::rms;
  detail::for_each_block(X.rows(), kBlock, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i) {
      const Eigen::ArrayXd z = (X.row(i).transpose().array() - center_.array()) * inv;
      out[i] = rms ? -(used > 0 ? std::sqrt(z.square().sum() / used) : 0.0) : -z.abs().maxCoeff();
    }
  });
  return out;
}

double RobustZ::offset() const {
  detail::require_fitted(fitted_, "RobustZ::offset");
  return offset_;
}

const Eigen::VectorXd& RobustZ::center() const {
  detail::require_fitted(fitted_, "RobustZ::center");
  return center_;
}

const Eigen::VectorXd& RobustZ::scale() const {
  detail::require_fitted(fitted_, "RobustZ::scale");
  return scale_;
}

void RobustZ::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "RobustZ::save");
  ModelWriter w(kTag, kSchema);
  w.u8(static_cast<std::uint8_t>(options_.aggregate));
  w.f64(options_.contamination);
  w.i32(options_.n_threads);
  w.f64(offset_);
  w.f64_vector({center_.data(), center_.data() + center_.size()});
  w.f64_vector({scale_.data(), scale_.data() + scale_.size()});
  w.finish(out);
}

RobustZ RobustZ::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  RobustZOptions o;
  o.aggregate = static_cast<RobustZAggregate>(r.u8("aggregate"));
  o.contamination = r.f64("contamination");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  RobustZ model(o);
  model.offset_ = r.f64("offset");
  const auto center = r.f64_vector("center");
  const auto scale = r.f64_vector("scale");
  r.expect_end();
  if (center.empty() || center.size() != scale.size()) r.fail("scale", "center and scale must have one entry per feature");
  if (!std::isfinite(model.offset_)) r.fail("offset", "must be finite");
  model.center_ = Eigen::Map<const Eigen::VectorXd>(center.data(), static_cast<Eigen::Index>(center.size()));
  model.scale_ = Eigen::Map<const Eigen::VectorXd>(scale.data(), static_cast<Eigen::Index>(scale.size()));
  if (!model.center_.allFinite() || !model.scale_.allFinite() || (model.scale_.array() < 0).any())
    r.fail("scale", "center and scale must be finite, scale >= 0");
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
