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
#include <cstdlib>
#include <functional>
#include <new>
#include <type_traits>
#include <memory>
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
  std::vector<std::uint32_t> index;  ///< per input row: the number of its distinct key (when asked for)
  std::vector<std::size_t> first;    ///< per distinct key: its first row
  std::vector<double> weight;        ///< per distinct key: summed weights (rows count 1 without weights)
  std::size_t size() const { return first.size(); }
};

/// Groups the rows of `columns` (equal length, no NaN: checked data; fewer than 2^32 rows) by
/// their values. Rows are scattered by the top bits of a hash into a fixed number of partitions
/// (one for inputs up to kChunk rows), each listing its rows in increasing order, and the
/// partitions are grouped independently in parallel. Keys are numbered by partition, then by
/// first appearance, and weights are summed in row order: the result depends on the data only,
/// never on the thread count. With `give_up_ratio` < 1, returns an empty result when the first
/// chunk has more than that share of distinct keys: grouping would not pay for itself. The
/// per-row `index` is filled only `with_index`.
template <std::size_t K>
DistinctRows distinct_rows(const std::array<std::span<const double>, K>& columns, std::span<const double> weights,
                           int n_jobs, double give_up_ratio = 1.0, bool with_index = true);

/// What a model accepts beyond the common checks.
enum class DataKind { continuous, discrete };

/// Validates customers (throws InvalidArgument naming `caller` and the argument).
void check_customers(const ClvData& data, const char* caller, DataKind kind, bool weights_allowed);

/// Validates and collapses fitting data (identical rows merged by distinct_rows, per-x weights
/// sorted by x) with n_jobs threads; also rejects data without any repeat purchase.
Collapsed collapse(const ClvData& data, const char* caller, DataKind kind, int n_jobs);

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
/// Large enough that small fits (CDNOW: a thousand distinct rows) run on one thread: on a busy
/// machine every parallel region waits for a descheduled thread, ~5 ms per likelihood evaluation.
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

/// Frees memory of `scratch_array`.
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

/// Uninitialised storage for n trivially copyable T, without the page-by-page cost of zeroing.
template <typename T>
std::unique_ptr<T[], FreeDeleter> scratch_array(std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  void* p = std::malloc(std::max<std::size_t>(n, 1) * sizeof(T));
  if (p == nullptr) throw std::bad_alloc();
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

namespace distinct_impl {

/// Bits of a value with -0 folded into +0, so that equal values hash equally.
inline std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v + 0.0); }

/// A 64-bit hash whose top bits choose the partition and whose low 32 bits address the table.
/// Each value is folded in with a multiply and a right shift, so that values differing only in
/// their high bits (whole numbers as doubles have all-zero low mantissa bits) still spread over
/// the low bits; the finaliser is Murmur3's.
template <std::size_t K>
std::uint64_t hash(const std::array<double, K>& key) {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  for (double v : key) {
    h = (h ^ bits(v)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 33);
}

/// A row as it travels to its partition: its key, its number and the low bits of its hash.
template <std::size_t K>
struct Entry {
  std::array<double, K> key;
  std::uint32_t row;
  std::uint32_t hash;
};

/// The distinct keys of one partition, numbered in order of first appearance, built from
/// batches of entries that arrive in increasing row order. Open addressing over key numbers; a
/// slot keeps the hash so that most probes of other keys end without reading a key.
template <std::size_t K>
class Grouper {
 public:
  std::vector<std::size_t> first;  ///< per key: its first row
  std::vector<double> weight;      ///< per key: summed weights, in row order

  /// Adds a batch; with `index`, index[row] receives the key's number in this partition.
  void add(std::span<const Entry<K>> entries, std::span<const double> weights, std::uint32_t* index) {
    if (slots_.empty()) slots_.assign(std::size_t{1} << 10, Slot{0, kEmpty});
    std::size_t mask = slots_.size() - 1;
    for (const Entry<K>& e : entries) {
      std::size_t s = e.hash & mask;
      std::uint32_t id;
      for (;;) {
        const Slot slot = slots_[s];
        if (slot.id == kEmpty) {
          id = static_cast<std::uint32_t>(keys_.size());
          slots_[s] = {e.hash, id};
          keys_.push_back(e.key);
          first.push_back(e.row);
          weight.push_back(0.0);
          if (2 * keys_.size() > slots_.size()) mask = grow();  // load stays at most 1/2
          break;
        }
        if (slot.hash == e.hash && keys_[slot.id] == e.key) {
          id = slot.id;
          break;
        }
        s = (s + 1) & mask;
      }
      weight[id] += weights.empty() ? 1.0 : weights[e.row];
      if (index != nullptr) index[e.row] = id;
    }
  }

 private:
  struct Slot {
    std::uint32_t hash, id;
  };
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

  std::size_t grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{0, kEmpty});
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& o : old) {
      if (o.id == kEmpty) continue;
      std::size_t t = o.hash & mask;
      while (slots_[t].id != kEmpty) t = (t + 1) & mask;
      slots_[t] = o;
    }
    return mask;
  }

  std::vector<Slot> slots_;
  std::vector<std::array<double, K>> keys_;
};

}  // namespace distinct_impl

