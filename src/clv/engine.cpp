// SPDX-License-Identifier: Apache-2.0
// Input checks, collapsing, BFGS and Hessian-based standard errors shared by the CLV models.
#include "engine.hpp"

#include <crmine/clv/detail/dual.hpp>

#include <crmine/core/errors.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crmine::detail {

namespace {

/// Throws the error for row i of `data` if it has one.
void check_row(const ClvData& data, std::size_t i, const char* caller, DataKind kind) {
  const double x = data.frequency[i], tx = data.recency[i], T = data.T[i];
  if (!std::isfinite(x) || x < 0.0 || x != std::floor(x))
    throw_invalid(caller, "frequency", "row ", i, " is ", x, "; must be a whole number >= 0");
  if (!std::isfinite(tx) || tx < 0.0) throw_invalid(caller, "recency", "row ", i, " is ", tx, "; must be >= 0");
  if (!std::isfinite(T) || T <= 0.0) throw_invalid(caller, "T", "row ", i, " is ", T, "; must be > 0");
  if (tx > T) throw_invalid(caller, "recency", "row ", i, " is ", tx, ", greater than T = ", T);
  if (kind == DataKind::discrete) {
    if (tx != std::floor(tx)) throw_invalid(caller, "recency", "row ", i, " is ", tx, "; must be a whole number");
    if (T != std::floor(T)) throw_invalid(caller, "T", "row ", i, " is ", T, "; must be a whole number");
    if (x > tx) throw_invalid(caller, "frequency", "row ", i, " is ", x, ", more than recency = ", tx);
  }
  if (!data.weights.empty()) {
    const double w = data.weights[i];
    if (!std::isfinite(w) || w < 0.0) throw_invalid(caller, "weights", "row ", i, " is ", w, "; must be >= 0");
  }
}

/// The same conditions as check_row, branch-free so that a pass over millions of rows is cheap.
bool row_ok(const ClvData& data, std::size_t i, DataKind kind) {
  const double x = data.frequency[i], tx = data.recency[i], T = data.T[i];
  // NaN fails every comparison, so `>= 0` and `<= T` reject it too; infinities fail x == floor(x)
  // only for NaN, hence the explicit bounds.
  bool ok = (x >= 0.0) & (x == std::floor(x)) & (x < 1e300) & (tx >= 0.0) & (T > 0.0) & (T < 1e300) & (tx <= T);
  if (kind == DataKind::discrete) ok = ok & (tx == std::floor(tx)) & (T == std::floor(T)) & (x <= tx);
  if (!data.weights.empty()) ok = ok & (data.weights[i] >= 0.0) & (data.weights[i] < 1e300);
  return ok;
}

}  // namespace

void check_customers(const ClvData& data, const char* caller, DataKind kind, bool weights_allowed) {
  const std::size_t n = data.frequency.size();
  if (n == 0) throw_invalid(caller, "frequency", "is empty");
  if (data.recency.size() != n)
    throw_invalid(caller, "recency", "has ", data.recency.size(), " entries, frequency has ", n);
  if (data.T.size() != n) throw_invalid(caller, "T", "has ", data.T.size(), " entries, frequency has ", n);
  if (!data.weights.empty()) {
    if (!weights_allowed) throw_invalid(caller, "weights", "are not used here");
    if (data.weights.size() != n)
      throw_invalid(caller, "weights", "has ", data.weights.size(), " entries, frequency has ", n);
  }
  // A parallel pass finds the chunks with a bad row; the first of them is re-checked row by row
  // so the message names the first offending row, as a serial check would.
  const std::size_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<char> bad(n_chunks, 0);
  const int threads = n_chunks > 1 ? resolve_threads(0) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_chunks); ++b) {
    const std::size_t lo = static_cast<std::size_t>(b) * kChunk, hi = std::min(n, lo + kChunk);
    bool ok = true;
    for (std::size_t i = lo; i < hi; ++i) ok = ok & row_ok(data, i, kind);
    bad[static_cast<std::size_t>(b)] = ok ? 0 : 1;
  }
  for (std::size_t b = 0; b < n_chunks; ++b) {
    if (!bad[b]) continue;
    for (std::size_t i = b * kChunk; i < std::min(n, (b + 1) * kChunk); ++i) check_row(data, i, caller, kind);
  }
}

