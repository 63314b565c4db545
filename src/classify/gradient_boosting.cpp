// SPDX-License-Identifier: Apache-2.0
// Histogram gradient boosting: binning, leaf-wise or depth-wise tree growth on gradient histograms, log-loss and
// squared error, early stopping.
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/metrics.hpp>
#include <crmine/core/order_key.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "forest_scorer.hpp"
#include "io.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <span>
#include <type_traits>
#include <utility>

namespace crmine {
namespace {

/// Rows sampled to place the bin cuts on large data (LightGBM's bin_construct_sample_cnt).
constexpr Eigen::Index kCutSample = 200000;
/// Columns whose cut-sample values are gathered in one pass over the sample's rows (16 x 200k doubles: 25 MiB).
constexpr Eigen::Index kCutFeatures = 16;
/// A feature may join a bundle when at most this share of the training rows is off its most frequent bin.
constexpr double kBundleMaxShare = 0.5;

inline double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

/// 1 / (1 + exp(-z)) for z[0..n) into q, for the gradients of every round: an exp of -|z| by
/// Cody-Waite reduction (x = n ln2 + r, |r| <= ln2/2) and the degree-13 Taylor polynomial of exp(r),
/// scaled by 2^n through the exponent bits, with |z| clamped to 708 (where the sigmoid is 0 or 1 to
/// the last bit anyway). Integer selects in place of compares let the loop vectorise (libm's exp is
/// a call per value): 4-5x faster than sigmoid() above, within 3.3e-16 relative of it (about 5% of
/// values differ from it in the last bit on 2M draws in [-40, 40]).
void sigmoid_block(const double* z, double* q, std::size_t n) {
  constexpr double kShift = 0x1.8p52, kLog2e = 1.4426950408889634, kLn2Hi = 0x1.62e42fee00000p-1, kLn2Lo = 0x1.a39ef35793c76p-33;
  constexpr std::uint64_t kMaxAbs = std::bit_cast<std::uint64_t>(708.0), kOne = std::bit_cast<std::uint64_t>(1.0);
#pragma omp simd
  for (std::size_t k = 0; k < n; ++k) {
    const auto bz = std::bit_cast<std::uint64_t>(z[k]);
    const std::uint64_t abs_bits = bz & 0x7fffffffffffffffULL;
    const double x = -std::bit_cast<double>(abs_bits < kMaxAbs ? abs_bits : kMaxAbs);  // -|z|, >= -708
    const double t = x * kLog2e + kShift;  // round(x / ln2) in the low bits of t
    const double m = t - kShift;
    const double r = (x - m * kLn2Hi) - m * kLn2Lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const std::uint64_t scale = (std::bit_cast<std::uint64_t>(t) - std::bit_cast<std::uint64_t>(kShift) + 1023) << 52;
    const double e = p * std::bit_cast<double>(scale);  // exp(-|z|)
    // z >= 0: 1 / (1 + e); z < 0: e / (1 + e). The sign bit picks the numerator.
    const auto negative = static_cast<std::uint64_t>(static_cast<std::int64_t>(bz) >> 63);
    q[k] = std::bit_cast<double>(kOne ^ ((kOne ^ std::bit_cast<std::uint64_t>(e)) & negative)) / (1.0 + e);
  }
}

struct Bin {
  double g = 0, h = 0;
  std::int64_t n = 0;
};

/// A bin of a group histogram while rows are added: gradient, hessian and row count (a double, exact
/// below 2^53) in one 32-byte vector, so adding a row to a bin is one vector add rather than two adds
/// and an integer increment (half the stores of the histogram's inner loop).
typedef double GroupBin __attribute__((vector_size(32)));
/// Gradient and hessian of a bin of the root's histogram: its row counts never change between rounds
/// (see TreeGrower::root_counts_), so the root adds 16 bytes a row and group instead of 32.
typedef double GradPair __attribute__((vector_size(16)));

/// The training rows as uint8 bins. Feature j has value bins 0..cuts[j].size() (bin b holds values
/// in (cut[b-1], cut[b]]) and missing bin cuts[j].size() + 1. Features are stored row-major in
/// groups: mutually exclusive sparse features (one-hot indicators: no training row is off the most
/// frequent bin in two of them) share one byte, Ke et al.'s exclusive feature bundling; group bin 0
/// then means "every member on its most frequent bin". lut maps a group byte back to a member's bin.
struct Binned {
  Eigen::Index n = 0;
  std::vector<std::vector<double>> cuts;
  std::vector<int> n_bins;             // per feature, value bins + the missing bin
  std::vector<std::size_t> offset;     // per feature, first slot in a feature histogram
  std::size_t total_bins = 0;
  std::vector<int> group;              // per feature
  std::vector<int> default_bin;        // per feature; -1 when alone in its group (no bin is implicit)
  std::vector<int> first_slot;         // per bundled feature, the group bin of its first non-default bin
  std::vector<std::array<std::uint8_t, 256>> lut;
  std::vector<std::vector<std::int32_t>> members;  // per group
  std::vector<int> group_bins;
  std::vector<std::uint8_t> packed;    // n x groups, row-major, for histograms
  std::vector<std::uint8_t> by_feature;  // p x n, feature-major bins, for partitioning a leaf's rows by one feature
  std::vector<char> categorical;       // per feature: bins are category codes (code k -> bin k), split by sets
  int n_groups() const { return static_cast<int>(members.size()); }
  std::uint8_t bin(Eigen::Index i, std::int32_t j) const {
    return lut[static_cast<std::size_t>(j)][packed[static_cast<std::size_t>(i) * members.size() + static_cast<std::size_t>(group[static_cast<std::size_t>(j)])]];
  }
};

/// Values binned together by lower_cuts.
constexpr int kBinLanes = 8;

/// std::lower_bound(cut, x[r]) of kBinLanes values, without branches (Khuong & Morin 2017): the
/// binary search's compares on random values are coin flips the branch predictor loses, and binning
/// runs once per value of X. The searches run in lockstep, so the latencies of their chains of
/// dependent loads overlap.
inline void lower_cuts(const std::vector<double>& cut, const double* x, std::size_t* out) {
  std::array<std::size_t, kBinLanes> at{};
  if (!cut.empty()) {
    const double* base = cut.data();
    for (std::size_t n = cut.size(); n > 1;) {
      const std::size_t half = n / 2;
      for (std::size_t r = 0; r < kBinLanes; ++r) at[r] = base[at[r] + half] < x[r] ? at[r] + half : at[r];
      n -= half;
    }
    for (std::size_t r = 0; r < kBinLanes; ++r) at[r] += base[at[r]] < x[r];
  }
  std::copy(at.begin(), at.end(), out);
}

/// The distinct values of `v` in ascending order if there are at most `limit` of them, else nothing: the
/// indicator and code columns of CRM tables hold a handful, found here in one pass over runs of equal
/// values and a small sorted set, where sorting every value was most of their binning time.
bool few_distinct(const std::vector<double>& v, std::size_t limit, std::vector<double>& distinct) {
  distinct.clear();
  double last = std::numeric_limits<double>::quiet_NaN();
  for (const double x : v) {
    if (x == last) continue;
    last = x;
    const auto at = std::lower_bound(distinct.begin(), distinct.end(), x);
    if (at != distinct.end() && *at == x) continue;
    if (distinct.size() == limit) return false;
    distinct.insert(at, x);
  }
  return true;
}

/// Sorts non-NaN doubles ascending (-0.0 before 0.0, which compare equal) by an LSD radix sort on
/// their order-preserving 64-bit keys, 11 bits a pass, skipping passes whose digit every key shares:
/// 3-5x faster than std::sort on the 200k-value cut samples of large data, with the same result.
void sort_values(std::vector<double>& v) {
  if (v.size() < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<std::uint64_t> key(v.size()), other(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) key[k] = order_bits(v[k]);
  constexpr int kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::size_t> count(kBuckets);
  for (int shift = 0; shift < 64; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (const std::uint64_t x : key) ++count[(x >> shift) & (kBuckets - 1)];
    if (count[(key[0] >> shift) & (kBuckets - 1)] == key.size()) continue;
    std::size_t at = 0;
    for (std::size_t& c : count) at += std::exchange(c, at);
    for (const std::uint64_t x : key) other[count[(x >> shift) & (kBuckets - 1)]++] = x;
    key.swap(other);
  }
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = from_order_bits(key[k]);
}

std::vector<double> make_cuts(std::vector<double> v, int max_bins) {
  std::vector<double> distinct;
  const bool few = few_distinct(v, static_cast<std::size_t>(max_bins), distinct);
  if (!few) {
    sort_values(v);
    distinct.clear();
    for (const double x : v)
      if (distinct.empty() || x != distinct.back()) distinct.push_back(x);
  }
  std::vector<double> cut;
  if (static_cast<int>(distinct.size()) <= max_bins) {
    for (std::size_t k = 0; k + 1 < distinct.size(); ++k) cut.push_back(0.5 * (distinct[k] + distinct[k + 1]));
  } else {
    // Equal-count cuts on the sorted values, moved to midpoints between distinct values.
    for (int q = 1; q < max_bins; ++q) {
      const double x = v[static_cast<std::size_t>(static_cast<double>(q) * static_cast<double>(v.size()) / max_bins)];
      const auto hi = std::upper_bound(distinct.begin(), distinct.end(), x);
      if (hi == distinct.end()) break;
      const double c = 0.5 * (*(hi - 1) + *hi);
      if (cut.empty() || c > cut.back()) cut.push_back(c);
    }
  }
  return cut;
}

/// `categorical` flags the columns of category codes (checked by check_codes): their cuts sit halfway
/// between consecutive codes 0..K-1 (K = 1 + the largest code in the training rows), so code k falls in
/// bin k, and negative codes are missing like NaN.
Binned make_bins(MatrixRef X, const std::vector<std::int32_t>& train, int max_bins, std::uint64_t seed, int n_threads,
                 const std::vector<char>& categorical) {
  const Eigen::Index n = X.rows(), p = X.cols();
  const int threads = detail::resolve_threads(n_threads);
  Binned b;
  b.n = n;
  b.categorical = categorical;
  // Cuts from all training rows, or from a seeded Bernoulli sample of about kCutSample of them.
  std::vector<std::int32_t> sample;
  if (static_cast<Eigen::Index>(train.size()) > kCutSample) {
    Random rng(seed, 0xB145);
    const double keep = static_cast<double>(kCutSample) / static_cast<double>(train.size());
    for (const std::int32_t i : train)
      if (rng.uniform() < keep) sample.push_back(i);
  }
  const auto& cut_rows = sample.empty() ? train : sample;
  b.cuts.resize(static_cast<std::size_t>(p));
  // The cut sample's values of kCutFeatures columns at a time, gathered in one pass over its rows
  // (a pass per column read every cache line of X once per column).
  std::vector<std::vector<double>> values(static_cast<std::size_t>(std::min<Eigen::Index>(p, kCutFeatures)));
  for (Eigen::Index j0 = 0; j0 < p; j0 += kCutFeatures) {
    const Eigen::Index j1 = std::min<Eigen::Index>(p, j0 + kCutFeatures);
    for (Eigen::Index j = j0; j < j1; ++j) {
      auto& v = values[static_cast<std::size_t>(j - j0)];
      v.clear();
      if (!categorical[static_cast<std::size_t>(j)]) v.reserve(cut_rows.size());
    }
    for (const std::int32_t i : cut_rows)
      for (Eigen::Index j = j0; j < j1; ++j)
        if (!categorical[static_cast<std::size_t>(j)] && !std::isnan(X(i, j))) values[static_cast<std::size_t>(j - j0)].push_back(X(i, j));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (Eigen::Index j = j0; j < j1; ++j) {
      if (categorical[static_cast<std::size_t>(j)]) {
        double top = 0;
        for (const std::int32_t i : train)
          if (X(i, j) > top) top = X(i, j);
        auto& cut = b.cuts[static_cast<std::size_t>(j)];
        for (int k = 0; k < static_cast<int>(top); ++k) cut.push_back(k + 0.5);
        continue;
      }
      b.cuts[static_cast<std::size_t>(j)] = make_cuts(std::move(values[static_cast<std::size_t>(j - j0)]), max_bins);
    }
  }
  // Feature bins, feature-major, for the bundling pass.
  std::vector<std::uint8_t> fb(static_cast<std::size_t>(n * p));
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i0 = 0; i0 < n; i0 += kBinLanes) {
    const Eigen::Index lanes = std::min<Eigen::Index>(kBinLanes, n - i0);
    for (Eigen::Index j = 0; j < p; ++j) {
      const auto& cut = b.cuts[static_cast<std::size_t>(j)];
      std::array<double, kBinLanes> x;
      std::array<std::size_t, kBinLanes> at;
      for (int r = 0; r < kBinLanes; ++r) x[static_cast<std::size_t>(r)] = X(i0 + std::min<Eigen::Index>(r, lanes - 1), j);
      lower_cuts(cut, x.data(), at.data());
      for (Eigen::Index r = 0; r < lanes; ++r) {
        const double v = x[static_cast<std::size_t>(r)];
        const bool missing = std::isnan(v) || (v < 0 && categorical[static_cast<std::size_t>(j)]);
        fb[static_cast<std::size_t>(j * n + i0 + r)] = static_cast<std::uint8_t>(missing ? cut.size() + 1 : at[static_cast<std::size_t>(r)]);
      }
    }
  }
  b.n_bins.resize(static_cast<std::size_t>(p));
  b.offset.resize(static_cast<std::size_t>(p));
  for (Eigen::Index j = 0; j < p; ++j) {
    b.n_bins[static_cast<std::size_t>(j)] = static_cast<int>(b.cuts[static_cast<std::size_t>(j)].size()) + 2;
    b.offset[static_cast<std::size_t>(j)] = b.total_bins;
    b.total_bins += static_cast<std::size_t>(b.n_bins[static_cast<std::size_t>(j)]);
  }
  // Most frequent bin and how many training rows are off it, per feature.
  std::vector<int> mode(static_cast<std::size_t>(p));
  std::vector<std::int64_t> off(static_cast<std::size_t>(p));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Eigen::Index j = 0; j < p; ++j) {
    std::array<std::int64_t, 256> count{};
    const std::uint8_t* col = fb.data() + static_cast<std::size_t>(j * n);
    for (const std::int32_t i : train) ++count[col[i]];
    const auto top = std::max_element(count.begin(), count.end()) - count.begin();
    mode[static_cast<std::size_t>(j)] = static_cast<int>(top);
    off[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(train.size()) - count[static_cast<std::size_t>(top)];
  }
  // Greedy bundling (Ke et al. 2017, Algorithm 3) with no conflicts allowed, so every histogram is exact:
  // sparse features by decreasing non-default count, each into the first bundle it neither overlaps
  // nor overflows (256 group bins).
  std::vector<std::int32_t> order;
  for (std::int32_t j = 0; j < p; ++j)
    if (b.n_bins[static_cast<std::size_t>(j)] > 1 && static_cast<double>(off[static_cast<std::size_t>(j)]) <= kBundleMaxShare * static_cast<double>(train.size()))
      order.push_back(j);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t c) { return off[static_cast<std::size_t>(a)] > off[static_cast<std::size_t>(c)]; });
  std::vector<std::vector<std::int32_t>> bundles;
  std::vector<int> bundle_bins;
  std::vector<std::vector<std::uint8_t>> used;  // per bundle, per row: taken by a member
  std::vector<bool> bundled(static_cast<std::size_t>(p), false);
  for (const std::int32_t j : order) {
    const std::uint8_t* col = fb.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(n);
    const auto d = static_cast<std::uint8_t>(mode[static_cast<std::size_t>(j)]);
    const int extra = b.n_bins[static_cast<std::size_t>(j)] - 1;
    std::size_t k = 0;
    for (; k < bundles.size(); ++k) {
      if (bundle_bins[k] + extra > 256) continue;
      bool clash = false;
      for (const std::int32_t i : train)
        if (col[i] != d && used[k][static_cast<std::size_t>(i)]) {
          clash = true;
          break;
        }
      if (!clash) break;
    }
    if (k == bundles.size()) {
      bundles.emplace_back();
      bundle_bins.push_back(1);
      used.emplace_back(static_cast<std::size_t>(n), 0);
    }
    bundles[k].push_back(j);
    bundle_bins[k] += extra;
    for (const std::int32_t i : train)
      if (col[i] != d) used[k][static_cast<std::size_t>(i)] = 1;
    bundled[static_cast<std::size_t>(j)] = true;
  }
  used.clear();
  // Groups in order of their smallest member, so the layout does not depend on the sort above.
  {
    std::vector<std::vector<std::int32_t>> groups;
    std::vector<bool> placed(static_cast<std::size_t>(p), false);
    std::vector<std::int32_t> owner(static_cast<std::size_t>(p), -1);
    for (std::size_t k = 0; k < bundles.size(); ++k)
      for (const std::int32_t j : bundles[k]) owner[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(k);
    for (std::int32_t j = 0; j < p; ++j) {
      if (placed[static_cast<std::size_t>(j)]) continue;
      if (owner[static_cast<std::size_t>(j)] < 0 || bundles[static_cast<std::size_t>(owner[static_cast<std::size_t>(j)])].size() == 1) {
        groups.push_back({j});
        placed[static_cast<std::size_t>(j)] = true;
      } else {
        const auto& bundle = bundles[static_cast<std::size_t>(owner[static_cast<std::size_t>(j)])];
        groups.push_back(bundle);
        for (const std::int32_t m : bundle) placed[static_cast<std::size_t>(m)] = true;
      }
    }
    b.members = std::move(groups);
  }
  const std::size_t G = b.members.size();
  b.group.assign(static_cast<std::size_t>(p), -1);
  b.default_bin.assign(static_cast<std::size_t>(p), -1);
  b.first_slot.assign(static_cast<std::size_t>(p), 0);
  b.lut.assign(static_cast<std::size_t>(p), {});
  b.group_bins.resize(G);
  for (std::size_t gi = 0; gi < G; ++gi) {
    const auto& m = b.members[gi];
    int slots = 0;
    if (m.size() == 1) {
      const std::int32_t j = m[0];
      for (int v = 0; v < 256; ++v) b.lut[static_cast<std::size_t>(j)][static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(v);
      slots = b.n_bins[static_cast<std::size_t>(j)];
    } else {
      slots = 1;
      for (const std::int32_t j : m) {
        const int d = mode[static_cast<std::size_t>(j)], nb = b.n_bins[static_cast<std::size_t>(j)];
        b.default_bin[static_cast<std::size_t>(j)] = d;
        b.first_slot[static_cast<std::size_t>(j)] = slots;
        auto& lut = b.lut[static_cast<std::size_t>(j)];
        lut.fill(static_cast<std::uint8_t>(d));
        for (int v = 0, s = slots; v < nb; ++v)
          if (v != d) lut[static_cast<std::size_t>(s++)] = static_cast<std::uint8_t>(v);
        slots += nb - 1;
      }
    }
    for (const std::int32_t j : m) b.group[static_cast<std::size_t>(j)] = static_cast<int>(gi);
    b.group_bins[gi] = slots;
  }
  // Rows outside `train` are never read from `packed`, so their bytes may hold any member's bin.
  b.packed.assign(static_cast<std::size_t>(n) * G, 0);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < n; ++i) {
    std::uint8_t* row = b.packed.data() + static_cast<std::size_t>(i) * G;
    for (std::size_t gi = 0; gi < G; ++gi) {
      const auto& m = b.members[gi];
      if (m.size() == 1) {
        row[gi] = fb[static_cast<std::size_t>(m[0]) * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)];
        continue;
      }
      for (const std::int32_t j : m) {
        const int v = fb[static_cast<std::size_t>(j) * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)];
        const int d = b.default_bin[static_cast<std::size_t>(j)];
        if (v != d) row[gi] = static_cast<std::uint8_t>(b.first_slot[static_cast<std::size_t>(j)] + (v < d ? v : v - 1));
      }
    }
  }
  b.by_feature = std::move(fb);
  return b;
}

