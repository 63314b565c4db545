// SPDX-License-Identifier: Apache-2.0
// Mixed Gaussian / categorical naive Bayes.
#include <crmine/classify/naive_bayes.hpp>
#include <crmine/core/serialize.hpp>

#include "io.hpp"

#include <cmath>
#include <istream>
#include <numbers>
#include <ostream>
#include <vector>

namespace crmine {
namespace {
constexpr ModelTag kTag = model_tag("NBAY");
constexpr std::uint32_t kSchema = 1;
}  // namespace

void validate(const NaiveBayesOptions& o) {
  if (!(o.var_smoothing >= 0) || std::isinf(o.var_smoothing))
    detail::throw_invalid("NaiveBayesOptions", "var_smoothing", "is ", o.var_smoothing, "; must be finite and >= 0");
  if (!(o.alpha > 0) || std::isinf(o.alpha)) detail::throw_invalid("NaiveBayesOptions", "alpha", "is ", o.alpha, "; must be finite and > 0");
}

NaiveBayes::NaiveBayes(NaiveBayesOptions options) : options_(options) {}

NaiveBayes& NaiveBayes::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) {
  return fit(X, RowMatrixXi(X.rows(), 0), y, Eigen::VectorXd());
}

NaiveBayes& NaiveBayes::fit(MatrixRef X, MatrixXiRef codes, LabelRef y, VectorRef sample_weight) {
  constexpr const char* where = "NaiveBayes::fit";
  validate(options_);
  if (X.cols() + codes.cols() == 0) detail::throw_invalid(where, "X", "no numeric and no categorical features");
  if (codes.cols() > 0 && codes.rows() != y.size()) detail::throw_invalid(where, "codes", "has ", codes.rows(), " rows, y has ", y.size());
  if (X.cols() > 0) {
    detail::check_binary_fit(where, X, y, sample_weight, true);
  } else {
    detail::check_binary_fit(where, Eigen::MatrixXd::Zero(y.size(), 1), y, sample_weight, false);
  }
  const Eigen::Index n = y.size(), p = X.cols(), q = codes.cols();
  const Eigen::VectorXd w = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd::Ones(n);

  Eigen::Vector2d class_w = Eigen::Vector2d::Zero();
  for (Eigen::Index i = 0; i < n; ++i) class_w[y[i]] += w[i];
  if (options_.fit_prior) log_prior_ = (class_w / class_w.sum()).array().log();
  else log_prior_.setConstant(std::log(0.5));

  // Gaussian part: weighted per-class moments over the non-missing rows, two-pass for accuracy.
  // Both passes sweep X row by row (X is row-major: a column walk would touch a cache line per
  // value) with one accumulator per column, each adding its rows in row order. A missing value
  // adds +0.0 instead of being skipped: the sums are bitwise the same, and the loop has no branch,
  // so it vectorises across columns.
  theta_ = RowMatrix::Zero(2, p);
  var_ = RowMatrix::Zero(2, p);
  RowMatrix sw = RowMatrix::Zero(2, p), s = RowMatrix::Zero(2, p), ss = RowMatrix::Zero(2, p);
  Eigen::VectorXd all_n = Eigen::VectorXd::Zero(p), all_s = Eigen::VectorXd::Zero(p), all_ss = Eigen::VectorXd::Zero(p);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double* x = X.row(i).data();  // MatrixRef is row-major with unit inner stride
    const double wi = w[i];
    double* swc = &sw(y[i], 0);
    double* sc = &s(y[i], 0);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double v = x[j];
      const bool present = v == v;
      swc[j] += present ? wi : 0.0;
      sc[j] += present ? wi * v : 0.0;
      all_n[j] += present ? 1.0 : 0.0;
      all_s[j] += present ? v : 0.0;
    }
  }
  for (Eigen::Index j = 0; j < p; ++j)
    for (int c = 0; c < 2; ++c)
      if (!(sw(c, j) > 0)) detail::throw_invalid(where, "X", "numeric column ", j, " has no non-missing value in class ", c);
  const Eigen::VectorXd all_mean = all_s.cwiseQuotient(all_n);
  const RowMatrix mean = s.cwiseQuotient(sw);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double* x = X.row(i).data();
    const double wi = w[i];
    const double* mc = &mean(y[i], 0);
    double* ssc = &ss(y[i], 0);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double v = x[j];
      const bool present = v == v;
      const double d = v - mc[j];
      const double a = v - all_mean[j];
      ssc[j] += present ? wi * d * d : 0.0;
      all_ss[j] += present ? a * a : 0.0;
    }
  }
  double largest_var = 0.0;
  for (Eigen::Index j = 0; j < p; ++j) {
    for (int c = 0; c < 2; ++c) {
      theta_(c, j) = s(c, j) / sw(c, j);
      var_(c, j) = ss(c, j) / sw(c, j);
    }
    largest_var = std::max(largest_var, all_ss[j] / all_n[j]);
  }
  const double epsilon = options_.var_smoothing * largest_var;
  var_.array() += epsilon;
  for (Eigen::Index j = 0; j < p; ++j)
    for (int c = 0; c < 2; ++c)
      if (!(var_(c, j) > 0))
        detail::throw_invalid(where, "X", "numeric column ", j, " is constant within class ", c, "; use var_smoothing > 0");

  // Categorical part.
  log_prob_.assign(static_cast<std::size_t>(q), RowMatrix());
  for (Eigen::Index j = 0; j < q; ++j) {
    int k_max = -1;
    for (Eigen::Index i = 0; i < n; ++i) k_max = std::max(k_max, codes(i, j));
    if (k_max < 0) detail::throw_invalid(where, "codes", "categorical column ", j, " has only missing values");
    if (k_max > 10'000'000) detail::throw_invalid(where, "codes", "categorical column ", j, " has code ", k_max, "; codes must be 0..K-1");
    RowMatrix count = RowMatrix::Zero(2, k_max + 1);
    for (Eigen::Index i = 0; i < n; ++i)
      if (codes(i, j) >= 0) count(y[i], codes(i, j)) += w[i];
    const double K = static_cast<double>(k_max + 1);
    RowMatrix lp(2, k_max + 1);
    for (int c = 0; c < 2; ++c) {
      const double denom = count.row(c).sum() + options_.alpha * K;
      lp.row(c) = ((count.row(c).array() + options_.alpha) / denom).log();
    }
    log_prob_[static_cast<std::size_t>(j)] = std::move(lp);
  }
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

