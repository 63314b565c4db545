// SPDX-License-Identifier: Apache-2.0
// Shared machinery of the CLV fits: input checks, collapsing identical customers into weighted
// rows, the deterministic parallel likelihood sum, the quasi-Newton optimiser and standard errors.
#pragma once

#include <crmine/clv/detail/dual.hpp>
#include <crmine/clv/model.hpp>
#include <crmine/core/parallel.hpp>

#include <Eigen/Core>

#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <span>
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

/// Rows per chunk of the parallel passes over customers; fixed so results never depend on the
/// thread count.
inline constexpr std::size_t kChunk = std::size_t{1} << 16;

/// Rows of K double columns grouped by equal values.
struct DistinctRows {
  std::vector<std::uint32_t> index;  ///< per input row: the number of its distinct key
  std::vector<std::size_t> first;    ///< per distinct key, in order of first appearance: its first row
  std::vector<double> weight;        ///< per distinct key: summed weights (rows count 1 without weights)
  std::size_t size() const { return first.size(); }
};

/// Groups the rows of `columns` (equal length, no NaN: checked data) by their values with an
/// open-addressing hash table per fixed chunk, merged in chunk order, so keys are numbered in
/// order of first appearance and weights summed in a fixed order whatever the thread count.
/// With `give_up_ratio` < 1, returns an empty result as soon as the first chunk has more than
/// that share of distinct keys: grouping would not pay for itself.
template <std::size_t K>
DistinctRows distinct_rows(const std::array<std::span<const double>, K>& columns, std::span<const double> weights,
                           int n_jobs, double give_up_ratio = 1.0);

/// What a model accepts beyond the common checks.
enum class DataKind { continuous, discrete };

/// Validates customers (throws InvalidArgument naming `caller` and the argument).
void check_customers(const ClvData& data, const char* caller, DataKind kind, bool weights_allowed);

/// Validates and collapses fitting data (identical rows merged with a hash, first-appearance
/// order, per-x weights sorted by x); also rejects data without any repeat purchase.
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

/// Checks the horizon, discounting and margin of a CLV computation.
void check_clv_options(const ClvOptions& options, const char* caller);

/// The weights w_i = d_i - d_{i+1} (d_i = (1 + rate)^-i, d_{n+1} = 0) that turn expectations at
/// the period ends t_i = i * len into the discounted sum: sum_i d_i (E_i - E_{i-1}) = sum_i w_i E_i.
/// Fills `horizons` with the t_i.
std::vector<double> discount_weights(const ClvOptions& options, std::vector<double>& horizons);

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

namespace distinct_impl {

/// Bits of a value with -0 folded into +0, so that equal values hash equally.
inline std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v + 0.0); }

template <std::size_t K>
std::uint64_t hash(const std::array<double, K>& key) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  for (double v : key) {
    h ^= bits(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
  }
  return h ^ (h >> 31);
}

/// Open addressing over key numbers; keys and their sums live in the caller's vectors.
template <std::size_t K>
class Table {
 public:
  explicit Table(std::size_t expected) {
    std::size_t cap = 16;
    while (cap < 2 * expected) cap <<= 1;
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
  }
  /// The number of `key` in `keys`, appending it when new.
  std::uint32_t insert(const std::array<double, K>& key, std::vector<std::array<double, K>>& keys) {
    std::size_t s = static_cast<std::size_t>(hash(key)) & mask_;
    for (;;) {
      const std::uint32_t id = slots_[s];
      if (id == kEmpty) {
        if (2 * (keys.size() + 1) > slots_.size()) {
          grow(keys);
          return insert(key, keys);
        }
        slots_[s] = static_cast<std::uint32_t>(keys.size());
        keys.push_back(key);
        return slots_[s];
      }
      if (keys[id] == key) return id;
      s = (s + 1) & mask_;
    }
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  void grow(const std::vector<std::array<double, K>>& keys) {
    slots_.assign(slots_.size() * 2, kEmpty);
    mask_ = slots_.size() - 1;
    for (std::uint32_t id = 0; id < keys.size(); ++id) {
      std::size_t s = static_cast<std::size_t>(hash(keys[id])) & mask_;
      while (slots_[s] != kEmpty) s = (s + 1) & mask_;
      slots_[s] = id;
    }
  }
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
};

}  // namespace distinct_impl

template <std::size_t K>
DistinctRows distinct_rows(const std::array<std::span<const double>, K>& columns, std::span<const double> weights,
                           int n_jobs, double give_up_ratio) {
  const std::size_t n = columns[0].size();
  const std::size_t n_chunks = (n + kChunk - 1) / kChunk;
  using Key = std::array<double, K>;
  struct Local {
    std::vector<Key> keys;
    std::vector<std::size_t> first;
    std::vector<double> weight;
    std::vector<std::uint32_t> to_global;
  };
  std::vector<Local> local(n_chunks);
  DistinctRows out;
  out.index.resize(n);
  auto key_of = [&](std::size_t i) {
    Key k;
    for (std::size_t c = 0; c < K; ++c) k[c] = columns[c][i];
    return k;
  };
  auto group_chunk = [&](std::size_t b) {
    const std::size_t lo = b * kChunk, hi = std::min(n, lo + kChunk);
    Local& l = local[b];
    distinct_impl::Table<K> table(std::min<std::size_t>(hi - lo, 4096));
    for (std::size_t i = lo; i < hi; ++i) {
      const std::uint32_t id = table.insert(key_of(i), l.keys);
      if (id == l.first.size()) {
        l.first.push_back(i);
        l.weight.push_back(0.0);
      }
      l.weight[id] += weights.empty() ? 1.0 : weights[i];
      out.index[i] = id;
    }
  };
  if (n_chunks == 0) return out;
  group_chunk(0);
  if (give_up_ratio < 1.0 && static_cast<double>(local[0].keys.size()) >
                                 give_up_ratio * static_cast<double>(std::min(n, kChunk)))
    return {};
  const int threads = n_chunks > 2 ? resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::ptrdiff_t b = 1; b < static_cast<std::ptrdiff_t>(n_chunks); ++b) group_chunk(static_cast<std::size_t>(b));
  std::vector<Key> keys;
  distinct_impl::Table<K> table(local[0].keys.size());
  for (Local& l : local) {
    l.to_global.resize(l.keys.size());
    for (std::size_t j = 0; j < l.keys.size(); ++j) {
      const std::uint32_t id = table.insert(l.keys[j], keys);
      if (id == out.first.size()) {
        out.first.push_back(l.first[j]);
        out.weight.push_back(0.0);
      }
      out.weight[id] += l.weight[j];
      l.to_global[j] = id;
    }
    l.keys = {};
  }
  if (n_chunks > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::ptrdiff_t b = 1; b < static_cast<std::ptrdiff_t>(n_chunks); ++b) {
      const auto& map = local[static_cast<std::size_t>(b)].to_global;
      const std::size_t lo = static_cast<std::size_t>(b) * kChunk, hi = std::min(n, lo + kChunk);
      for (std::size_t i = lo; i < hi; ++i) out.index[i] = map[out.index[i]];
    }
  }
  // Chunk 0's local numbers are already the global ones: it was merged first.
  return out;
}

}  // namespace crmine::detail