struct Candidate {
  double gain = 0;
  std::int32_t feature = -1;
  int bin = 0;  // left = value bins <= bin
  bool missing_left = false;
  Bin left, right;
  bool categorical = false;
  std::array<std::uint64_t, 4> left_set{};  // categorical: the category bins that go left
};

/// The better of two candidates as a scan over features in ascending order that keeps the first
/// strictly larger gain would choose: so the choice does not depend on how features were shared out.
inline bool better(const Candidate& a, const Candidate& b) {
  if (a.feature < 0) return false;
  if (b.feature < 0) return true;
  return a.gain > b.gain || (a.gain == b.gain && a.feature < b.feature);
}

/// Rows per chunk of the root's total; fixed, so the sum does not depend on threads.
constexpr std::size_t kRowChunk = 16384;
/// Rows per chunk of a parallel partition (whose result, a stable partition, does not depend on chunks).
constexpr std::size_t kPartChunk = 4096;
/// A task's group histograms are filled row by row (each row adds to all of them) in slices of groups
/// of up to this size, so the slice's histograms stay in L2. Measured on 700k x 25 groups of 257 bins:
/// 1.2-2.5 ns per update against 2.0-5.4 ns for group-by-group passes over blocks of 256 rows.
constexpr std::size_t kSliceBytes = 262144;
/// How many rows ahead of the one being added a sparse leaf's bins and gradients are prefetched: its
/// rows are scattered over the data, so each one is a cache miss the row loop alone would wait for.
constexpr std::size_t kPrefetchRows = 16;
/// Every group histogram starts kGroupStride bins after the previous one (a group has at most 256
/// bins), so a run of adjacent groups is one base pointer and constant displacements.
constexpr std::size_t kGroupStride = 256;
/// Longest run of adjacent groups one unrolled histogram kernel adds (16 x 8 KiB stays within L2).
constexpr std::size_t kUnrolledGroups = 16;
/// Groups whose root histograms one pass of add_pairs fills: 5 x 256 bins x 16 bytes = 20 KiB stays in
/// the 32 KiB L1 (all 10 groups of the uplift benchmark in one pass: 10-15% slower).
constexpr std::size_t kPairGroups = 5;
/// A leaf's histogram work (rows x feature groups) below which one thread builds it alone.
constexpr std::size_t kParallelWork = 16384;