RowMatrix NaiveBayes::joint_log_likelihood(MatrixRef X, MatrixXiRef codes) const {
  constexpr const char* where = "NaiveBayes::joint_log_likelihood";
  detail::require_fitted(fitted_, where);
  const Eigen::Index n = n_numeric() > 0 ? X.rows() : codes.rows();
  if (X.cols() != n_numeric()) detail::throw_invalid(where, "X", "has ", X.cols(), " numeric features, the model was fitted with ", n_numeric());
  if (codes.cols() != n_categorical())
    detail::throw_invalid(where, "codes", "has ", codes.cols(), " categorical features, the model was fitted with ", n_categorical());
  if (n_numeric() > 0 && n_categorical() > 0 && X.rows() != codes.rows())
    detail::throw_invalid(where, "codes", "has ", codes.rows(), " rows, X has ", X.rows());
  if (n_numeric() > 0) detail::check_predict(where, X, n_numeric(), true);
  RowMatrix jll(n, 2);
  // The per-feature constants once, not a logarithm and a division per row and feature.
  const double log2pi = std::log(2.0 * std::numbers::pi);
  const Eigen::Index q = n_numeric();
  std::vector<double> half_log(static_cast<std::size_t>(2 * q)), half_inv(static_cast<std::size_t>(2 * q));
  for (int c = 0; c < 2; ++c)
    for (Eigen::Index j = 0; j < q; ++j) {
      half_log[static_cast<std::size_t>(c * q + j)] = 0.5 * (log2pi + std::log(var_(c, j)));
      half_inv[static_cast<std::size_t>(c * q + j)] = 0.5 / var_(c, j);
    }
  for (Eigen::Index i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) {
      double s = log_prior_[c];
      const double* k = half_log.data() + c * q;
      const double* a = half_inv.data() + c * q;
      const double* mu = theta_.data() + c * theta_.cols();
      for (Eigen::Index j = 0; j < q; ++j) {
        const double v = X(i, j);
        const double d = v - mu[j];
        s -= std::isnan(v) ? 0.0 : k[j] + d * d * a[j];
      }
      for (Eigen::Index j = 0; j < n_categorical(); ++j) {
        const int code = codes(i, j);
        const RowMatrix& lp = log_prob_[static_cast<std::size_t>(j)];
        if (code >= 0 && code < lp.cols()) s += lp(c, code);
      }
      jll(i, c) = s;
    }
  return jll;
}