Collapsed collapse(const ClvData& data, const char* caller, DataKind kind, int n_jobs) {
  check_customers(data, caller, kind, true);
  const DistinctRows rows =
      distinct_rows<3>({data.frequency, data.recency, data.T}, data.weights, n_jobs, 1.0, false);
  Collapsed c;
  c.x.reserve(rows.size());
  c.tx.reserve(rows.size());
  c.T.reserve(rows.size());
  c.w.reserve(rows.size());
  double repeat_weight = 0.0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const double w = rows.weight[k];
    if (w == 0.0) continue;  // customers with weight 0 do not enter the likelihood at all
    const std::size_t i = rows.first[k];
    c.x.push_back(data.frequency[i]);
    c.tx.push_back(data.recency[i]);
    c.T.push_back(data.T[i]);
    c.w.push_back(w);
    c.total_weight += w;
    if (data.frequency[i] > 0.0) repeat_weight += w;
  }
  if (c.total_weight <= 0.0) throw_invalid(caller, "weights", "sum to 0");
  if (repeat_weight <= 0.0)
    throw_invalid(caller, "frequency", "is 0 for every customer; the model needs repeat buyers to be identified");
  // Terms that depend on x only are evaluated once per distinct x; a stable sort keeps the
  // weights' summation order fixed.
  std::vector<std::size_t> by_x(c.size());
  std::iota(by_x.begin(), by_x.end(), std::size_t{0});
  std::stable_sort(by_x.begin(), by_x.end(), [&](std::size_t a, std::size_t b) { return c.x[a] < c.x[b]; });
  for (std::size_t k : by_x) {
    if (!c.ux.empty() && c.ux.back() == c.x[k]) {
      c.uw.back() += c.w[k];
    } else {
      c.ux.push_back(c.x[k]);
      c.uw.push_back(c.w[k]);
    }
  }
  return c;
}

void check_clv_options(const ClvOptions& options, const char* caller) {
  if (options.n_periods < 1) throw_invalid(caller, "n_periods", "is ", options.n_periods, "; must be >= 1");
  if (!(options.period_length > 0.0) || !std::isfinite(options.period_length))
    throw_invalid(caller, "period_length", "is ", options.period_length, "; must be > 0");
  if (!(options.discount_rate > -1.0) || !std::isfinite(options.discount_rate))
    throw_invalid(caller, "discount_rate", "is ", options.discount_rate, "; must be > -1");
  if (!std::isfinite(options.margin)) throw_invalid(caller, "margin", "is ", options.margin, "; must be finite");
}

std::vector<double> discount_weights(const ClvOptions& options, std::vector<double>& horizons) {
  const auto n = static_cast<std::size_t>(options.n_periods);
  std::vector<double> w(n);
  horizons.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::pow(1.0 + options.discount_rate, -static_cast<double>(i + 1));
    const double next = i + 1 < n ? std::pow(1.0 + options.discount_rate, -static_cast<double>(i + 2)) : 0.0;
    w[i] = d - next;
    horizons[i] = static_cast<double>(i + 1) * options.period_length;
  }
  return w;
}

void check_horizon(double t, const char* caller) {
  if (!std::isfinite(t) || t < 0.0) throw_invalid(caller, "t", "is ", t, "; must be finite and >= 0");
}

void check_count(int n, const char* caller) {
  if (n < 0) throw_invalid(caller, "n", "is ", n, "; must be >= 0");
}