/// Grows one tree per call. Rows live in one index buffer, each leaf a contiguous range that a split
/// partitions stably (LightGBM's DataPartition); the histogram of the smaller child is built from the
/// rows and the larger one's derived by subtraction (Ke et al. 2017). Each split is one parallel step
/// in which every task owns a fixed share of the feature groups: it sums their rows in row order,
/// expands them to feature histograms, subtracts, and finds the best split of its features for both
/// children. Nothing a task computes depends on how groups were shared out, so trees are bitwise the
/// same at any thread count.
class TreeGrower {
 public:
  TreeGrower(const Binned& data, const GradientBoostingOptions& o) : d_(data), o_(o), threads_(detail::resolve_threads(o.n_threads)) {}

  /// Grows one tree on `rows` (ascending) from interleaved gradients and hessians `gh` (2 per row),
  /// using only `features` (ascending); returns nodes with leaf values already shrunk, adds gains to
  /// `importance` and every row's leaf value to `raw`. `total`, when given, is what row_total() would
  /// return for `rows` (boost sums it while writing the gradients).
  std::vector<TreeNode> grow(std::vector<std::int32_t> rows, const std::vector<double>& gh, const std::vector<std::int32_t>& features,
                             Eigen::VectorXd& importance, std::vector<double>& raw, const Bin* total = nullptr) {
    gh_ = gh.data();
    set_features(features);
    idx_ = std::move(rows);
    tmp_.resize(idx_.size());
    std::vector<TreeNode> nodes(1);
    leaves_.clear();
    // Leaf-wise: the open leaf with the largest gain, the lowest node index on ties. Depth-wise: the
    // shallowest open leaf, the lowest node index first (nodes are numbered in the order they were made).
    const bool depthwise = o_.growth == GrowthPolicy::depthwise;
    auto worse = [&](std::size_t a, std::size_t c) {
      const Leaf &x = leaves_[a], &y = leaves_[c];
      if (depthwise) return x.depth > y.depth || (x.depth == y.depth && x.node > y.node);
      return x.best.gain < y.best.gain || (x.best.gain == y.best.gain && x.node > y.node);
    };
    std::vector<std::size_t> heap;
    auto open = [&](std::size_t k) {
      if (leaves_[k].best.feature < 0) return;
      heap.push_back(k);
      std::push_heap(heap.begin(), heap.end(), worse);
    };
    {
      Leaf root{0, idx_.size(), take_hist(), total ? *total : row_total(), {}, 0, 0};
      leaves_.push_back(std::move(root));
      split_step(nullptr, &leaves_[0], true);
      open(0);
    }
    int n_leaves = 1;
    while (n_leaves < o_.num_leaves && !heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      const std::size_t pick = heap.back();
      heap.pop_back();
      const Candidate c = leaves_[pick].best;
      const std::size_t begin = leaves_[pick].begin, end = leaves_[pick].end;
      const std::size_t mid = partition(begin, end, c);

      TreeNode& parent = nodes[static_cast<std::size_t>(leaves_[pick].node)];
      parent.feature = c.feature;
      const auto& cuts = d_.cuts[static_cast<std::size_t>(c.feature)];
      parent.threshold = c.bin < static_cast<int>(cuts.size()) ? cuts[static_cast<std::size_t>(c.bin)] : std::numeric_limits<double>::infinity();
      parent.missing_left = c.missing_left;
      if (c.categorical) {
        parent.threshold = 0.0;
        std::size_t words = c.left_set.size();
        while (words > 0 && c.left_set[words - 1] == 0) --words;
        parent.categories.assign(c.left_set.begin(), c.left_set.begin() + static_cast<std::ptrdiff_t>(words));
      }
      parent.left = static_cast<std::int32_t>(nodes.size());
      parent.right = parent.left + 1;
      importance[c.feature] += c.gain;
      const std::int32_t lnode = parent.left, rnode = parent.right;
      nodes.emplace_back();
      nodes.emplace_back();
      const int depth = leaves_[pick].depth + 1;
      Leaf l{begin, mid, {}, c.left, {}, lnode, depth};
      Leaf r{mid, end, {}, c.right, {}, rnode, depth};
      const bool left_small = mid - begin <= end - mid;
      Leaf& small = left_small ? l : r;
      Leaf& large = left_small ? r : l;
      large.hist = std::move(leaves_[pick].hist);
      small.hist = take_hist();
      // The children's histograms serve only to split them: none is needed after the last split, or
      // when the children are at the depth limit.
      if (n_leaves + 1 < o_.num_leaves && (o_.max_depth < 0 || depth < o_.max_depth)) split_step(&small, &large, true);
      leaves_[pick] = std::move(l);
      leaves_.push_back(std::move(r));
      open(pick);
      open(leaves_.size() - 1);
      ++n_leaves;
    }
    for (Leaf& leaf : leaves_) {
      TreeNode& t = nodes[static_cast<std::size_t>(leaf.node)];
      t.value = -o_.learning_rate * leaf.total.g / (leaf.total.h + o_.reg_lambda);
      t.weight = leaf.total.h;
      t.n_samples = leaf.total.n;
      pool_.push_back(std::move(leaf.hist));
    }
    const std::size_t n_out = leaves_.size();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (idx_.size() > 4 * kRowChunk)
    for (std::size_t q = 0; q < n_out; ++q) {
      const double v = nodes[static_cast<std::size_t>(leaves_[q].node)].value;
      for (std::size_t k = leaves_[q].begin; k < leaves_[q].end; ++k) raw[static_cast<std::size_t>(idx_[k])] += v;
    }
    return nodes;
  }

 private:
  struct Leaf {
    std::size_t begin, end;
    std::vector<Bin> hist;  // per feature slot (Binned::offset); only the tree's features are kept up to date
    Bin total;
    Candidate best;
    std::int32_t node;
    int depth;
  };

  void set_features(const std::vector<std::int32_t>& features) {
    std::vector<std::vector<std::int32_t>> by_group(static_cast<std::size_t>(d_.n_groups()));
    for (const std::int32_t j : features) by_group[static_cast<std::size_t>(d_.group[static_cast<std::size_t>(j)])].push_back(j);
    groups_.clear();
    group_features_.clear();
    for (int gi = 0; gi < d_.n_groups(); ++gi)
      if (!by_group[static_cast<std::size_t>(gi)].empty()) {
        groups_.push_back(gi);
        group_features_.push_back(std::move(by_group[static_cast<std::size_t>(gi)]));
      }
  }

  std::vector<Bin> take_hist() {
    if (pool_.empty()) return std::vector<Bin>(d_.total_bins);
    std::vector<Bin> h = std::move(pool_.back());
    pool_.pop_back();
    return h;
  }