template <std::size_t K>
DistinctRows distinct_rows(const std::array<std::span<const double>, K>& columns, std::span<const double> weights,
                           int n_jobs, double give_up_ratio, bool with_index) {
  using namespace distinct_impl;
  using Key = std::array<double, K>;
  const std::size_t n = columns[0].size();
  DistinctRows out;
  if (n == 0) return out;
  auto key_of = [&](std::size_t i) {
    Key k;
    for (std::size_t c = 0; c < K; ++c) k[c] = columns[c][i];
    return k;
  };
  auto entry_of = [&](std::size_t i, std::uint64_t h) {
    return Entry<K>{key_of(i), static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(h)};
  };
  if (give_up_ratio < 1.0) {
    // Decide on the first chunk alone whether grouping pays for itself.
    const std::size_t m = std::min(n, kChunk);
    std::vector<Entry<K>> head(m);
    for (std::size_t i = 0; i < m; ++i) head[i] = entry_of(i, hash(key_of(i)));
    Grouper<K> g;
    g.add(head, {}, nullptr);
    if (static_cast<double>(g.first.size()) > give_up_ratio * static_cast<double>(m)) return {};
  }
  // Large inputs are split by the top bits of the hash into partitions small enough for their
  // tables to stay in cache, grouped independently. Rows travel in super-chunks through one
  // reused buffer (one buffer of n entries would cost a page fault per 4 KiB): per fixed block,
  // count the rows of each partition; scatter them, each block's after the earlier blocks', so a
  // partition receives its rows in increasing order; group every partition's share. All
  // boundaries depend on n only, never on the thread count.
  constexpr int kBits = 8;
  constexpr std::size_t kSuper = std::size_t{1} << 20;
  const std::size_t n_parts = n <= kChunk ? 1 : std::size_t{1} << kBits;
  auto part_of = [&](std::uint64_t h) { return n_parts == 1 ? std::size_t{0} : static_cast<std::size_t>(h >> (64 - kBits)); };
  const std::size_t super = std::min(n, kSuper), blocks_per_super = (super + kChunk - 1) / kChunk;
  auto buffer = scratch_array<Entry<K>>(super);
  // Each row's partition: for the super-chunk at hand, or for all rows when the index needs it.
  std::vector<std::uint8_t> part(n_parts == 1 ? 0 : with_index ? n : super);
  std::vector<std::size_t> offset(blocks_per_super * n_parts), start(n_parts + 1);
  std::vector<Grouper<K>> groups(n_parts);
  if (with_index) out.index.resize(n);
  const int threads = n > kChunk ? resolve_threads(n_jobs) : 1;
#pragma omp parallel num_threads(threads)
  for (std::size_t lo = 0; lo < n; lo += kSuper) {
    const std::size_t hi = std::min(n, lo + kSuper), n_blocks = (hi - lo + kChunk - 1) / kChunk;
    const std::size_t part_base = with_index ? 0 : lo;  // part[i - part_base] for rows i of [lo, hi)
#pragma omp for schedule(static)
    for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_blocks); ++b) {
      std::size_t* count = &offset[static_cast<std::size_t>(b) * n_parts];
      std::fill(count, count + n_parts, std::size_t{0});
      const std::size_t b_lo = lo + static_cast<std::size_t>(b) * kChunk, b_hi = std::min(hi, b_lo + kChunk);
      if (n_parts == 1) {
        count[0] = b_hi - b_lo;
        continue;
      }
      for (std::size_t i = b_lo; i < b_hi; ++i) {
        const auto p = static_cast<std::uint8_t>(part_of(hash(key_of(i))));
        part[i - part_base] = p;
        ++count[p];
      }
    }
#pragma omp single
    stable_scatter_offsets(offset, n_parts, n_blocks, start);
#pragma omp for schedule(static)
    for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_blocks); ++b) {
      std::size_t* next = &offset[static_cast<std::size_t>(b) * n_parts];
      const std::size_t b_lo = lo + static_cast<std::size_t>(b) * kChunk, b_hi = std::min(hi, b_lo + kChunk);
      for (std::size_t i = b_lo; i < b_hi; ++i) buffer[next[n_parts > 1 ? part[i - part_base] : 0]++] = entry_of(i, hash(key_of(i)));
    }
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t p = 0; p < static_cast<std::ptrdiff_t>(n_parts); ++p) {
      const auto q = static_cast<std::size_t>(p);
      groups[q].add(std::span<const Entry<K>>(buffer.get() + start[q], start[q + 1] - start[q]), weights,
                    with_index ? out.index.data() : nullptr);
    }
  }
  // Keys are numbered by partition, then by first appearance within it.
  std::vector<std::uint32_t> base(n_parts + 1, 0);
  for (std::size_t p = 0; p < n_parts; ++p)
    base[p + 1] = base[p] + static_cast<std::uint32_t>(groups[p].first.size());
  out.first.reserve(base[n_parts]);
  out.weight.reserve(base[n_parts]);
  for (const Grouper<K>& g : groups) {
    out.first.insert(out.first.end(), g.first.begin(), g.first.end());
    out.weight.insert(out.weight.end(), g.weight.begin(), g.weight.end());
  }
  if (with_index && n_parts > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i)
      out.index[static_cast<std::size_t>(i)] += base[part[static_cast<std::size_t>(i)]];
  }
  return out;
}

}  // namespace crmine::detail