double log_nbd_pmf(double r, double alpha, double t, double j) {
  return log_gamma(r + j) - log_gamma(r) - log_gamma(j + 1.0) + r * (std::log(alpha) - std::log(alpha + t)) +
         j * (std::log(t) - std::log(alpha + t));
}

double nbd_upper_tail(double r, double alpha, double t, int n) {
  if (n == 0) return 1.0;
  if (t == 0.0) return 0.0;
  // Terms below n (the lower sum) are few; the upper sum converges geometrically (ratio -> t / (alpha + t)).
  double lower = 0.0;
  for (int j = 0; j < n; ++j) lower += std::exp(log_nbd_pmf(r, alpha, t, j));
  if (lower < 0.5) return 1.0 - lower;
  const double q = t / (alpha + t);
  double term = std::exp(log_nbd_pmf(r, alpha, t, n)), upper = 0.0;
  for (double j = n; term > 0.0; j += 1.0) {
    upper += term;
    const double ratio = (r + j) / (j + 1.0) * q;
    term *= ratio;
    if (ratio < 1.0 && term * ratio / (1.0 - ratio) <= 1e-17 * upper) {
      upper += term;
      break;
    }
  }
  return upper;
}

Collapsed as_rows(const ClvData& data, const char* caller, DataKind kind) {
  check_customers(data, caller, kind, true);
  Collapsed d;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double w = data.weights.empty() ? 1.0 : data.weights[i];
    d.x.push_back(data.frequency[i]);
    d.tx.push_back(data.recency[i]);
    d.T.push_back(data.T[i]);
    d.w.push_back(w);
    d.ux.push_back(data.frequency[i]);
    d.uw.push_back(w);
    d.total_weight += w;
  }
  return d;
}

void check_options(const ClvFitOptions& options, std::size_t n_params, const char* caller) {
  if (!std::isfinite(options.penalizer_coef) || options.penalizer_coef < 0.0)
    throw_invalid(caller, "penalizer_coef", "is ", options.penalizer_coef, "; must be finite and >= 0");
  if (options.max_iter < 1) throw_invalid(caller, "max_iter", "is ", options.max_iter, "; must be >= 1");
  if (!(options.tol > 0.0)) throw_invalid(caller, "tol", "is ", options.tol, "; must be > 0");
  if (!options.initial_params.empty()) {
    if (options.initial_params.size() != n_params)
      throw_invalid(caller, "initial_params", "has ", options.initial_params.size(), " values, the model has ",
                    n_params);
    for (double v : options.initial_params)
      if (!std::isfinite(v) || v <= 0.0) throw_invalid(caller, "initial_params", "value ", v, " must be > 0");
  }
}

Eigen::VectorXd initial_point(const ClvFitOptions& options, const Eigen::VectorXd& fallback) {
  if (options.initial_params.empty()) return fallback;
  return Eigen::Map<const Eigen::VectorXd>(options.initial_params.data(),
                                           static_cast<Eigen::Index>(options.initial_params.size()));
}

void check_params(const Eigen::VectorXd& params, std::size_t n, const char* caller) {
  if (static_cast<std::size_t>(params.size()) != n)
    throw_invalid(caller, "params", "has ", params.size(), " values, expected ", n);
  for (Eigen::Index i = 0; i < params.size(); ++i)
    if (!std::isfinite(params[i]) || params[i] <= 0.0)
      throw_invalid(caller, "params", "value ", i, " is ", params[i], "; must be finite and > 0");
}

