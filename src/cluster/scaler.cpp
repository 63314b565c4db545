// SPDX-License-Identifier: Apache-2.0
// FeatureScaler: log1p, then standard or robust scaling, remembered for predict and profiles.
#include <crmine/cluster/scaler.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "stats.hpp"

#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {

FeatureScaler::FeatureScaler(ScalerOptions options) : options_(std::move(options)) {}

namespace {
void check_log_input(const char* where, MatrixRef X, const std::vector<std::uint8_t>& log1p) {
  if (!log1p.empty() && static_cast<Eigen::Index>(log1p.size()) != X.cols())
    detail::throw_invalid(where, "log1p", "has ", log1p.size(), " entries, X has ", X.cols(), " columns");
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(log1p.size()); ++j)
    if (log1p[j])
      for (Eigen::Index i = 0; i < X.rows(); ++i)
        if (!(X(i, j) > -1)) detail::throw_invalid(where, "X", "column ", j, " has value ", X(i, j), " <= -1 where log1p is requested");
}

RowMatrix apply_log(MatrixRef X, const std::vector<std::uint8_t>& log1p) {
  RowMatrix out = X;
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(log1p.size()); ++j)
    if (log1p[j]) out.col(j) = out.col(j).array().log1p().matrix();
  return out;
}
}  // namespace

FeatureScaler& FeatureScaler::fit(MatrixRef X) {
  constexpr const char* where = "FeatureScaler::fit";
  if (static_cast<int>(options_.method) > 2) detail::throw_invalid(where, "method", "unknown value ", static_cast<int>(options_.method));
  detail::check_data(where, "X", X);
  check_log_input(where, X, options_.log1p);
  const RowMatrix Y = apply_log(X, options_.log1p);
  const Eigen::Index d = Y.cols();
  center_ = Eigen::VectorXd::Zero(d);
  scale_ = Eigen::VectorXd::Ones(d);
  for (Eigen::Index j = 0; j < d; ++j) {
    std::vector<double> col(Y.col(j).data(), Y.col(j).data() + 0);
    col.resize(static_cast<std::size_t>(Y.rows()));
    for (Eigen::Index i = 0; i < Y.rows(); ++i) col[i] = Y(i, j);
    if (options_.method == ScaleMethod::standard) {
      const double mean = Y.col(j).mean();
      const double sd = std::sqrt((Y.col(j).array() - mean).square().mean());
      center_[j] = mean;
      scale_[j] = sd > 0 ? sd : 1.0;
    } else if (options_.method == ScaleMethod::robust) {
      const double q1 = detail::quantile(col, 0.25), q2 = detail::quantile(col, 0.5), q3 = detail::quantile(col, 0.75);
      center_[j] = q2;
      scale_[j] = q3 - q1 > 0 ? q3 - q1 : 1.0;
    }
  }
  fitted_ = true;
  return *this;
}

RowMatrix FeatureScaler::transform(MatrixRef X) const {
  constexpr const char* where = "FeatureScaler::transform";
  if (!fitted_) throw NotFittedError("FeatureScaler::transform: this scaler is not fitted yet; call fit first");
  detail::check_features(where, X, center_.size());
  check_log_input(where, X, options_.log1p);
  RowMatrix Y = apply_log(X, options_.log1p);
  Y.rowwise() -= center_.transpose();
  Y.array().rowwise() /= scale_.transpose().array();
  return Y;
}

RowMatrix FeatureScaler::inverse_transform(MatrixRef X) const {
  if (!fitted_) throw NotFittedError("FeatureScaler::inverse_transform: this scaler is not fitted yet; call fit first");
  detail::check_features("FeatureScaler::inverse_transform", X, center_.size());
  RowMatrix Y = X;
  Y.array().rowwise() *= scale_.transpose().array();
  Y.rowwise() += center_.transpose();
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(options_.log1p.size()); ++j)
    if (options_.log1p[j]) Y.col(j) = Y.col(j).array().exp().matrix() - Eigen::VectorXd::Ones(Y.rows());
  return Y;
}

const Eigen::VectorXd& FeatureScaler::center() const {
  if (!fitted_) throw NotFittedError("FeatureScaler::center: not fitted");
  return center_;
}
const Eigen::VectorXd& FeatureScaler::scale() const {
  if (!fitted_) throw NotFittedError("FeatureScaler::scale: not fitted");
  return scale_;
}

namespace {
constexpr ModelTag kTag = model_tag("SCAL");
constexpr std::uint32_t kSchema = 1;
}  // namespace

void FeatureScaler::save(std::ostream& out) const {
  if (!fitted_) throw NotFittedError("FeatureScaler::save: not fitted");
  ModelWriter w(kTag, kSchema);
  w.u8(static_cast<std::uint8_t>(options_.method));
  w.u64(options_.log1p.size());
  for (auto v : options_.log1p) w.u8(v);
  w.f64_vector(std::vector<double>(center_.data(), center_.data() + center_.size()));
  w.f64_vector(std::vector<double>(scale_.data(), scale_.data() + scale_.size()));
  w.finish(out);
}

FeatureScaler FeatureScaler::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  ScalerOptions o;
  o.method = static_cast<ScaleMethod>(r.u8("method"));
  if (static_cast<int>(o.method) > 2) r.fail("method", "unknown value");
  const auto n_log = r.u64("log1p");
  if (n_log > 1u << 24) r.fail("log1p", "implausible length");
  for (std::uint64_t i = 0; i < n_log; ++i) o.log1p.push_back(r.u8("log1p"));
  const auto c = r.f64_vector("center");
  const auto s = r.f64_vector("scale");
  r.expect_end();
  if (c.size() != s.size() || (!o.log1p.empty() && o.log1p.size() != c.size())) r.fail("scale", "lengths do not match");
  FeatureScaler f(o);
  f.center_ = Eigen::Map<const Eigen::VectorXd>(c.data(), static_cast<Eigen::Index>(c.size()));
  f.scale_ = Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Eigen::Index>(s.size()));
  f.fitted_ = true;
  return f;
}

}  // namespace crmine