  /// Gradient, hessian and row count of all of idx_, summed in fixed chunks of rows, then over the chunks in order.
  Bin row_total() const {
    const std::size_t m = idx_.size(), chunks = (m + kRowChunk - 1) / kRowChunk;
    std::vector<Bin> part(chunks);
#pragma omp parallel for schedule(static) num_threads(threads_) if (chunks > 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      Bin s;
      for (std::size_t k = c * kRowChunk, e = std::min(m, k + kRowChunk); k < e; ++k) {
        const auto i = 2 * static_cast<std::size_t>(idx_[k]);
        s.g += gh_[i];
        s.h += gh_[i + 1];
      }
      part[c] = s;
    }
    Bin total;
    for (const Bin& s : part) total.g += s.g, total.h += s.h;
    total.n = static_cast<std::int64_t>(m);
    return total;
  }

  /// Rows src[b, e) whose bin in `col` goes left (to_left[bin] is 1) to dst[b, b + left count) in order,
  /// the others to dst[b + left count, e) in reverse order; returns the left count. Branch free: every row
  /// is written to both ends and only the counters move.
  static std::size_t split_rows(const std::int32_t* src, std::size_t b, std::size_t e, std::int32_t* dst, const std::uint8_t* col,
                                const std::uint8_t* to_left) {
    std::size_t nl = 0, nr = 0;
    std::int32_t* back = dst + e - 1;
    for (std::size_t k = b; k < e; ++k) {
      const std::int32_t i = src[k];
      const std::size_t left = to_left[col[i]];
      dst[b + nl] = i;
      *(back - nr) = i;
      nl += left;
      nr += 1 - left;
    }
    return nl;
  }

  /// split_rows on one thread, in place: lefts move down within rows[b, e) (a row is written at or below
  /// where it was read), rights go to tmp in order and are copied back after the lefts. Returns the left
  /// count; the same stable partition with half the writes.
  static std::size_t split_rows_in_place(std::int32_t* rows, std::size_t b, std::size_t e, std::int32_t* tmp, const std::uint8_t* col,
                                         const std::uint8_t* to_left) {
    std::size_t nl = 0, nr = 0;
    for (std::size_t k = b; k < e; ++k) {
      const std::int32_t i = rows[k];
      const std::size_t left = to_left[col[i]];
      rows[b + nl] = i;
      tmp[nr] = i;
      nl += left;
      nr += 1 - left;
    }
    std::copy(tmp, tmp + nr, rows + b + nl);
    return nl;
  }

  /// Stable partition of idx_[begin, end) by the split `c`; returns the first right position. Large
  /// leaves are partitioned in fixed chunks in parallel and the pieces joined in order.
  std::size_t partition(std::size_t begin, std::size_t end, const Candidate& c) {
    const auto missing_bin = static_cast<std::uint8_t>(d_.n_bins[static_cast<std::size_t>(c.feature)] - 1);
    const std::uint8_t* col = d_.by_feature.data() + static_cast<std::size_t>(c.feature) * static_cast<std::size_t>(d_.n);
    const auto cut = static_cast<std::uint8_t>(c.bin);
    const bool ml = c.missing_left;
    // Which bins go left: value bins up to the cut or in the category set, and the missing bin by the split's side.
    std::array<std::uint8_t, 256> to_left{};
    for (int v = 0; v < missing_bin; ++v)
      to_left[static_cast<std::size_t>(v)] = c.categorical ? (c.left_set[static_cast<std::size_t>(v) >> 6] >> (v & 63)) & 1u : v <= cut;
    to_left[missing_bin] = ml;
    const std::size_t m = end - begin;
    const std::size_t chunks = (m + kPartChunk - 1) / kPartChunk;
    if (threads_ == 1 || chunks <= 2) {
      if (part_tmp_.size() < m) part_tmp_.resize(m);
      return begin + split_rows_in_place(idx_.data(), begin, end, part_tmp_.data(), col, to_left.data());
    }
    auto split_range = [col, &to_left](const std::int32_t* src, std::size_t b, std::size_t e, std::int32_t* dst) {
      return split_rows(src, b, e, dst, col, to_left.data());
    };
    std::vector<std::size_t> nl(chunks);
#pragma omp parallel num_threads(threads_) if (chunks > 2)
    {
#pragma omp for schedule(static)
      for (std::size_t q = 0; q < chunks; ++q) {
        const std::size_t b = begin + q * kPartChunk, e = std::min(end, b + kPartChunk);
        nl[q] = split_range(idx_.data(), b, e, tmp_.data());
      }
      // Lefts of every chunk in order, then rights of every chunk in order (each chunk's are reversed).
      std::size_t left_total = 0;
      for (const std::size_t x : nl) left_total += x;
#pragma omp for schedule(static)
      for (std::size_t q = 0; q < chunks; ++q) {
        std::size_t lpos = begin, rpos = begin + left_total;
        for (std::size_t p = 0; p < q; ++p) {
          lpos += nl[p];
          rpos += std::min(kPartChunk, end - begin - p * kPartChunk) - nl[p];
        }
        const std::size_t b = begin + q * kPartChunk, e = std::min(end, b + kPartChunk);
        std::copy(tmp_.data() + b, tmp_.data() + b + nl[q], idx_.data() + lpos);
        std::reverse_copy(tmp_.data() + b + nl[q], tmp_.data() + e, idx_.data() + rpos);
      }
    }
    std::size_t left_total = 0;
    for (const std::size_t x : nl) left_total += x;
    return begin + left_total;
  }

  /// Histograms and best splits after a split (or for the root: `small` null, `large` the root, its
  /// histogram built from rows). `small` gets its histogram from its rows, `large` the parent's minus
  /// it; both get their best split when `can_split`.
  void split_step(Leaf* small, Leaf* large, bool can_split) {
    Leaf* built = small ? small : large;
    const std::size_t m = built->end - built->begin, ng = groups_.size();
    const int tasks = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads_), ng));
    if (group_hist_.size() < static_cast<std::size_t>(d_.n_groups()) * kGroupStride) {
      group_hist_.resize(static_cast<std::size_t>(d_.n_groups()) * kGroupStride);
      pair_hist_.resize(group_hist_.size());
    }
    root_run_ = !small && contiguous(built->begin, built->end);
    if (root_run_) count_root(static_cast<std::size_t>(idx_[built->begin]), m);
    std::vector<Candidate> best_small(static_cast<std::size_t>(tasks)), best_large(static_cast<std::size_t>(tasks));