namespace {

/// Natural parameters from the optimiser's: exp for the first n_positive, identity for the rest.
Eigen::VectorXd natural(const Eigen::VectorXd& theta, Eigen::Index n_positive) {
  Eigen::VectorXd p = theta;
  p.head(n_positive) = theta.head(n_positive).array().exp().matrix();
  return p;
}

/// The minimised objective: mean negative log-likelihood plus the L2 penalty, in log-parameters
/// (and raw coefficients after the first n_positive).
struct Objective {
  const LogLikelihood& ll;
  double total_weight, penalty;
  Eigen::Index n_positive;
  int evaluations = 0;
  /// The last call's point, log-likelihood and its gradient in theta: the fit's result is usually
  /// the last point evaluated, so its log-likelihood need not be computed again.
  Eigen::VectorXd last_theta{}, last_gradient{};
  double last_value = 0.0;
  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    ++evaluations;
    Eigen::VectorXd g(theta.size());
    const double value = ll(theta, g);
    last_theta = theta;
    last_gradient = g;
    last_value = value;
    const Eigen::VectorXd p = natural(theta, n_positive);
    Eigen::VectorXd dp = Eigen::VectorXd::Ones(theta.size());  // d p / d theta
    dp.head(n_positive) = p.head(n_positive);
    grad = -g / total_weight + penalty * 2.0 * p.cwiseProduct(dp);
    const double f = -value / total_weight + penalty * p.squaredNorm();
    if (!std::isfinite(f) || !grad.allFinite()) return std::numeric_limits<double>::infinity();
    return f;
  }
};

}  // namespace