RowMatrix NaiveBayes::predict_proba(MatrixRef X, MatrixXiRef codes) const {
  RowMatrix jll = joint_log_likelihood(X, codes);
  for (Eigen::Index i = 0; i < jll.rows(); ++i) {
    const double m = jll.row(i).maxCoeff();
    const double a = std::exp(jll(i, 0) - m), b = std::exp(jll(i, 1) - m);
    jll(i, 0) = a / (a + b);
    jll(i, 1) = b / (a + b);
  }
  return jll;
}

RowMatrix NaiveBayes::predict_proba(MatrixRef X) const { return predict_proba(X, RowMatrixXi(X.rows(), 0)); }

Eigen::VectorXi NaiveBayes::predict(MatrixRef X) const { return (predict_proba(X).col(1).array() > 0.5).cast<int>(); }

const Eigen::Vector2d& NaiveBayes::class_log_prior() const {
  detail::require_fitted(fitted_, "NaiveBayes::class_log_prior");
  return log_prior_;
}
const RowMatrix& NaiveBayes::theta() const {
  detail::require_fitted(fitted_, "NaiveBayes::theta");
  return theta_;
}
const RowMatrix& NaiveBayes::var() const {
  detail::require_fitted(fitted_, "NaiveBayes::var");
  return var_;
}
const std::vector<RowMatrix>& NaiveBayes::category_log_prob() const {
  detail::require_fitted(fitted_, "NaiveBayes::category_log_prob");
  return log_prob_;
}
void NaiveBayes::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "NaiveBayes::set_feature_names");
  detail::check_feature_names("NaiveBayes::set_feature_names", names, n_numeric() + n_categorical());
  feature_names_ = std::move(names);
}

void NaiveBayes::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "NaiveBayes::save");
  ModelWriter w(kTag, kSchema);
  w.f64(options_.var_smoothing);
  w.f64(options_.alpha);
  w.boolean(options_.fit_prior);
  w.f64(log_prior_[0]);
  w.f64(log_prior_[1]);
  w.matrix(theta_);
  w.matrix(var_);
  w.u64(log_prob_.size());
  for (const auto& lp : log_prob_) w.matrix(lp);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

NaiveBayes NaiveBayes::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  NaiveBayesOptions o;
  o.var_smoothing = r.f64("var_smoothing");
  o.alpha = r.f64("alpha");
  o.fit_prior = r.boolean("fit_prior");
  NaiveBayes m(o);
  m.log_prior_[0] = r.f64("class_log_prior");
  m.log_prior_[1] = r.f64("class_log_prior");
  m.theta_ = r.matrix("theta");
  m.var_ = r.matrix("var");
  const std::uint64_t q = r.u64("n_categorical");
  for (std::uint64_t j = 0; j < q; ++j) {
    m.log_prob_.push_back(r.matrix("category_log_prob"));
    if (m.log_prob_.back().rows() != 2) r.fail("category_log_prob", "two rows expected");
  }
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (m.theta_.rows() != 2 || m.var_.rows() != 2 || m.var_.cols() != m.theta_.cols()) r.fail("theta", "2 x p moments expected");
  if (m.theta_.cols() + static_cast<Eigen::Index>(q) == 0) r.fail("theta", "no features");
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.theta_.cols() + static_cast<Eigen::Index>(q))
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