#pragma omp parallel for schedule(static, 1) num_threads(tasks) if (tasks > 1 && m * ng >= kParallelWork)
    for (int t = 0; t < tasks; ++t) {
      const std::size_t q0 = ng * static_cast<std::size_t>(t) / static_cast<std::size_t>(tasks);
      const std::size_t q1 = ng * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(tasks);
      build_groups(built->begin, built->end, q0, q1);
      for (std::size_t q = q0; q < q1; ++q)
        for (const std::int32_t j : group_features_[q]) {
          expand(j, built->total, built->hist.data());
          const std::size_t off = d_.offset[static_cast<std::size_t>(j)];
          const int nb = d_.n_bins[static_cast<std::size_t>(j)];
          if (small) {
            Bin* a = large->hist.data() + off;
            const Bin* s = small->hist.data() + off;
            for (int b = 0; b < nb; ++b) {
              a[b].g -= s[b].g;
              a[b].h -= s[b].h;
              a[b].n -= s[b].n;
            }
          }
          if (!can_split) continue;
          const Candidate cb = best_of_feature(j, built->hist.data() + off, built->total);
          if (better(cb, best_small[static_cast<std::size_t>(t)])) best_small[static_cast<std::size_t>(t)] = cb;
          if (small) {
            const Candidate cl = best_of_feature(j, large->hist.data() + off, large->total);
            if (better(cl, best_large[static_cast<std::size_t>(t)])) best_large[static_cast<std::size_t>(t)] = cl;
          }
        }
    }
    Candidate bs, bl;
    for (int t = 0; t < tasks; ++t) {
      if (better(best_small[static_cast<std::size_t>(t)], bs)) bs = best_small[static_cast<std::size_t>(t)];
      if (better(best_large[static_cast<std::size_t>(t)], bl)) bl = best_large[static_cast<std::size_t>(t)];
    }
    built->best = bs;
    if (small) large->best = bl;
  }

  /// Sums gradients, hessians and counts of rows idx_[begin, end) into the group histograms of
  /// active groups q0..q1-1, each in row order.
  void build_groups(std::size_t begin, std::size_t end, std::size_t q0, std::size_t q1) {
    const std::size_t nq = q1 - q0;
    if (nq == 0) return;
    std::vector<std::size_t> off(nq);
    std::vector<std::size_t> col(nq);
    for (std::size_t q = 0; q < nq; ++q) {
      const auto gi = static_cast<std::size_t>(groups_[q0 + q]);
      col[q] = gi;
      off[q] = gi * kGroupStride;
      std::fill_n(group_hist_.data() + off[q], d_.group_bins[gi], GroupBin{});
    }
    // A root whose rows are a run of consecutive rows (every root of a fit without row sampling) is
    // added straight from the data without the index, into (gradient, hessian) bins whose counts are
    // the cached ones.
    if (root_run_) {
      add_contiguous(static_cast<std::size_t>(idx_[begin]), end - begin, col.data(), nq);
      return;
    }
    // Rows spread over more than twice their count are scattered: prefetch them. Dense ones
    // stream through memory, where the hardware prefetcher does better alone.
    const bool sparse = end - begin > 0 && static_cast<std::size_t>(idx_[end - 1] - idx_[begin]) >= 2 * (end - begin);
    // Runs of adjacent groups (all of them unless colsample_bytree drops some) take the unrolled kernel;
    // the groups left alone are added together, in slices that stay in L2.
    // add_adjacent for 1..kUnrolledGroups groups, without and with prefetching.
    static const std::array<std::array<AddAdjacent, kUnrolledGroups>, 2> kAddAdjacent = {
        adjacent_kernels<false>(std::make_index_sequence<kUnrolledGroups>{}),
        adjacent_kernels<true>(std::make_index_sequence<kUnrolledGroups>{})};
    std::vector<std::size_t> lone_off, lone_col;
    for (std::size_t s0 = 0, s1 = 0; s0 < nq; s0 = s1) {
      s1 = s0 + 1;
      while (s1 < nq && s1 - s0 < kUnrolledGroups && col[s1] == col[s1 - 1] + 1) ++s1;
      if (s1 - s0 > 1 || nq == 1) {
        (this->*kAddAdjacent[sparse][s1 - s0 - 1])(begin, end, col[s0]);
      } else {
        lone_off.push_back(off[s0]);
        lone_col.push_back(col[s0]);
      }
    }
    const std::size_t nl = lone_col.size();
    for (std::size_t s0 = 0, s1 = 0; s0 < nl; s0 = s1) {
      std::size_t bytes = 0;
      for (s1 = s0; s1 < nl && (s1 == s0 || bytes + static_cast<std::size_t>(d_.group_bins[lone_col[s1]]) * sizeof(GroupBin) <= kSliceBytes); ++s1)
        bytes += static_cast<std::size_t>(d_.group_bins[lone_col[s1]]) * sizeof(GroupBin);
      sparse ? add_rows<true>(begin, end, lone_off.data() + s0, lone_col.data() + s0, s1 - s0)
             : add_rows<false>(begin, end, lone_off.data() + s0, lone_col.data() + s0, s1 - s0);
    }
  }

  /// Adds rows idx_[begin, end) to the histograms of kN adjacent groups first..first+kN-1, row by row,
  /// so every bin adds its rows in row order. Each group's histogram sits kGroupStride bins after the
  /// previous one and the groups are unrolled, so an update is a byte load, a shift and one vector
  /// add to memory at a constant displacement (5 instructions where a loop over groups took 9).
  template <bool kPrefetch, std::size_t kN>
  void add_adjacent(std::size_t begin, std::size_t end, std::size_t first) {
    const std::size_t G = static_cast<std::size_t>(d_.n_groups());
    GroupBin* hist = group_hist_.data() + first * kGroupStride;
    const std::uint8_t* packed = d_.packed.data() + first;
    const std::int32_t* rows = idx_.data();
    for (std::size_t k = begin; k < end; ++k) {
      if constexpr (kPrefetch) {
        if (k + kPrefetchRows < end) {
          const auto j = static_cast<std::size_t>(rows[k + kPrefetchRows]);
          __builtin_prefetch(packed + j * G);
          __builtin_prefetch(packed + j * G + kN - 1);
          __builtin_prefetch(gh_ + 2 * j);
        }
      }
      const auto i = static_cast<std::size_t>(rows[k]);
      const GroupBin x = {gh_[2 * i], gh_[2 * i + 1], 1.0, 0.0};
      const std::uint8_t* row = packed + i * G;
      [&]<std::size_t... q>(std::index_sequence<q...>) {
        ((hist[q * kGroupStride + row[q]] += x), ...);
      }(std::make_index_sequence<kN>{});
    }
  }

  /// Group histograms of groups col[0..nq) from the rows first..first+m-1: gradients and hessians summed
  /// row by row (each bin in row order, as add_adjacent would) into 16-byte bins, then written out with
  /// the bins' row counts, which depend only on the rows and are counted once per fit.
  void add_contiguous(std::size_t first, std::size_t m, const std::size_t* col, std::size_t nq) {
    static const std::array<AddPairs, kPairGroups> kAddPairs = pair_kernels(std::make_index_sequence<kPairGroups>{});
    for (std::size_t s0 = 0, s1 = 0; s0 < nq; s0 = s1) {
      s1 = s0 + 1;
      while (s1 < nq && s1 - s0 < kPairGroups && col[s1] == col[s1 - 1] + 1) ++s1;
      std::fill_n(pair_hist_.data() + col[s0] * kGroupStride, (s1 - s0) * kGroupStride, GradPair{});
      (this->*kAddPairs[s1 - s0 - 1])(first, m, col[s0]);
    }
    for (std::size_t q = 0; q < nq; ++q) {
      const std::size_t at = col[q] * kGroupStride;
      for (int b = 0; b < d_.group_bins[col[q]]; ++b) {
        const GradPair x = pair_hist_[at + static_cast<std::size_t>(b)];
        group_hist_[at + static_cast<std::size_t>(b)] = GroupBin{x[0], x[1], static_cast<double>(root_count_[at + static_cast<std::size_t>(b)]), 0.0};
      }
    }
  }

  /// Whether idx_[begin, end) (ascending) is a run of consecutive rows.
  bool contiguous(std::size_t begin, std::size_t end) const {
    return end > begin && static_cast<std::size_t>(idx_[end - 1] - idx_[begin]) == end - begin - 1;
  }

  /// Counts the rows of every group bin among rows first..first+m-1 into root_count_, unless they are
  /// the rows counted last time (every root of a fit without row sampling).
  void count_root(std::size_t first, std::size_t m) {
    if (root_first_ == first && root_rows_ == m) return;
    const std::size_t G = static_cast<std::size_t>(d_.n_groups());
    root_count_.assign(G * kGroupStride, 0);
    const std::uint8_t* row = d_.packed.data() + first * G;
    for (std::size_t k = 0; k < m; ++k, row += G)
      for (std::size_t gi = 0; gi < G; ++gi) ++root_count_[gi * kGroupStride + row[gi]];
    root_first_ = first;
    root_rows_ = m;
  }

  /// add_adjacent's kernel for rows first..first+m-1 in order (no index), gradient pairs only.
  template <std::size_t kN>
  void add_pairs(std::size_t first, std::size_t m, std::size_t first_group) {
    const std::size_t G = static_cast<std::size_t>(d_.n_groups());
    GradPair* hist = pair_hist_.data() + first_group * kGroupStride;
    const std::uint8_t* row = d_.packed.data() + first * G + first_group;
    const double* gh = gh_ + 2 * first;
    for (std::size_t k = 0; k < m; ++k, row += G) {
      const GradPair x = {gh[2 * k], gh[2 * k + 1]};
      [&]<std::size_t... q>(std::index_sequence<q...>) {
        ((hist[q * kGroupStride + row[q]] += x), ...);
      }(std::make_index_sequence<kN>{});
    }
  }

  using AddPairs = void (TreeGrower::*)(std::size_t, std::size_t, std::size_t);
  template <std::size_t... n>
  static constexpr std::array<AddPairs, sizeof...(n)> pair_kernels(std::index_sequence<n...>) {
    return {&TreeGrower::add_pairs<n + 1>...};
  }

  using AddAdjacent = void (TreeGrower::*)(std::size_t, std::size_t, std::size_t);
  template <bool kPrefetch, std::size_t... n>
  static constexpr std::array<AddAdjacent, sizeof...(n)> adjacent_kernels(std::index_sequence<n...>) {
    return {&TreeGrower::add_adjacent<kPrefetch, n + 1>...};
  }

  /// Adds rows idx_[begin, end) to the histograms of groups col[0..nq) (at group_hist_ + off[q]), row
  /// by row, so every bin adds its rows in row order: scattered groups (colsample_bytree).
  template <bool kPrefetch>
  void add_rows(std::size_t begin, std::size_t end, const std::size_t* off, const std::size_t* col, std::size_t nq) {
    const std::size_t G = static_cast<std::size_t>(d_.n_groups());
    GroupBin* hist = group_hist_.data();
    const std::uint8_t* packed = d_.packed.data();
    const std::int32_t* rows = idx_.data();
    const std::size_t first = col[0], last = col[nq - 1];
    for (std::size_t k = begin; k < end; ++k) {
      if constexpr (kPrefetch) {
        if (k + kPrefetchRows < end) {
          const auto j = static_cast<std::size_t>(rows[k + kPrefetchRows]);
          __builtin_prefetch(packed + j * G + first);
          __builtin_prefetch(packed + j * G + last);
          __builtin_prefetch(gh_ + 2 * j);
        }
      }
      const auto i = static_cast<std::size_t>(rows[k]);
      const GroupBin x = {gh_[2 * i], gh_[2 * i + 1], 1.0, 0.0};
      const std::uint8_t* row = packed + i * G;
      for (std::size_t q = 0; q < nq; ++q) hist[off[q] + row[col[q]]] += x;
    }
  }

  /// Writes feature j's histogram (all its bins) into `hist` from its group's histogram.
  void expand(std::int32_t j, const Bin& total, Bin* hist) const {
    const auto gi = static_cast<std::size_t>(d_.group[static_cast<std::size_t>(j)]);
    const GroupBin* src = group_hist_.data() + gi * kGroupStride;
    Bin* dst = hist + d_.offset[static_cast<std::size_t>(j)];
    const int nb = d_.n_bins[static_cast<std::size_t>(j)], d = d_.default_bin[static_cast<std::size_t>(j)];
    auto bin = [](const GroupBin& x) { return Bin{x[0], x[1], static_cast<std::int64_t>(x[2])}; };
    if (d < 0) {
      for (int v = 0; v < nb; ++v) dst[v] = bin(src[v]);
      return;
    }
    // A bundled feature's most frequent bin is every row not in one of its other bins.
    Bin rest = total;
    for (int v = 0, s = d_.first_slot[static_cast<std::size_t>(j)]; v < nb; ++v) {
      if (v == d) continue;
      dst[v] = bin(src[s++]);
      rest.g -= dst[v].g;
      rest.h -= dst[v].h;
      rest.n -= dst[v].n;
    }
    dst[d] = rest;
  }

  double score(const Bin& b) const { return b.g * b.g / (b.h + o_.reg_lambda); }

  Candidate best_of_feature(std::int32_t j, const Bin* hj, const Bin& total) const {
    if (d_.categorical[static_cast<std::size_t>(j)]) return best_of_categories(j, hj, total);
    Candidate best;
    if (total.n < 2 * static_cast<std::int64_t>(o_.min_child_samples)) return best;
    const double parent = score(total);
    const int nb = d_.n_bins[static_cast<std::size_t>(j)] - 1;  // value bins
    const Bin miss = hj[nb];
    Bin left;
    for (int b = 0; b + 1 < nb; ++b) {
      const Bin& x = hj[b];
      left.g += x.g;
      left.h += x.h;
      left.n += x.n;
      consider_split(best, left, miss, total, parent, [this](const Bin& bin) { return score(bin); },
                     [&](double gain, bool missing_left, const Bin& l, const Bin& r) {
                       return Candidate{gain, j, b, missing_left, l, r};
                     });
    }
    return best;
  }

  /// Scores the split sending `left` one way and the rest of `total` the other, once with the missing
  /// rows `miss` right and (when the node has any) once with them left; a side within the child
  /// limits whose gain beats `best` and min_split_gain replaces it with make(gain, missing_left, l, r).
  /// Numeric and categorical splits share this, so both treat missing values the same way.
  template <class Score, class Make>
  void consider_split(Candidate& best, const Bin& left, const Bin& miss, const Bin& total, double parent, Score score_of,
                      Make make) const {
    for (int side = 0; side < (miss.n > 0 ? 2 : 1); ++side) {
      Bin l = left;
      if (side) l.g += miss.g, l.h += miss.h, l.n += miss.n;
      const Bin r{total.g - l.g, total.h - l.h, total.n - l.n};
      if (l.n < o_.min_child_samples || r.n < o_.min_child_samples || l.h < o_.min_child_weight || r.h < o_.min_child_weight)
        continue;
      const double gain = 0.5 * (score_of(l) + score_of(r) - parent);
      if (gain > best.gain && gain > o_.min_split_gain) best = make(gain, side == 1, l, r);
    }
  }

  /// The best split of categorical feature j into a set of categories (left) and the rest (right,
  /// with categories too rare here to be placed). At most max_cat_to_onehot categories with rows:
  /// each one against the rest. More: categories with at least min_data_per_group rows, ordered by
  /// g / (h + cat_smooth), and every prefix of that order of up to max_cat_threshold categories from
  /// either end (LightGBM's many-vs-many split; for squared error on one feature, ordering by the mean
  /// makes a prefix the optimal partition, Fisher 1958), scored with cat_l2 added to reg_lambda.
  /// Missing rows try both sides, as in numeric splits.
  Candidate best_of_categories(std::int32_t j, const Bin* hj, const Bin& total) const {
    Candidate best;
    if (total.n < 2 * static_cast<std::int64_t>(o_.min_child_samples)) return best;
    const int k = d_.n_bins[static_cast<std::size_t>(j)] - 1;  // categories; bin k holds the missing rows
    const Bin miss = hj[k];
    std::vector<int> used;
    for (int c = 0; c < k; ++c)
      if (hj[c].n > 0) used.push_back(c);
    const bool one_hot = static_cast<int>(used.size()) <= o_.max_cat_to_onehot;
    const double lambda = o_.reg_lambda + (one_hot ? 0.0 : o_.cat_l2);
    auto score_l = [lambda](const Bin& x) { return x.g * x.g / (x.h + lambda); };
    const double parent = score_l(total);
    std::array<std::uint64_t, 4> set{};
    auto consider = [&](const Bin& cats) {
      consider_split(best, cats, miss, total, parent, score_l, [&](double gain, bool missing_left, const Bin& l, const Bin& r) {
        Candidate c{gain, j, 0, missing_left, l, r};
        c.categorical = true;
        c.left_set = set;
        return c;
      });
    };
    auto add = [&set](int c) { set[static_cast<std::size_t>(c) >> 6] |= std::uint64_t{1} << (c & 63); };
    if (one_hot) {
      for (const int c : used) {
        set.fill(0);
        add(c);
        consider(hj[c]);
      }
      return best;
    }
    std::vector<int> order;
    for (const int c : used)
      if (hj[c].n >= o_.min_data_per_group) order.push_back(c);
    auto key = [&](int c) { return hj[c].g / (hj[c].h + o_.cat_smooth); };
    std::stable_sort(order.begin(), order.end(), [&](int a, int c) { return key(a) < key(c); });
    const int m = static_cast<int>(order.size());
    const int longest = std::min(o_.max_cat_threshold, (m + 1) / 2);
    for (int dir = 0; dir < 2; ++dir) {
      set.fill(0);
      Bin cats;
      for (int len = 1; len <= longest; ++len) {
        const int c = order[static_cast<std::size_t>(dir == 0 ? len - 1 : m - len)];
        add(c);
        cats.g += hj[c].g;
        cats.h += hj[c].h;
        cats.n += hj[c].n;
        consider(cats);
      }
    }
    return best;
  }

  const Binned& d_;
  const GradientBoostingOptions& o_;
  int threads_;
  const double* gh_ = nullptr;
  std::vector<int> groups_;                               // active groups, ascending
  std::vector<std::vector<std::int32_t>> group_features_;  // per active group, its features in the tree
  std::vector<std::int32_t> idx_, tmp_, part_tmp_;
  std::vector<Leaf> leaves_;
  std::vector<std::vector<Bin>> pool_;  // feature histograms of finished trees, reused
  std::vector<GroupBin> group_hist_;
  std::vector<GradPair> pair_hist_;           // the root's gradient pairs (add_contiguous)
  std::vector<std::int64_t> root_count_;      // row count per group bin of rows root_first_..+root_rows_
  std::size_t root_first_ = 0, root_rows_ = 0;
  bool root_run_ = false;                     // this split step builds a root of consecutive rows
};
}  // namespace