FitOutcome maximize(const LogLikelihood& ll, const Eigen::VectorXd& initial, const ClvFitOptions& options,
                    double total_weight, std::size_t n_rows, const char* caller, Eigen::Index n_positive) {
  const Eigen::Index n = initial.size();
  if (n_positive < 0) n_positive = n;
  Objective objective{ll, total_weight, options.penalizer_coef, n_positive};
  Eigen::VectorXd theta = initial, grad(n), grad_new(n);
  theta.head(n_positive) = initial.head(n_positive).array().log().matrix();
  double f = objective(theta, grad);
  if (!std::isfinite(f))
    throw_invalid(caller, "initial_params", "the log-likelihood is not finite at the starting point");

  FitOutcome out;
  ClvFitReport& rep = out.report;
  Eigen::MatrixXd H = Eigen::MatrixXd::Identity(n, n);  // inverse Hessian approximation
  bool scaled = false, refreshed = false;
  int stalled = 0;
  int it = 0;
  rep.message = "maximum number of iterations reached";
  for (; it < options.max_iter; ++it) {
    if (grad.cwiseAbs().maxCoeff() < options.tol) {
      rep.converged = true;
      rep.message = "gradient below tol";
      break;
    }
    // Once the gradient is small, the inverse Hessian is replaced by the inverse of a forward-
    // difference Hessian (n gradients), if positive definite: BFGS learns curvature one direction
    // per iteration, and these likelihoods have flat valleys (a and b of MBG/NBD, s and beta of
    // Pareto/NBD move together) along which it otherwise creeps for a dozen iterations.
    if (!refreshed && grad.cwiseAbs().maxCoeff() < 1e-2) {
      refreshed = true;
      Eigen::MatrixXd hess(n, n);
      Eigen::VectorXd g_up(n);
      bool finite = true;
      for (Eigen::Index j = 0; j < n && finite; ++j) {
        Eigen::VectorXd up = theta;
        up[j] += 1e-5;
        finite = std::isfinite(objective(up, g_up));
        hess.col(j) = (g_up - grad) / (up[j] - theta[j]);
      }
      if (finite) {
        Eigen::LDLT<Eigen::MatrixXd> ldlt(0.5 * (hess + hess.transpose()));
        if (ldlt.info() == Eigen::Success && (ldlt.vectorD().array() > 0.0).all()) {
          H = ldlt.solve(Eigen::MatrixXd::Identity(n, n));
          scaled = true;
        }
      }
    }
    Eigen::VectorXd dir = -H * grad;
    double slope = grad.dot(dir);
    if (!(slope < 0.0)) {
      H.setIdentity();
      dir = -grad;
      slope = grad.dot(dir);
    }
    // A step of more than a factor e^3 in any parameter is never taken at once.
    const double longest = dir.cwiseAbs().maxCoeff();
    if (longest > 3.0) {
      dir *= 3.0 / longest;
      slope *= 3.0 / longest;
    }
    double step = 1.0, f_new = f;
    Eigen::VectorXd theta_new;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      theta_new = theta + step * dir;
      f_new = objective(theta_new, grad_new);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      // No decrease is representable along a descent direction: we are at the optimum to
      // machine precision unless the gradient says otherwise.
      rep.converged = grad.cwiseAbs().maxCoeff() < std::sqrt(options.tol);
      rep.message = rep.converged ? "converged to machine precision (no further decrease possible)"
                                  : "line search failed";
      break;
    }
    // Steps that no longer change the objective in double precision: the optimum is reached to
    // machine precision, which for a flat objective can leave the gradient slightly above tol.
    stalled = f - f_new <= 4.0 * std::numeric_limits<double>::epsilon() * std::abs(f) ? stalled + 1 : 0;
    if (stalled >= 5) {
      theta = theta_new;
      f = f_new;
      grad = grad_new;
      rep.converged = grad.cwiseAbs().maxCoeff() < std::sqrt(options.tol);
      rep.message = rep.converged ? "converged to machine precision (objective no longer decreases)"
                                  : "stalled: objective no longer decreases but the gradient is large";
      ++it;
      break;
    }
    const Eigen::VectorXd s = theta_new - theta, y = grad_new - grad;
    const double sy = s.dot(y);
    if (sy > 1e-12 * s.norm() * y.norm()) {
      if (!scaled) {
        H = Eigen::MatrixXd::Identity(n, n) * (sy / y.squaredNorm());
        scaled = true;
      }
      const double rho = 1.0 / sy;
      const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(n, n);
      H = (I - rho * s * y.transpose()) * H * (I - rho * y * s.transpose()) + rho * s * s.transpose();
    }
    theta = theta_new;
    f = f_new;
    grad = grad_new;
  }
  rep.n_iter = it;
  rep.gradient_norm = grad.cwiseAbs().maxCoeff();
  out.params = natural(theta, n_positive);
  Eigen::VectorXd g_at_optimum(n);
  if (objective.last_theta.size() == n && objective.last_theta == theta) {
    rep.log_likelihood = objective.last_value;
    g_at_optimum = objective.last_gradient;
  } else {
    rep.log_likelihood = ll(theta, g_at_optimum);
  }
  rep.n_evaluations = objective.evaluations;
  rep.n_rows = n_rows;
  rep.n_customers = total_weight;

  // Hessian of the negative log-likelihood in natural parameters, by forward differences of the
  // exact gradient (d/dp = d/dlog p / p) from the optimum's, already known: n evaluations instead
  // of central differences' 2n, for a relative error of order h = 1e-5, far below any use of a
  // standard error.
  auto natural_gradient = [&](const Eigen::VectorXd& p, Eigen::VectorXd g) {
    g.head(n_positive) = g.head(n_positive).cwiseQuotient(p.head(n_positive));
    return Eigen::VectorXd(-g);
  };
  auto gradient_at = [&](const Eigen::VectorXd& p) {
    Eigen::VectorXd g(n), th = p;
    th.head(n_positive) = p.head(n_positive).array().log().matrix();
    ll(th, g);
    return natural_gradient(p, g);
  };
  const Eigen::VectorXd g0 = natural_gradient(out.params, g_at_optimum);
  Eigen::MatrixXd hess(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const double h = 1e-5 * (j < n_positive ? out.params[j] : std::max(1.0, std::abs(out.params[j])));
    Eigen::VectorXd up = out.params;
    up[j] += h;
    hess.col(j) = (gradient_at(up) - g0) / (up[j] - out.params[j]);
  }
  hess = 0.5 * (hess + hess.transpose()).eval();
  out.standard_errors = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::quiet_NaN());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(hess);
  if (ldlt.info() == Eigen::Success && ldlt.isPositive() && hess.allFinite()) {
    const Eigen::MatrixXd cov = ldlt.solve(Eigen::MatrixXd::Identity(n, n));
    for (Eigen::Index j = 0; j < n; ++j)
      if (cov(j, j) > 0.0) out.standard_errors[j] = std::sqrt(cov(j, j));
  }
  return out;
}

