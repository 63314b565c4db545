// SPDX-License-Identifier: Apache-2.0
// Shared machinery of the CLV fits: input checks, collapsing identical customers into weighted
// rows, the deterministic parallel likelihood sum, the quasi-Newton optimiser and standard errors.
#pragma once

#include <crmine/clv/detail/dual.hpp>
#include <crmine/clv/model.hpp>
#include <crmine/core/parallel.hpp>

#include <Eigen/Core>

#include <array>
#include <functional>
#include <vector>

namespace crmine::detail {

/// Identical (x, t_x, T) rows merged; `ux`/`uw` are the distinct x and their total weights, for
/// likelihood terms that depend on x only.
struct Collapsed {
  std::vector<double> x, tx, T, w;
  std::vector<double> ux, uw;
  double total_weight = 0.0;
  std::size_t size() const { return x.size(); }
};

/// What a model accepts beyond the common checks.
enum class DataKind { continuous, discrete };

/// Validates customers (throws InvalidArgument naming `caller` and the argument).
void check_customers(const ClvData& data, const char* caller, DataKind kind, bool weights_allowed);

/// Validates and collapses fitting data; also rejects data without any repeat purchase.
Collapsed collapse(const ClvData& data, const char* caller, DataKind kind);

/// Applies fn(x, t_x, T) to every customer after checking them, in parallel for large inputs.
template <typename Fn>
std::vector<double> per_customer(const ClvData& c, const char* caller, DataKind kind, int n_jobs, Fn&& fn) {
  check_customers(c, caller, kind, true);
  std::vector<double> out(c.size());
  const int threads = c.size() > 4096 ? resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(c.size()); ++i) {
    const auto k = static_cast<std::size_t>(i);
    out[k] = fn(c.frequency[k], c.recency[k], c.T[k]);
  }
  return out;
}

/// Throws InvalidArgument unless the prediction horizon t is finite and >= 0.
void check_horizon(double t, const char* caller);

/// Throws InvalidArgument unless the purchase count n is >= 0.
void check_count(int n, const char* caller);

/// ln P(N(t) = j) for the NBD: Poisson(lambda t) counts with lambda ~ Gamma(r, alpha); t > 0.
double log_nbd_pmf(double r, double alpha, double t, double j);

/// P(N(t) >= n) for the same NBD, summed from whichever side is smaller so neither the upper
/// tail nor 1 - tail loses precision; 1 for n = 0, 0 for n > 0 at t = 0.
double nbd_upper_tail(double r, double alpha, double t, int n);

/// (1 - alive) [n = 0] + alive * pmf: the conditional PMF's mixture of "already dead" (no more
/// purchases) and "alive, with updated parameters".
inline double mix_dead(double alive, double pmf, int n) { return (n == 0 ? 1.0 - alive : 0.0) + alive * pmf; }

/// The rows of `data` as given (checked, not collapsed), for evaluating a likelihood exactly.
Collapsed as_rows(const ClvData& data, const char* caller, DataKind kind);

/// Rows per block of the parallel sum; fixed so the result does not depend on the thread count.
inline constexpr std::size_t kBlock = 2048;

/// Sum over collapsed rows of w * row_term(p, x, tx, T) plus sum over distinct x of
/// uw * x_term(p, x), computed in fixed blocks and added in block order (deterministic).
template <typename S, typename XTerm, typename RowTerm>
S sum_log_likelihood(const Collapsed& d, XTerm&& x_term, RowTerm&& row_term, int n_jobs) {
  S total(0.0);
  for (std::size_t i = 0; i < d.ux.size(); ++i) total += x_term(d.ux[i]) * d.uw[i];
  const std::size_t n_blocks = (d.size() + kBlock - 1) / kBlock;
  std::vector<S> partial(n_blocks, S(0.0));
  const int threads = n_blocks > 1 ? resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_blocks); ++b) {
    const std::size_t lo = static_cast<std::size_t>(b) * kBlock, hi = std::min(d.size(), lo + kBlock);
    S acc(0.0);
    for (std::size_t i = lo; i < hi; ++i) acc += row_term(d.x[i], d.tx[i], d.T[i]) * d.w[i];
    partial[static_cast<std::size_t>(b)] = acc;
  }
  for (const S& p : partial) total += p;
  return total;
}

/// Parameters as duals seeded with respect to their logarithms: d p_i / d log p_i = p_i.
template <int N>
std::array<Dual<N>, N> log_seeded(const Eigen::VectorXd& params) {
  std::array<Dual<N>, N> p;
  for (int i = 0; i < N; ++i) p[static_cast<std::size_t>(i)] = Dual<N>::variable(params[i], i, params[i]);
  return p;
}

/// Total log-likelihood at exp(theta) and its gradient with respect to theta.
using LogLikelihood = std::function<double(const Eigen::VectorXd& theta, Eigen::VectorXd& gradient)>;

struct FitOutcome {
  Eigen::VectorXd params, standard_errors;
  ClvFitReport report;
};

/// Maximises the log-likelihood (minus the L2 penalty) over log-parameters with BFGS and a
/// backtracking Armijo line search, then computes standard errors from the Hessian. Parameters
/// after the first `n_positive` (-1 = all positive) are real coefficients, optimised as they are;
/// `ll` receives and differentiates with respect to theta = (log p_1..log p_n_positive, rest).
FitOutcome maximize(const LogLikelihood& ll, const Eigen::VectorXd& initial, const ClvFitOptions& options,
                    double total_weight, std::size_t n_rows, const char* caller, Eigen::Index n_positive = -1);

/// A CLV model's saved state: options, report, parameters and standard errors.
struct SavedState {
  ClvFitOptions options;
  ClvFitReport report;
  Eigen::VectorXd params, standard_errors;
  std::int32_t n_trans = -1, n_life = -1;  ///< covariate columns; written only when >= 0
};

/// Writes a CLV model record of `tag` (schema 1): options, report, parameters, standard errors.
void write_state(std::ostream& out, ModelTag tag, const SavedState& state);

/// Reads and validates a record written by write_state for a model with `n_params` parameters;
/// with `covariates`, n_trans and n_life are read too and n_params is 4 + n_trans + n_life.
SavedState read_state(std::istream& in, ModelTag tag, std::size_t n_params, bool covariates = false);

/// Checks fit options (throws InvalidArgument naming the field).
void check_options(const ClvFitOptions& options, std::size_t n_params, const char* caller);

/// The start point: options.initial_params when given, else `fallback`.
Eigen::VectorXd initial_point(const ClvFitOptions& options, const Eigen::VectorXd& fallback);

/// Throws InvalidArgument unless every parameter is finite and > 0.
void check_params(const Eigen::VectorXd& params, std::size_t n, const char* caller);

}  // namespace crmine::detail