namespace {

enum class Loss { log, squared };

/// Rows whose log-loss gradients are computed together (sigmoid_block on a stack buffer).
constexpr std::size_t kGradientBlock = 256;
/// Chunks of rows whose gradient sums are taken side by side (each chunk's still in its row order): one
/// chunk's sum is a chain of dependent additions, kSumLanes of them overlap.
constexpr std::size_t kSumLanes = 4;

inline GradPair load_pair(const double* p) {
  GradPair x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

/// Gradients and hessians of the m training rows rows[0..m) into gh (2 per row, interleaved), from
/// labels y (0/1 bytes for log-loss, the targets for squared error) and weights w (null: all 1, whose
/// products are exact, so the same bits as with a vector of ones). A run of consecutive rows (every
/// block of a fit without a validation split) is read and written in place, which vectorises.
template <class Label>
void write_gradients(Loss loss, const std::int32_t* rows, std::size_t m, const double* raw, const Label* y, const double* w, double* gh) {
  std::array<double, kGradientBlock> z, q;
  if (static_cast<std::size_t>(rows[m - 1] - rows[0]) == m - 1) {
    const auto i0 = static_cast<std::size_t>(rows[0]);
    const double* r = raw + i0;
    const Label* yy = y + i0;
    double* out = gh + 2 * i0;
    if (loss == Loss::log) {
      sigmoid_block(r, q.data(), m);
      if (w) {
        const double* ww = w + i0;
        for (std::size_t k = 0; k < m; ++k) {
          out[2 * k] = ww[k] * (q[k] - static_cast<double>(yy[k]));
          out[2 * k + 1] = ww[k] * q[k] * (1.0 - q[k]);
        }
      } else {
        for (std::size_t k = 0; k < m; ++k) {
          out[2 * k] = q[k] - static_cast<double>(yy[k]);
          out[2 * k + 1] = q[k] * (1.0 - q[k]);
        }
      }
    } else {
      for (std::size_t k = 0; k < m; ++k) {
        const double wk = w ? w[i0 + k] : 1.0;
        out[2 * k] = wk * (r[k] - static_cast<double>(yy[k]));
        out[2 * k + 1] = wk;
      }
    }
    return;
  }
  if (loss == Loss::log) {
    for (std::size_t k = 0; k < m; ++k) z[k] = raw[static_cast<std::size_t>(rows[k])];
    sigmoid_block(z.data(), q.data(), m);
  }
  for (std::size_t k = 0; k < m; ++k) {
    const auto i = static_cast<std::size_t>(rows[k]);
    const double wi = w ? w[i] : 1.0;
    if (loss == Loss::log) {
      gh[2 * i] = wi * (q[k] - static_cast<double>(y[i]));
      gh[2 * i + 1] = wi * q[k] * (1.0 - q[k]);
    } else {
      gh[2 * i] = wi * (raw[i] - static_cast<double>(y[i]));
      gh[2 * i + 1] = wi;
    }
  }
}

/// Adds the gradient pairs of rows at[l][0..len[l]) to sum[l], for every lane l, each lane in its row
/// order. Lanes of equal length are added in lockstep.
void sum_gradients(const double* gh, const std::array<const std::int32_t*, kSumLanes>& at, const std::array<std::size_t, kSumLanes>& len,
                   std::array<GradPair, kSumLanes>& sum) {
  if (len[0] == len[1] && len[0] == len[2] && len[0] == len[3]) {
    GradPair s0 = sum[0], s1 = sum[1], s2 = sum[2], s3 = sum[3];
    for (std::size_t k = 0; k < len[0]; ++k) {
      s0 += load_pair(gh + 2 * static_cast<std::size_t>(at[0][k]));
      s1 += load_pair(gh + 2 * static_cast<std::size_t>(at[1][k]));
      s2 += load_pair(gh + 2 * static_cast<std::size_t>(at[2][k]));
      s3 += load_pair(gh + 2 * static_cast<std::size_t>(at[3][k]));
    }
    sum = {s0, s1, s2, s3};
    return;
  }
  for (std::size_t l = 0; l < kSumLanes; ++l)
    for (std::size_t k = 0; k < len[l]; ++k) sum[l] += load_pair(gh + 2 * static_cast<std::size_t>(at[l][k]));
}

double mean_loss(Loss loss, const std::vector<std::int32_t>& rows, const std::vector<double>& raw, const Eigen::VectorXd& y,
                 const Eigen::VectorXd& w) {
  double sum = 0, wsum = 0;
  for (const std::int32_t i : rows) {
    const double z = raw[static_cast<std::size_t>(i)];
    sum += w[i] * (loss == Loss::log ? (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - y[i] * z
                                     : (z - y[i]) * (z - y[i]));
    wsum += w[i];
  }
  return sum / wsum;
}

/// The boosting loop of both estimators. `valid_labels` stratifies the validation split (a constant
/// vector gives a plain random split).
void boost(const char* where, Loss loss, MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXi& valid_labels, const Eigen::VectorXd& w,
           const GradientBoostingOptions& o, double& init_score, std::vector<std::vector<TreeNode>>& trees, Eigen::VectorXd& importances,
           std::vector<double>& validation_loss) {
  const Eigen::Index n = X.rows(), p = X.cols();
  if (n >= std::numeric_limits<std::int32_t>::max()) detail::throw_invalid(where, "X", "has ", n, " rows; at most 2^31 - 2 are supported");
  std::vector<std::int32_t> train, valid;
  if (o.validation_fraction > 0) {
    const auto is_valid = stratified_split(valid_labels, o.validation_fraction, derive_seed(o.seed, 0xEA51));
    for (Eigen::Index i = 0; i < n; ++i) (is_valid[static_cast<std::size_t>(i)] ? valid : train).push_back(static_cast<std::int32_t>(i));
    if (train.empty() || valid.empty())
      detail::throw_invalid(where, "validation_fraction", "leaves ", train.size(), " training and ", valid.size(), " validation rows; both need rows");
  } else {
    train.resize(static_cast<std::size_t>(n));
    std::iota(train.begin(), train.end(), std::int32_t{0});
  }
  const int threads = detail::resolve_threads(o.n_threads);
  const std::vector<char> categorical = detail::categorical_mask(where, o.categorical_features, p);
  detail::check_codes(where, X, o.categorical_features, o.max_bins - 1);
  const Binned data = make_bins(X, train, o.max_bins, o.seed, o.n_threads, categorical);

  double wy = 0, wall = 0;
  for (const std::int32_t i : train) {
    wy += w[i] * y[i];
    wall += w[i];
  }
  if (!(wall > 0)) detail::throw_invalid(where, "sample_weight", "sums to 0 over the training rows");
  if (loss == Loss::log) {
    if (!(wy > 0 && wy < wall)) detail::throw_invalid(where, "y", "the training part lacks one class");
    init_score = std::log(wy / (wall - wy));
  } else {
    init_score = wy / wall;
  }
  std::vector<double> raw(static_cast<std::size_t>(n), init_score), gh(2 * static_cast<std::size_t>(n));
  importances = Eigen::VectorXd::Zero(p);
  trees.clear();
  validation_loss.clear();
  double best_loss = std::numeric_limits<double>::infinity();
  std::size_t best_trees = 0;
  int since_best = 0;
  std::vector<std::int32_t> all_features(static_cast<std::size_t>(p));
  std::iota(all_features.begin(), all_features.end(), 0);
  // Rows whose score the tree itself does not update (left out by subsampling, or held out).
  std::vector<char> in_tree(static_cast<std::size_t>(n));
  std::vector<std::int32_t> others;
  // What the gradient pass reads every round, kept small: log-loss labels as bytes, and no weights
  // when they are all 1 (14 bytes a row fewer from memory).
  const bool unit_weights = (w.array() == 1.0).all();
  std::vector<std::uint8_t> label;
  if (loss == Loss::log) {
    label.resize(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) label[static_cast<std::size_t>(i)] = y[i] != 0;
  }
  TreeGrower grower(data, o);
  std::vector<Bin> chunk_sums((train.size() + kRowChunk - 1) / kRowChunk);

  for (int round = 0; round < o.n_estimators; ++round) {
    // Gradients in chunks of kRowChunk training rows, each chunk summed as it is written: when every
    // training row is in the tree, these are the sums TreeGrower::row_total would take in another pass.
    // kSumLanes chunks go side by side, so their sums' chains of additions overlap.
    const std::size_t n_chunks = (train.size() + kRowChunk - 1) / kRowChunk;
    const std::size_t n_sets = (n_chunks + kSumLanes - 1) / kSumLanes;
#pragma omp parallel for schedule(static) num_threads(threads) if (train.size() > 20000)
    for (std::size_t set = 0; set < n_sets; ++set) {
      const std::size_t c0 = set * kSumLanes, lanes = std::min(kSumLanes, n_chunks - c0);
      std::array<GradPair, kSumLanes> sum{};
      for (std::size_t off = 0; off < kRowChunk; off += kGradientBlock) {
        std::array<const std::int32_t*, kSumLanes> at{};
        std::array<std::size_t, kSumLanes> len{};
        for (std::size_t l = 0; l < lanes; ++l) {
          const std::size_t b = (c0 + l) * kRowChunk + off, e = std::min({train.size(), (c0 + l + 1) * kRowChunk, b + kGradientBlock});
          if (b >= e) continue;
          if (loss == Loss::log)
            write_gradients(loss, train.data() + b, e - b, raw.data(), label.data(), unit_weights ? nullptr : w.data(), gh.data());
          else
            write_gradients(loss, train.data() + b, e - b, raw.data(), y.data(), unit_weights ? nullptr : w.data(), gh.data());
          at[l] = train.data() + b;
          len[l] = e - b;
        }
        sum_gradients(gh.data(), at, len, sum);
      }
      for (std::size_t l = 0; l < lanes; ++l) chunk_sums[c0 + l] = Bin{sum[l][0], sum[l][1], 0};
    }
    std::vector<std::int32_t> rows = train;
    if (o.subsample < 1.0) {
      Random rng(o.seed, 2 * static_cast<std::uint64_t>(round) + 1);
      std::vector<std::int32_t> kept;
      for (const std::int32_t i : rows)
        if (rng.uniform() < o.subsample) kept.push_back(i);
      if (kept.size() >= 2) rows = std::move(kept);
    }
    others.clear();
    if (rows.size() < static_cast<std::size_t>(n)) {
      std::fill(in_tree.begin(), in_tree.end(), 0);
      for (const std::int32_t i : rows) in_tree[static_cast<std::size_t>(i)] = 1;
      for (std::int32_t i = 0; i < n; ++i)
        if (!in_tree[static_cast<std::size_t>(i)]) others.push_back(i);
    }
    std::vector<std::int32_t> features = all_features;
    if (o.colsample_bytree < 1.0) {
      Random rng(o.seed, 2 * static_cast<std::uint64_t>(round) + 2);
      for (std::size_t k = features.size(); k > 1; --k) std::swap(features[k - 1], features[rng.below(k)]);
      features.resize(std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(o.colsample_bytree * static_cast<double>(p)))));
      std::sort(features.begin(), features.end());
    }
    Bin total;
    if (rows.size() == train.size()) {
      for (const Bin& c : chunk_sums) total.g += c.g, total.h += c.h;
      total.n = static_cast<std::int64_t>(train.size());
    }
    trees.push_back(grower.grow(std::move(rows), gh, features, importances, raw, total.n > 0 ? &total : nullptr));
    const auto& tree = trees.back();
#pragma omp parallel for schedule(static) num_threads(threads) if (others.size() > 20000)
    for (std::size_t k = 0; k < others.size(); ++k) raw[static_cast<std::size_t>(others[k])] += detail::walk_tree(tree, X, others[k]);
    if (!valid.empty()) {
      const double vl = mean_loss(loss, valid, raw, y, w);
      validation_loss.push_back(vl);
      if (vl < best_loss - 1e-12) {
        best_loss = vl;
        best_trees = trees.size();
        since_best = 0;
      } else if (++since_best >= o.n_iter_no_change) {
        break;
      }
    }
  }
  if (!valid.empty()) trees.resize(std::max<std::size_t>(best_trees, 1));
  const double s = importances.sum();
  if (s > 0) importances /= s;
}

/// Schema 2 adds the growth policy; schema 3 the categorical options and each node's category set.
/// Older records (no categorical splits; schema 1 leaf-wise only) still load.
constexpr std::uint32_t kSchema = 3;

}  // namespace