namespace {
constexpr std::uint32_t kClvSchema = 1;

void write_vector(ModelWriter& w, const Eigen::VectorXd& v) {
  w.f64_vector(std::vector<double>(v.data(), v.data() + v.size()));
}
}  // namespace

void write_state(std::ostream& out, ModelTag tag, const SavedState& s) {
  ModelWriter w(tag, kClvSchema);
  w.f64(s.options.penalizer_coef);
  w.i32(s.options.max_iter);
  w.f64(s.options.tol);
  w.f64_vector(s.options.initial_params);
  w.i32(s.options.n_jobs);
  w.i32(s.report.n_iter);
  w.i32(s.report.n_evaluations);
  w.boolean(s.report.converged);
  w.f64(s.report.gradient_norm);
  w.f64(s.report.log_likelihood);
  w.u64(s.report.n_rows);
  w.f64(s.report.n_customers);
  w.string(s.report.message);
  write_vector(w, s.params);
  write_vector(w, s.standard_errors);
  if (s.n_trans >= 0) {
    w.i32(s.n_trans);
    w.i32(s.n_life);
  }
  w.finish(out);
}

SavedState read_state(std::istream& in, ModelTag tag, std::size_t n_params, bool covariates) {
  ModelReader r(in, tag, kClvSchema);
  SavedState s;
  s.options.penalizer_coef = r.f64("penalizer_coef");
  s.options.max_iter = r.i32("max_iter");
  s.options.tol = r.f64("tol");
  s.options.initial_params = r.f64_vector("initial_params");
  s.options.n_jobs = r.i32("n_jobs");
  s.report.n_iter = r.i32("report.n_iter");
  s.report.n_evaluations = r.i32("report.n_evaluations");
  s.report.converged = r.boolean("report.converged");
  s.report.gradient_norm = r.f64("report.gradient_norm");
  s.report.log_likelihood = r.f64("report.log_likelihood");
  s.report.n_rows = r.u64("report.n_rows");
  s.report.n_customers = r.f64("report.n_customers");
  s.report.message = r.string("report.message");
  const std::vector<double> params = r.f64_vector("params"), se = r.f64_vector("standard_errors");
  if (covariates) {
    s.n_trans = r.i32("n_trans");
    s.n_life = r.i32("n_life");
    if (s.n_trans < 0 || s.n_life < 0 || s.n_trans > 1'000'000 || s.n_life > 1'000'000)
      r.fail("n_trans", concat("covariate counts ", s.n_trans, ", ", s.n_life, " are out of range"));
    n_params = 4 + static_cast<std::size_t>(s.n_trans) + static_cast<std::size_t>(s.n_life);
  }
  r.expect_end();
  try {
    ClvFitOptions checked = s.options;
    if (covariates) checked.initial_params.clear();  // coefficients may be <= 0
    check_options(checked, n_params, "load");
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  if (params.size() != n_params) r.fail("params", concat("has ", params.size(), " values, the model has ", n_params));
  if (se.size() != n_params)
    r.fail("standard_errors", concat("has ", se.size(), " values, the model has ", n_params));
  for (std::size_t j = 0; j < params.size(); ++j)
    if (!std::isfinite(params[j]) || (j < (covariates ? 4 : n_params) && params[j] <= 0.0))
      r.fail("params", concat("value ", params[j], " is not finite and > 0"));
  s.params = Eigen::Map<const Eigen::VectorXd>(params.data(), static_cast<Eigen::Index>(n_params));
  s.standard_errors = Eigen::Map<const Eigen::VectorXd>(se.data(), static_cast<Eigen::Index>(n_params));
  return s;
}

}  // namespace crmine::detail