void validate(const GradientBoostingOptions& o) {
  constexpr const char* w = "GradientBoostingOptions";
  if (o.n_estimators < 1) detail::throw_invalid(w, "n_estimators", "is ", o.n_estimators, "; must be >= 1");
  if (!(o.learning_rate > 0) || std::isinf(o.learning_rate)) detail::throw_invalid(w, "learning_rate", "is ", o.learning_rate, "; must be > 0");
  if (o.num_leaves < 2) detail::throw_invalid(w, "num_leaves", "is ", o.num_leaves, "; must be >= 2");
  if (o.max_depth < -1 || o.max_depth == 0) detail::throw_invalid(w, "max_depth", "is ", o.max_depth, "; must be >= 1 or -1");
  if (o.min_child_samples < 1) detail::throw_invalid(w, "min_child_samples", "is ", o.min_child_samples, "; must be >= 1");
  if (!(o.min_child_weight >= 0)) detail::throw_invalid(w, "min_child_weight", "is ", o.min_child_weight, "; must be >= 0");
  if (!(o.reg_lambda >= 0)) detail::throw_invalid(w, "reg_lambda", "is ", o.reg_lambda, "; must be >= 0");
  if (!(o.min_split_gain >= 0)) detail::throw_invalid(w, "min_split_gain", "is ", o.min_split_gain, "; must be >= 0");
  if (!(o.subsample > 0 && o.subsample <= 1)) detail::throw_invalid(w, "subsample", "is ", o.subsample, "; must be in (0, 1]");
  if (!(o.colsample_bytree > 0 && o.colsample_bytree <= 1))
    detail::throw_invalid(w, "colsample_bytree", "is ", o.colsample_bytree, "; must be in (0, 1]");
  if (o.max_bins < 2 || o.max_bins > 255) detail::throw_invalid(w, "max_bins", "is ", o.max_bins, "; must be in [2, 255]");
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1))
    detail::throw_invalid(w, "validation_fraction", "is ", o.validation_fraction, "; must be in [0, 1)");
  if (o.n_iter_no_change < 1) detail::throw_invalid(w, "n_iter_no_change", "is ", o.n_iter_no_change, "; must be >= 1");
  if (o.growth != GrowthPolicy::leafwise && o.growth != GrowthPolicy::depthwise)
    detail::throw_invalid(w, "growth", "is ", static_cast<int>(o.growth), "; must be leafwise (0) or depthwise (1)");
  if (o.max_cat_to_onehot < 1) detail::throw_invalid(w, "max_cat_to_onehot", "is ", o.max_cat_to_onehot, "; must be >= 1");
  if (o.max_cat_threshold < 1) detail::throw_invalid(w, "max_cat_threshold", "is ", o.max_cat_threshold, "; must be >= 1");
  if (!(o.cat_smooth >= 0) || std::isinf(o.cat_smooth)) detail::throw_invalid(w, "cat_smooth", "is ", o.cat_smooth, "; must be >= 0");
  if (!(o.cat_l2 >= 0) || std::isinf(o.cat_l2)) detail::throw_invalid(w, "cat_l2", "is ", o.cat_l2, "; must be >= 0");
  if (o.min_data_per_group < 1) detail::throw_invalid(w, "min_data_per_group", "is ", o.min_data_per_group, "; must be >= 1");
  for (const std::int32_t j : o.categorical_features)
    if (j < 0) detail::throw_invalid(w, "categorical_features", "holds ", j, "; column indices must be >= 0");
}

namespace detail {

const Eigen::VectorXd& BoostedTrees::feature_importances() const {
  require_fitted(fitted_, "GradientBoosting::feature_importances");
  return importances_;
}

void BoostedTrees::set_n_threads(int n_threads) {
  if (n_threads < 0) throw_invalid("GradientBoosting::set_n_threads", "n_threads", "is ", n_threads, "; must be >= 0");
  options_.n_threads = n_threads;
}

void BoostedTrees::set_feature_names(std::vector<std::string> names) {
  require_fitted(fitted_, "GradientBoosting::set_feature_names");
  check_feature_names("GradientBoosting::set_feature_names", names, n_features_);
  feature_names_ = std::move(names);
}

void BoostedTrees::fit_trees(const char* where, bool log_loss, MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXi& strata,
                             VectorRef sample_weight) {
  const Eigen::VectorXd w = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd::Ones(X.rows());
  fitted_ = false;
  boost(where, log_loss ? Loss::log : Loss::squared, X, y, strata, w, options_, init_score_, trees_, importances_, validation_loss_);
  n_features_ = X.cols();
  feature_names_.clear();
  fitted_ = true;
}

Eigen::VectorXd BoostedTrees::raw_scores(const char* where, MatrixRef X) const {
  require_fitted(fitted_, where);
  check_predict(where, X, n_features_, true);
  check_codes(where, X, options_.categorical_features, -1);
  Eigen::VectorXd raw = Eigen::VectorXd::Constant(X.rows(), init_score_);
  ForestScorer(trees_).add(X, raw, options_.n_threads);
  return raw;
}

void BoostedTrees::write(std::ostream& out, const std::array<char, 4>& tag, const char* where) const {
  require_fitted(fitted_, where);
  ModelWriter w(tag, kSchema);
  const auto& o = options_;
  w.i32(o.n_estimators);
  w.f64(o.learning_rate);
  w.i32(o.num_leaves);
  w.i32(o.max_depth);
  w.i32(o.min_child_samples);
  w.f64(o.min_child_weight);
  w.f64(o.reg_lambda);
  w.f64(o.min_split_gain);
  w.f64(o.subsample);
  w.f64(o.colsample_bytree);
  w.i32(o.max_bins);
  w.f64(o.validation_fraction);
  w.i32(o.n_iter_no_change);
  w.u64(o.seed);
  w.i32(o.n_threads);
  w.u8(static_cast<std::uint8_t>(o.growth));
  w.i32_vector(o.categorical_features);
  w.i32(o.max_cat_to_onehot);
  w.i32(o.max_cat_threshold);
  w.f64(o.cat_smooth);
  w.f64(o.cat_l2);
  w.i32(o.min_data_per_group);
  w.i64(n_features_);
  w.f64(init_score_);
  w.u64(trees_.size());
  for (const auto& tree : trees_) {
    w.u64(tree.size());
    for (const TreeNode& t : tree) {
      w.i32(t.feature);
      w.f64(t.threshold);
      w.i32(t.left);
      w.i32(t.right);
      w.boolean(t.missing_left);
      w.f64(t.value);
      w.u64(t.categories.size());
      for (const std::uint64_t word : t.categories) w.u64(word);
    }
  }
  write_vector(w, importances_);
  w.f64_vector(validation_loss_);
  write_strings(w, feature_names_);
  w.finish(out);
}

void BoostedTrees::read(std::istream& in, const std::array<char, 4>& tag) {
  ModelReader r(in, tag, kSchema);
  GradientBoostingOptions o;
  o.n_estimators = r.i32("n_estimators");
  o.learning_rate = r.f64("learning_rate");
  o.num_leaves = r.i32("num_leaves");
  o.max_depth = r.i32("max_depth");
  o.min_child_samples = r.i32("min_child_samples");
  o.min_child_weight = r.f64("min_child_weight");
  o.reg_lambda = r.f64("reg_lambda");
  o.min_split_gain = r.f64("min_split_gain");
  o.subsample = r.f64("subsample");
  o.colsample_bytree = r.f64("colsample_bytree");
  o.max_bins = r.i32("max_bins");
  o.validation_fraction = r.f64("validation_fraction");
  o.n_iter_no_change = r.i32("n_iter_no_change");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  if (r.schema() >= 2) {
    const std::uint8_t g = r.u8("growth");
    if (g > 1) r.fail("growth", concat("unknown growth policy ", static_cast<int>(g)));
    o.growth = static_cast<GrowthPolicy>(g);
  }
  if (r.schema() >= 3) {
    const std::vector<std::int32_t> cats = r.i32_vector("categorical_features");
    o.categorical_features.assign(cats.begin(), cats.end());
    o.max_cat_to_onehot = r.i32("max_cat_to_onehot");
    o.max_cat_threshold = r.i32("max_cat_threshold");
    o.cat_smooth = r.f64("cat_smooth");
    o.cat_l2 = r.f64("cat_l2");
    o.min_data_per_group = r.i32("min_data_per_group");
    try {
      validate(o);
    } catch (const Error& e) {
      r.fail("options", e.what());
    }
  }
  options_ = o;
  n_features_ = r.i64("n_features");
  if (n_features_ <= 0) r.fail("n_features", "must be positive");
  std::vector<char> categorical(static_cast<std::size_t>(n_features_), 0);
  for (const std::int32_t j : o.categorical_features) {
    if (j >= n_features_) r.fail("categorical_features", concat("holds column ", j, " of a model with ", n_features_, " features"));
    categorical[static_cast<std::size_t>(j)] = 1;
  }
  init_score_ = r.f64("init_score");
  const std::uint64_t n_trees = r.u64("n_trees");
  trees_.clear();
  for (std::uint64_t k = 0; k < n_trees; ++k) {
    const std::uint64_t n_nodes = r.u64("tree.n_nodes");
    if (n_nodes == 0) r.fail("tree.n_nodes", "empty tree");
    std::vector<TreeNode> tree;
    for (std::uint64_t q = 0; q < n_nodes; ++q) {
      TreeNode t;
      t.feature = r.i32("node.feature");
      t.threshold = r.f64("node.threshold");
      t.left = r.i32("node.left");
      t.right = r.i32("node.right");
      t.missing_left = r.boolean("node.missing_left");
      t.value = r.f64("node.value");
      if (r.schema() >= 3) {
        const std::uint64_t words = r.u64("node.n_category_words");
        if (words > 4) r.fail("node.n_category_words", concat("is ", words, "; category codes stop below 256 (4 words)"));
        for (std::uint64_t q2 = 0; q2 < words; ++q2) t.categories.push_back(r.u64("node.categories"));
        if (words > 0 && (t.feature < 0 || t.feature >= n_features_ || !categorical[static_cast<std::size_t>(t.feature)] || t.categories.back() == 0))
          r.fail("node.categories", concat("tree ", k, " node ", q, " has a malformed category set"));
      }
      if (t.feature >= 0 && (t.feature >= n_features_ || t.left <= static_cast<std::int64_t>(q) || t.right <= static_cast<std::int64_t>(q) ||
                             static_cast<std::uint64_t>(t.left) >= n_nodes || static_cast<std::uint64_t>(t.right) >= n_nodes))
        r.fail("nodes", concat("tree ", k, " node ", q, " has an invalid split"));
      tree.push_back(t);
    }
    trees_.push_back(std::move(tree));
  }
  importances_ = read_vector(r, "feature_importances");
  validation_loss_ = r.f64_vector("validation_loss");
  feature_names_ = read_strings(r, "feature_names");
  r.expect_end();
  if (importances_.size() != n_features_) r.fail("feature_importances", "one per feature expected");
  fitted_ = true;
}

}  // namespace detail

GradientBoostingClassifier::GradientBoostingClassifier(GradientBoostingOptions options) : detail::BoostedTrees(options) {}

GradientBoostingClassifier& GradientBoostingClassifier::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) {
  return fit(X, y, Eigen::VectorXd());
}

GradientBoostingClassifier& GradientBoostingClassifier::fit(MatrixRef X, LabelRef y, VectorRef sample_weight) {
  constexpr const char* where = "GradientBoostingClassifier::fit";
  validate(options_);
  detail::check_binary_fit(where, X, y, sample_weight, true);
  fit_trees(where, true, X, y.cast<double>(), y, sample_weight);
  return *this;
}

GradientBoostingClassifier& GradientBoostingClassifier::fit_rows(MatrixRef X, LabelRef y, VectorRef sample_weight,
                                                                 std::span<const Eigen::Index> rows) {
  constexpr const char* where = "GradientBoostingClassifier::fit_rows";
  detail::check_row_selection(where, rows, X.rows());
  if (y.size() != X.rows()) detail::throw_invalid(where, "y", "has ", y.size(), " labels, X has ", X.rows(), " rows");
  if (sample_weight.size() != 0 && sample_weight.size() != X.rows())
    detail::throw_invalid(where, "sample_weight", "has ", sample_weight.size(), " entries, X has ", X.rows(), " rows");
  const auto m = static_cast<Eigen::Index>(rows.size());
  RowMatrix Xr(m, X.cols());
  Eigen::VectorXi yr(m);
  Eigen::VectorXd wr(sample_weight.size() ? m : 0);
#pragma omp parallel for schedule(static) num_threads(detail::resolve_threads(options_.n_threads)) if (m * X.cols() > 65536)
  for (Eigen::Index k = 0; k < m; ++k) {
    const Eigen::Index i = rows[static_cast<std::size_t>(k)];
    Xr.row(k) = X.row(i);
    yr[k] = y[i];
    if (wr.size()) wr[k] = sample_weight[i];
  }
  validate(options_);
  detail::check_binary_fit(where, Xr, yr, wr, true);
  fit_trees(where, true, Xr, yr.cast<double>(), yr, wr);
  return *this;
}

Eigen::VectorXd GradientBoostingClassifier::decision_function(MatrixRef X) const {
  return raw_scores("GradientBoostingClassifier::decision_function", X);
}

RowMatrix GradientBoostingClassifier::predict_proba(MatrixRef X) const {
  Eigen::VectorXd z = decision_function(X);
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = sigmoid(z[i]);
  return detail::two_column_proba(z);
}

Eigen::VectorXi GradientBoostingClassifier::predict(MatrixRef X) const { return (decision_function(X).array() > 0).cast<int>(); }

void GradientBoostingClassifier::save(std::ostream& out) const { write(out, model_tag("GBMC"), "GradientBoostingClassifier::save"); }

GradientBoostingClassifier GradientBoostingClassifier::load(std::istream& in) {
  GradientBoostingClassifier m;
  m.read(in, model_tag("GBMC"));
  return m;
}

GradientBoostingRegressor::GradientBoostingRegressor(GradientBoostingOptions options) : detail::BoostedTrees(options) {}

GradientBoostingRegressor& GradientBoostingRegressor::fit(MatrixRef X, VectorRef y) { return fit(X, y, Eigen::VectorXd()); }

GradientBoostingRegressor& GradientBoostingRegressor::fit(MatrixRef X, VectorRef y, VectorRef sample_weight) {
  constexpr const char* where = "GradientBoostingRegressor::fit";
  validate(options_);
  detail::check_regression_fit(where, X, y, sample_weight, true);
  fit_trees(where, false, X, y, Eigen::VectorXi::Zero(X.rows()), sample_weight);
  return *this;
}

Eigen::VectorXd GradientBoostingRegressor::predict(MatrixRef X) const { return raw_scores("GradientBoostingRegressor::predict", X); }

void GradientBoostingRegressor::save(std::ostream& out) const { write(out, model_tag("GBMR"), "GradientBoostingRegressor::save"); }

GradientBoostingRegressor GradientBoostingRegressor::load(std::istream& in) {
  GradientBoostingRegressor m;
  m.read(in, model_tag("GBMR"));
  return m;
}

}  // namespace crmine
