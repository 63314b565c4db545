// SPDX-License-Identifier: Apache-2.0
// IsolationForest: per-tree seeded subsamples, flat node arrays, block-of-rows x trees scoring.
#include <crmine/deviation/isolation_forest.hpp>
#include <crmine/core/order_key.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <unordered_set>
#include <utility>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("IFOR");
// Schema 2: thresholds are float32 values, saved in 4 bytes (schema 1: any double, 8 bytes).
constexpr std::uint32_t kSchema = 2;

using Node = IsolationForest::Node;

/// Draws m distinct row indices of [0, n) (Floyd's algorithm when m << n), sorted.
std::vector<std::int64_t> subsample(std::int64_t n, std::int64_t m, Random& rng) {
  std::vector<std::int64_t> out;
  if (m * 4 >= n) {
    std::vector<std::int64_t> all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    for (std::int64_t i = 0; i < m; ++i) {
      const auto j = i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - i)));
      std::swap(all[i], all[j]);
    }
    out.assign(all.begin(), all.begin() + m);
  } else {
    std::unordered_set<std::int64_t> seen;
    seen.reserve(static_cast<std::size_t>(2 * m));
    for (std::int64_t j = n - m; j < n; ++j) {
      const auto t = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(j + 1)));
      const std::int64_t pick = seen.count(t) ? j : t;
      seen.insert(pick);
      out.push_back(pick);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The smallest float32 >= v (+inf above the largest float32), -0 folded onto +0.
inline float float_ceil(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) < v) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f + 0.0f;
}

/// Grows one isolation tree on the rows `rows` of X, splitting only on `features`.
std::vector<Node> grow_tree(MatrixRef X, const std::vector<std::int64_t>& rows, std::vector<int> features, int max_depth,
                            Random& rng) {
  const auto m = static_cast<Eigen::Index>(rows.size());
  const auto k = static_cast<Eigen::Index>(features.size());
  // Feature-major copy of the subsample: min/max scans and partitions read contiguous memory.
  std::vector<double> values(static_cast<std::size_t>(m * k));
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index f = 0; f < k; ++f) values[f * m + i] = X(rows[i], features[f]);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(m));
  std::iota(order.begin(), order.end(), 0);

  std::vector<Node> nodes(1);
  nodes.reserve(static_cast<std::size_t>(2 * m));
  struct Task {
    std::int32_t node;
    Eigen::Index begin, end;
    int depth;
  };
  std::vector<Task> stack{{0, 0, m, 0}};
  std::vector<int> candidates(static_cast<std::size_t>(k));
  while (!stack.empty()) {
    const Task t = stack.back();
    stack.pop_back();
    const Eigen::Index count = t.end - t.begin;
    bool split = false;
    if (count > 1 && t.depth < max_depth) {
      // Features in random order until one is not constant in this node (scikit-learn's random
      // splitter skips constant features the same way); none left makes a leaf.
      std::iota(candidates.begin(), candidates.end(), 0);
      for (Eigen::Index left_to_try = k; left_to_try > 0 && !split; --left_to_try) {
        const auto pick = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(left_to_try)));
        const int f = candidates[pick];
        std::swap(candidates[pick], candidates[left_to_try - 1]);
        const double* col = values.data() + f * m;
        double lo = col[order[t.begin]], hi = lo;
        for (Eigen::Index i = t.begin + 1; i < t.end; ++i) {
          const double v = col[order[i]];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        // Thresholds are float32 values (scikit-learn splits a float32 copy of X), so scoring can
        // compare 32-bit keys packed with the feature in one 64-bit node. The draw is clamped to
        // [smallest float32 >= lo, largest float32 < hi]: lo goes left and hi right, so both sides
        // keep rows; a feature with no float32 in that range is constant at float32 precision.
        const float first = float_ceil(lo);
        if (!(static_cast<double>(first) < hi)) continue;
        const float last = std::nextafter(float_ceil(hi), -std::numeric_limits<float>::infinity());
        const double span = hi - lo, u = rng.uniform();
        const double drawn = std::isfinite(span) ? lo + u * span : lo * (1 - u) + hi * u;
        const double threshold = std::clamp(static_cast<float>(drawn), first, last) + 0.0f;
        const auto mid = std::partition(order.begin() + t.begin, order.begin() + t.end,
                                        [&](Eigen::Index i) { return col[i] <= threshold; }) - order.begin();
        const auto left = static_cast<std::int32_t>(nodes.size());
        nodes[t.node].feature = features[f];
        nodes[t.node].value = threshold;
        nodes[t.node].left = left;
        nodes.resize(nodes.size() + 2);
        // Right child pushed first so the left subtree is grown first (a fixed order of draws).
        stack.push_back({left + 1, mid, t.end, t.depth + 1});
        stack.push_back({left, t.begin, mid, t.depth + 1});
        split = true;
      }
    }
    if (!split) {
      nodes[t.node].feature = -1;
      nodes[t.node].value = t.depth + average_path_length(static_cast<double>(count));
    }
  }
  return nodes;
}

}  // namespace

double average_path_length(double n) {
  if (n <= 1) return 0.0;
  if (n <= 2) return 1.0;
  constexpr double kEulerGamma = 0.5772156649015329;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

void validate(const IsolationForestOptions& o) {
  constexpr const char* where = "IsolationForest";
  if (o.n_estimators < 1) detail::throw_invalid(where, "n_estimators", "must be >= 1, got ", o.n_estimators);
  if (o.max_samples < 0) detail::throw_invalid(where, "max_samples", "must be >= 0 (0 = 'auto'), got ", o.max_samples);
  if (!(o.max_features > 0 && o.max_features <= 1))
    detail::throw_invalid(where, "max_features", "must be in (0, 1], got ", o.max_features);
  detail::check_contamination(where, o.contamination, true);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
}

IsolationForest::IsolationForest(IsolationForestOptions options) : options_(options) {}

IsolationForest& IsolationForest::fit(MatrixRef X) {
  constexpr const char* where = "IsolationForest::fit";
  validate(options_);
  detail::check_data_fast(where, "X", X, options_.n_threads);
  const std::int64_t n = X.rows();
  const Eigen::Index d = X.cols();
  const std::int64_t m = options_.max_samples == 0 ? std::min<std::int64_t>(256, n) : std::min(options_.max_samples, n);
  const int max_depth = static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(m, 2)))));
  const auto k = static_cast<Eigen::Index>(
      std::max<double>(1.0, std::floor(options_.max_features * static_cast<double>(d) + 1e-9)));

  const int T = options_.n_estimators;
  std::vector<std::vector<Node>> trees(static_cast<std::size_t>(T));
  const int threads = std::min(detail::resolve_threads(options_.n_threads), T);
  detail::ExceptionCollector errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int t = 0; t < T; ++t) {
    errors.run([&] {
      // One stream per tree: the forest does not depend on which thread grows which tree.
      Random rng(options_.seed, static_cast<std::uint64_t>(t));
      std::vector<int> features(static_cast<std::size_t>(d));
      std::iota(features.begin(), features.end(), 0);
      if (k < d) {
        for (Eigen::Index i = 0; i < k; ++i)
          std::swap(features[i], features[i + static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(d - i)))]);
        features.resize(static_cast<std::size_t>(k));
      }
      trees[t] = grow_tree(X, subsample(n, m, rng), std::move(features), max_depth, rng);
    });
  }
  errors.rethrow();

  nodes_.clear();
  roots_.clear();
  for (auto& tree : trees) {
    const auto base = static_cast<std::int32_t>(nodes_.size());
    roots_.push_back(base);
    for (Node node : tree) {
      if (node.feature >= 0) node.left += base;
      nodes_.push_back(node);
    }
  }
  max_samples_used_ = m;
  n_features_ = d;
  compile();
  fitted_ = true;
  offset_ = -0.5;
  if (options_.contamination != kAutoContamination)
    offset_ = detail::offset_from_scores(score_samples(X), options_.contamination);
  return *this;
}

namespace {

// Rows walk each tree in lockstep groups of kLanes: their dependent load chains overlap, and with
// the group's rows transposed (feature-major, kLanes values per feature) every lane reads its value
// at a compile-time distance from the others. 16 chains (measured against 8 and 12, 1M x 20, one
// thread: ~8% less CPU than 8) still leave the tree and row-block bases in registers.
constexpr int kLanes = 16;
constexpr int kQuads = kLanes / 4;  // AVX2 vectors of 4 lanes
// Deepest forest scored as implicit heaps: 2^11 words of 8 bytes per tree still stay in L1/L2
// while a row block walks the tree; 'auto' max_samples (256) gives depth 8.
constexpr int kHeapDepth = 10;
// Levels of a heap tree decided for a whole lane group at once (see top_levels).
constexpr int kTopLevels = 3;
// Bytes of the transposed row block: with one tree's heap (4 KB at depth 8) it fits in L1.
constexpr Eigen::Index kBlockBytes = 20 * 1024;

// Row values and thresholds are compared as unsigned integer keys in the values' order: an integer
// load-compare chain is shorter than a floating-point one. Two scoring forms:
// * packed heaps (every threshold a float32 value, schema 2): a node is one 64-bit word, the
//   threshold's 32-bit order key above the feature's byte offset, so a step loads the node and the
//   row value, not a key and an offset apart (about 1.7 -> 1 cycle per level). A row value x is held
//   as ceil_key(x) << 32, the key of the smallest float32 >= x: word(x) > node <=> x > threshold
//   exactly, for any double x.
// * steps (deep forests, and schema 1 models whose thresholds are any doubles): 64-bit order_key()s.

/// A step node that sends every row left (larger than the order key of any finite double).
constexpr std::uint64_t kPassLeft = ~std::uint64_t{0};
/// A packed node that sends every row left: key above that of +inf, offset 0 (a valid load).
constexpr std::uint64_t kPackedPassLeft = ~std::uint64_t{0} << 32;

/// The bits of a float (not NaN) as an unsigned key in the float's order, -0 just below +0: the
/// keys of consecutive floats are consecutive integers.
inline std::uint32_t order_bits32(float v) {
  const auto u = std::bit_cast<std::uint32_t>(v);
  return (u >> 31) ? ~u : u | 0x80000000u;
}

/// The order key of the smallest float32 >= x (x finite): round to nearest, then one key up where
/// that rounded down. Beyond the float32 range x gets the key of +inf or of the lowest float.
inline std::uint32_t ceil_key(double x) {
  const float f = static_cast<float>(x);
  return order_bits32(f) + (static_cast<double>(f) < x ? 1u : 0u);
}

/// Whether every threshold in `nodes` is a float32 value: true of forests fitted since schema 2, not
/// of schema 1 models, whose double thresholds need the 64-bit keys of steps (and 8 bytes saved).
bool float_thresholds(const std::vector<Node>& nodes) {
  return std::all_of(nodes.begin(), nodes.end(), [](const Node& node) {
    return node.feature < 0 || static_cast<double>(static_cast<float>(node.value)) == node.value;
  });
}

/// The packed node of a split at `threshold` (a float32 value; -0 counts as +0).
inline std::uint64_t packed_node(double threshold, std::uint32_t offset) {
  return std::uint64_t{order_bits32(static_cast<float>(threshold) + 0.0f)} << 32 | offset;
}

/// 2 at + (x > node): one step down an implicit heap. On x86-64 a compare and an add-with-carry,
/// where compilers emit a compare, a flag-to-register move, a widening and an add; the row value
/// stays a memory operand (the node is in a register anyway: its offset addressed the value).
inline std::uint64_t descend(std::uint64_t at, const std::uint64_t& x, std::uint64_t node) {
#if defined(__x86_64__) && defined(__GNUC__)
  asm("cmp %[x], %[t]\n\tadc %[at], %[at]" : [at] "+r"(at) : [x] "m"(x), [t] "r"(node) : "cc");
  return at;
#else
  return 2 * at + (x > node ? 1 : 0);
#endif
}

/// 64-bit words of one packed heap tree of `depth` levels: 2^(depth + 1) words (slot s below
/// 2^depth holds the packed node of internal slot s, slot s from 2^depth on the path length of the
/// leaf reached there), rounded up to a cache line. One base address reaches a tree's nodes and
/// leaves at compile-time distances.
constexpr std::size_t heap_words(int depth) {
  const std::size_t slots = std::size_t{1} << depth;
  return (2 * slots + 7) / 8 * 8;
}

/// The first kTopLevels levels of one heap tree (slots 1..7) as constants of the whole tree: its
/// thresholds broadcast once per tree rather than once per lane group.
struct TopLevels {
#if defined(__AVX2__)
  __m256i key[7];  // AVX2 compares signed 64-bit integers: nodes with the top bit flipped keep their order
#else
  std::uint64_t key[7];
#endif
  std::uint32_t offset[7];
};

inline TopLevels top_levels_of(const std::uint64_t* node) {
  TopLevels t;
  for (int s = 1; s < 8; ++s) {
#if defined(__AVX2__)
    t.key[s - 1] = _mm256_set1_epi64x(static_cast<long long>(node[s] ^ (std::uint64_t{1} << 63)));
#else
    t.key[s - 1] = node[s];
#endif
    t.offset[s - 1] = static_cast<std::uint32_t>(node[s]);
  }
  return t;
}

/// The heap slots at level kTopLevels (8..15) of every lane. The first levels hold few nodes, so all
/// of them are compared for the whole group with vector compares of contiguous lanes (no dependent
/// loads) and each lane's path picked with blends; deeper levels are walked lane by lane.
inline void top_levels(const TopLevels& top, const char* x, std::uint64_t* at) {
#if defined(__AVX2__)
  const __m256i flip = _mm256_set1_epi64x(static_cast<long long>(std::uint64_t{1} << 63));
  const auto gt = [&](int slot, int half) {  // lanes 4 half .. 4 half + 3: x > key[slot]
    const auto* v = reinterpret_cast<const __m256i*>(x + top.offset[slot - 1] + half * 4 * sizeof(std::uint64_t));
    return _mm256_castsi256_pd(_mm256_cmpgt_epi64(_mm256_xor_si256(_mm256_loadu_si256(v), flip), top.key[slot - 1]));
  };
#pragma GCC unroll 4
  for (int half = 0; half < kQuads; ++half) {
    const __m256d c0 = gt(1, half);
    const __m256d c1 = _mm256_blendv_pd(gt(2, half), gt(3, half), c0);
    const __m256d c2 = _mm256_blendv_pd(_mm256_blendv_pd(gt(4, half), gt(5, half), c1),
                                        _mm256_blendv_pd(gt(6, half), gt(7, half), c1), c0);
    // Masks are all ones (-1) where true: slot = 8 + 4 c0 + 2 c1 + c2.
    const __m256i m0 = _mm256_castpd_si256(c0), m1 = _mm256_castpd_si256(c1), m2 = _mm256_castpd_si256(c2);
    __m256i slot = _mm256_sub_epi64(_mm256_set1_epi64x(8), _mm256_slli_epi64(m0, 2));
    slot = _mm256_sub_epi64(_mm256_sub_epi64(slot, _mm256_add_epi64(m1, m1)), m2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(at + half * 4), slot);
  }
#else
  for (int l = 0; l < kLanes; ++l) {
    std::uint64_t a = 1;
    for (int level = 0; level < kTopLevels; ++level)
      a = 2 * a + (*reinterpret_cast<const std::uint64_t*>(x + top.offset[a - 1] + l * sizeof(std::uint64_t)) > top.key[a - 1] ? 1 : 0);
    at[l] = a;
  }
#endif
}

/// Adds each lane's leaf path length in one packed heap tree of D levels (heap_words layout at w) to acc,
/// for every lane group of the transposed block xt. D is a compile-time constant so the offsets
/// and leaves sit at fixed distances from w and the level loop unrolls. (Walking two 8-row groups
/// at once through separate arrays spilled; 16 lanes through one base do not.)
template <int D>
void walk_heap(const std::uint64_t* w, const std::uint64_t* xt, Eigen::Index groups, Eigen::Index d, double* acc) {
  constexpr int first = D >= kTopLevels ? kTopLevels : 0;
  TopLevels top{};
  if constexpr (D >= kTopLevels) top = top_levels_of(w);
  for (Eigen::Index g = 0; g < groups; ++g) {
    const char* x = reinterpret_cast<const char*>(xt + g * d * kLanes);
    alignas(32) std::uint64_t at[kLanes];
    if constexpr (D >= kTopLevels) {
      top_levels(top, x, at);
    } else {
      for (int l = 0; l < kLanes; ++l) at[l] = 1;
    }
#pragma GCC unroll 16
    for (int level = first; level < D; ++level) {
#pragma GCC unroll 16
      for (int l = 0; l < kLanes; ++l) {
        const std::uint64_t node = w[at[l]];
        at[l] = descend(at[l], *reinterpret_cast<const std::uint64_t*>(x + static_cast<std::uint32_t>(node) + l * sizeof(std::uint64_t)), node);
      }
    }
    double* lane_acc = acc + g * kLanes;
    const auto* leaf = reinterpret_cast<const double*>(w);  // path lengths by last-level slot
#if defined(__AVX2__)
    // Four leaves gathered into a vector and added with one vector load-add-store: a third fewer
    // memory operations than scalar adds to acc (about 5% less scoring time, 1M x 20); each lane
    // still adds its trees in tree order.
#pragma GCC unroll 4
    for (int q = 0; q < kQuads; ++q) {
      const __m256d path = _mm256_set_pd(leaf[at[4 * q + 3]], leaf[at[4 * q + 2]], leaf[at[4 * q + 1]], leaf[at[4 * q]]);
      _mm256_storeu_pd(lane_acc + 4 * q, _mm256_add_pd(_mm256_loadu_pd(lane_acc + 4 * q), path));
    }
#else
    for (int l = 0; l < kLanes; ++l) lane_acc[l] += leaf[at[l]];
#endif
  }
}

using HeapWalk = void (*)(const std::uint64_t*, const std::uint64_t*, Eigen::Index, Eigen::Index, double*);
template <int... D>
constexpr std::array<HeapWalk, sizeof...(D)> heap_walks(std::integer_sequence<int, D...>) {
  return {&walk_heap<D>...};
}
/// walk_heap<depth> for depth 0..kHeapDepth.
constexpr auto kHeapWalks = heap_walks(std::make_integer_sequence<int, kHeapDepth + 1>());

/// walk_heap for trees deeper than kHeapDepth, through byte-addressed nodes.
template <typename Step>
inline void walk_steps(const Step* tree, const double* leaf_path, int depth, const std::uint64_t* xt, double* acc) {
  const char* base = reinterpret_cast<const char*>(tree);
  const char* x = reinterpret_cast<const char*>(xt);
  std::uint32_t at[kLanes];
#pragma GCC unroll 16
  for (int l = 0; l < kLanes; ++l) at[l] = 0;
  for (int step = 0; step < depth; ++step) {
#pragma GCC unroll 16
    for (int l = 0; l < kLanes; ++l) {
      const Step& node = *reinterpret_cast<const Step*>(base + at[l]);
      const auto v = *reinterpret_cast<const std::uint64_t*>(x + node.offset + l * sizeof(std::uint64_t));
      at[l] = node.left + (v > node.key ? static_cast<std::uint32_t>(sizeof(Step)) : 0u);
    }
  }
#pragma GCC unroll 16
  for (int l = 0; l < kLanes; ++l) acc[l] += leaf_path[at[l] / sizeof(Step)];
}

constexpr std::uint64_t kExponent = 0x7FF0000000000000ULL;

/// Throws naming the first NaN or infinity of row i of X (called once a row is known to hold one).
[[noreturn]] void throw_non_finite(const char* where, MatrixRef X, Eigen::Index i) {
  const double* row = X.row(i).data();
  for (Eigen::Index f = 0; f < X.cols(); ++f)
    if (!std::isfinite(row[f])) detail::throw_invalid(where, "X", "contains NaN or infinity at row ", i, ", column ", f);
  detail::throw_invalid(where, "X", "contains NaN or infinity at row ", i);
}

#if defined(__AVX2__)
/// ceil_key(x) << 32 of four doubles (the scalar steps, lane by lane); lanes holding NaN or
/// infinity are set in non_finite.
inline __m256i ceil_keys(__m256d x, __m256i& non_finite) {
  const __m128 f = _mm256_cvtpd_ps(x);
  const __m256i below = _mm256_castpd_si256(_mm256_cmp_pd(_mm256_cvtps_pd(f), x, _CMP_LT_OQ));  // -1 where f < x
  const __m128i bits = _mm_castps_si128(f);
  const __m128i key = _mm_xor_si128(bits, _mm_or_si128(_mm_srai_epi32(bits, 31), _mm_set1_epi32(INT32_MIN)));
  const __m256i exponent = _mm256_set1_epi64x(static_cast<long long>(kExponent));
  non_finite = _mm256_or_si256(non_finite, _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_castpd_si256(x), exponent), exponent));
  return _mm256_slli_epi64(_mm256_sub_epi64(_mm256_cvtepu32_epi64(key), below), 32);
}

/// The packed keys of four consecutive rows i..i+3 (lanes dst..dst+3 of one group), four features
/// at a time with a 4 x 4 transpose, the last d % 4 features one by one. Returns whether any value
/// is not finite.
inline bool packed_keys_of_four_rows(MatrixRef X, Eigen::Index i, std::uint64_t* dst) {
  const Eigen::Index d = X.cols();
  const double* r0 = X.row(i).data();
  const double* r1 = X.row(i + 1).data();
  const double* r2 = X.row(i + 2).data();
  const double* r3 = X.row(i + 3).data();
  __m256i bad = _mm256_setzero_si256();
  Eigen::Index f = 0;
  for (; f + 4 <= d; f += 4) {
    const __m256i k0 = ceil_keys(_mm256_loadu_pd(r0 + f), bad), k1 = ceil_keys(_mm256_loadu_pd(r1 + f), bad);
    const __m256i k2 = ceil_keys(_mm256_loadu_pd(r2 + f), bad), k3 = ceil_keys(_mm256_loadu_pd(r3 + f), bad);
    const __m256i t0 = _mm256_unpacklo_epi64(k0, k1), t1 = _mm256_unpackhi_epi64(k0, k1);
    const __m256i t2 = _mm256_unpacklo_epi64(k2, k3), t3 = _mm256_unpackhi_epi64(k2, k3);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + f * kLanes), _mm256_permute2x128_si256(t0, t2, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (f + 1) * kLanes), _mm256_permute2x128_si256(t1, t3, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (f + 2) * kLanes), _mm256_permute2x128_si256(t0, t2, 0x31));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (f + 3) * kLanes), _mm256_permute2x128_si256(t1, t3, 0x31));
  }
  std::uint64_t non_finite = !_mm256_testz_si256(bad, bad);
  for (; f < d; ++f) {
    const double v[4] = {r0[f], r1[f], r2[f], r3[f]};
    for (int l = 0; l < 4; ++l) {
      non_finite |= (std::bit_cast<std::uint64_t>(v[l]) & kExponent) == kExponent;
      dst[f * kLanes + l] = std::uint64_t{ceil_key(v[l])} << 32;
    }
  }
  return non_finite != 0;
}
#endif

/// Writes the keys of rows [b, e) of X into xt group by group ([group][feature][lane]), the last
/// group padded: ceil_key(x) << 32 for packed heaps, order_key(x) for steps. The finiteness check
/// of scoring happens here, on data already in cache. Returns the number of groups.
template <bool Packed>
Eigen::Index transpose_block(const char* where, MatrixRef X, Eigen::Index b, Eigen::Index e, std::vector<std::uint64_t>& xt) {
  const Eigen::Index d = X.cols();
  const Eigen::Index groups = (e - b + kLanes - 1) / kLanes;
  // Every cell is written below but the lanes past e in the last group, which are walked too (their
  // sums are dropped): key 0 for those rather than a memset of the whole block (160 MB at 1M x 20).
  xt.resize(static_cast<std::size_t>(groups * d * kLanes));
  if (const Eigen::Index used = (e - b) % kLanes; used > 0) {
    std::uint64_t* last = xt.data() + (groups - 1) * d * kLanes;
    for (Eigen::Index f = 0; f < d; ++f) std::fill(last + f * kLanes + used, last + (f + 1) * kLanes, std::uint64_t{0});
  }
  Eigen::Index i = b;
#if defined(__AVX2__)
  // Four rows at a time: i - b is a multiple of 4, and so is kLanes: a quad never straddles two groups.
  if constexpr (Packed)
    for (; i + 4 <= e; i += 4)
      if (packed_keys_of_four_rows(X, i, xt.data() + ((i - b) / kLanes) * d * kLanes + (i - b) % kLanes))
        for (Eigen::Index r = i; r < i + 4; ++r)
          if (!X.row(r).allFinite()) throw_non_finite(where, X, r);
#endif
  for (; i < e; ++i) {
    std::uint64_t* dst = xt.data() + ((i - b) / kLanes) * d * kLanes + (i - b) % kLanes;
    const double* row = X.row(i).data();
    std::uint64_t non_finite = 0;
    for (Eigen::Index f = 0; f < d; ++f) {
      std::uint64_t bits;
      std::memcpy(&bits, &row[f], sizeof bits);
      non_finite |= (bits & kExponent) == kExponent;
      dst[f * kLanes] = Packed ? std::uint64_t{ceil_key(row[f])} << 32 : order_key(row[f]);
    }
    if (non_finite) throw_non_finite(where, X, i);
  }
  return groups;
}

}  // namespace

void IsolationForest::compile() {
  constexpr auto kStep = static_cast<std::int64_t>(sizeof(Step));
  const auto lane_bytes = static_cast<std::int64_t>(kLanes * sizeof(std::uint64_t));
  if (n_features_ * lane_bytes > std::numeric_limits<std::uint32_t>::max())
    detail::throw_invalid("IsolationForest", "n_features", "is too large to score (", n_features_, ")");
  const std::size_t n_trees = roots_.size();
  auto tree_end = [&](std::size_t t) {
    return t + 1 < n_trees ? roots_[t + 1] : static_cast<std::int64_t>(nodes_.size());
  };
  // Depth of every node (children follow their parent inside a tree) and of every tree.
  std::vector<int> depth(nodes_.size(), 0);
  tree_depth_.assign(n_trees, 0);
  for (std::size_t t = 0; t < n_trees; ++t)
    for (std::int64_t i = roots_[t]; i < tree_end(t); ++i) {
      const Node& node = nodes_[static_cast<std::size_t>(i)];
      if (node.feature >= 0)
        depth[static_cast<std::size_t>(node.left)] = depth[static_cast<std::size_t>(node.left) + 1] = depth[static_cast<std::size_t>(i)] + 1;
      else
        tree_depth_[t] = std::max(tree_depth_[t], depth[static_cast<std::size_t>(i)]);
    }
  const int forest_depth = n_trees ? *std::max_element(tree_depth_.begin(), tree_depth_.end()) : 0;
  steps_.clear();
  leaf_path_.clear();
  heap_.clear();
  heap_start_.clear();

  // Packed heaps need every threshold to be a float32 value: forests fitted since schema 2 are; a
  // schema 1 model (double thresholds) is walked through steps, with exactly its double compares.
  if (forest_depth <= kHeapDepth && float_thresholds(nodes_)) {
    // Each tree a heap of its own depth D: slot 1 the root, children 2s and 2s + 1. A leaf above
    // the last level keeps sending rows left (kPackedPassLeft), to the last-level slot s << (D - its
    // depth), which holds its path length.
    std::size_t words = 0;
    for (std::size_t t = 0; t < n_trees; ++t) {
      heap_start_.push_back(words);
      words += heap_words(tree_depth_[t]);
    }
    heap_.assign(words, 0);
    std::vector<std::pair<std::int64_t, std::size_t>> stack;  // (node, slot)
    for (std::size_t t = 0; t < n_trees; ++t) {
      std::uint64_t* w = heap_.data() + heap_start_[t];
      const std::size_t slots = std::size_t{1} << tree_depth_[t];
      std::fill(w + 1, w + slots, kPackedPassLeft);
      stack.assign(1, {roots_[t], 1});
      while (!stack.empty()) {
        const auto [i, slot] = stack.back();
        stack.pop_back();
        const Node& node = nodes_[static_cast<std::size_t>(i)];
        if (node.feature >= 0) {
          w[slot] = packed_node(node.value, static_cast<std::uint32_t>(node.feature * lane_bytes));
          stack.push_back({node.left, 2 * slot});
          stack.push_back({node.left + 1, 2 * slot + 1});
        } else {
          const int below = tree_depth_[t] - depth[static_cast<std::size_t>(i)];
          std::memcpy(&w[slot << below], &node.value, sizeof node.value);
        }
      }
    }
    return;
  }

  // Deep or schema 1 trees: leaves become self-loops with the largest key, so every row walks exactly its
  // tree's depth with no data-dependent branch.
  steps_.resize(nodes_.size());
  leaf_path_.assign(nodes_.size(), 0.0);
  for (std::size_t t = 0; t < n_trees; ++t) {
    const std::int64_t begin = roots_[t], end = tree_end(t);
    if ((end - begin) * kStep > std::numeric_limits<std::uint32_t>::max())
      detail::throw_invalid("IsolationForest", "max_samples", "gives a tree too large to score (", end - begin, " nodes)");
    for (std::int64_t i = begin; i < end; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const Node& node = nodes_[u];
      if (node.feature >= 0) {
        steps_[u] = {order_key(node.value), static_cast<std::uint32_t>(node.feature * lane_bytes),
                     static_cast<std::uint32_t>((node.left - begin) * kStep)};
      } else {
        steps_[u] = {kPassLeft, 0, static_cast<std::uint32_t>((i - begin) * kStep)};
        leaf_path_[u] = node.value;
      }
    }
  }
}

Eigen::VectorXd IsolationForest::mean_path_length(MatrixRef X) const { return walk(X, false); }

Eigen::VectorXd IsolationForest::score_samples(MatrixRef X) const { return walk(X, true); }

Eigen::VectorXd IsolationForest::walk(MatrixRef X, bool as_score) const {
  constexpr const char* where = "IsolationForest::score_samples";
  detail::require_fitted(fitted_, where);
  if (X.cols() != n_features_) detail::throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", n_features_);
  Eigen::VectorXd out(X.rows());
  const double c = average_path_length(static_cast<double>(max_samples_used_));
  const double inv_trees = 1.0 / static_cast<double>(roots_.size());
  const Eigen::Index d = X.cols();
  const std::size_t n_trees = roots_.size();
  // Block rows: a multiple of kLanes whose values fit kBlockBytes (at least one group, at most 256).
  const Eigen::Index block_rows = std::clamp<Eigen::Index>(
      kBlockBytes / (d * static_cast<Eigen::Index>(sizeof(std::uint64_t))) / kLanes * kLanes, kLanes, 256);
  detail::for_each_block(X.rows(), block_rows, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    thread_local std::vector<std::uint64_t> xt;
    const bool packed = !heap_start_.empty();
    const Eigen::Index groups = packed ? transpose_block<true>(where, X, b, e, xt) : transpose_block<false>(where, X, b, e, xt);
    alignas(64) double acc[256 + kLanes] = {};
    // Tree-major over the block: each tree stays in L1 while all groups walk it, and every row adds
    // its trees' path lengths in tree order, so the sum does not depend on blocks or threads.
    for (std::size_t t = 0; t < n_trees; ++t) {
      const int depth = tree_depth_[t];
      if (packed) {
        kHeapWalks[static_cast<std::size_t>(depth)](heap_.data() + heap_start_[t], xt.data(), groups, d, acc);
      } else {
        const auto root = static_cast<std::size_t>(roots_[t]);
        for (Eigen::Index g = 0; g < groups; ++g)
          walk_steps(steps_.data() + root, leaf_path_.data() + root, depth, xt.data() + g * d * kLanes, acc + g * kLanes);
      }
    }
    // The score transform runs here, in parallel on the block's own rows, not in a serial pass after.
    if (as_score) {
      // c(1) = 0 (a single training row): every path has length 0 and every score is -1.
      for (Eigen::Index i = b; i < e; ++i) {
        const double h = acc[i - b] * inv_trees;
        out[i] = -std::exp2(c > 0 ? -h / c : 0.0);
      }
    } else {
      for (Eigen::Index i = b; i < e; ++i) out[i] = acc[i - b] * inv_trees;
    }
  });
  return out;
}

double IsolationForest::offset() const {
  detail::require_fitted(fitted_, "IsolationForest::offset");
  return offset_;
}

void IsolationForest::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "IsolationForest::save");
  // A schema 1 model loaded and saved again keeps its double thresholds, and so schema 1.
  const bool four_bytes = float_thresholds(nodes_);
  ModelWriter w(kTag, four_bytes ? kSchema : 1);
  w.i32(options_.n_estimators);
  w.i64(options_.max_samples);
  w.f64(options_.max_features);
  w.f64(options_.contamination);
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  w.i64(max_samples_used_);
  w.i64(n_features_);
  w.f64(offset_);
  w.u64(roots_.size());
  for (auto r : roots_) w.i64(r);
  w.u64(nodes_.size());
  for (const Node& node : nodes_) {
    if (!four_bytes) {
      w.f64(node.value);
      w.i32(node.feature);
      w.i32(node.left);
    } else if (node.feature >= 0) {
      w.i32(node.feature);
      w.u32(std::bit_cast<std::uint32_t>(static_cast<float>(node.value)));
      w.i32(node.left);
    } else {
      w.i32(node.feature);
      w.f64(node.value);
    }
  }
  w.finish(out);
}

IsolationForest IsolationForest::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  IsolationForestOptions o;
  o.n_estimators = r.i32("n_estimators");
  o.max_samples = r.i64("max_samples");
  o.max_features = r.f64("max_features");
  o.contamination = r.f64("contamination");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  IsolationForest model(o);
  model.max_samples_used_ = r.i64("max_samples_used");
  model.n_features_ = r.i64("n_features");
  model.offset_ = r.f64("offset");
  if (model.max_samples_used_ < 1) r.fail("max_samples_used", "must be >= 1");
  if (model.n_features_ < 1 || model.n_features_ > (1 << 30)) r.fail("n_features", "out of range");
  if (!std::isfinite(model.offset_)) r.fail("offset", "must be finite");
  const std::uint64_t n_trees = r.u64("n_trees");
  if (n_trees != static_cast<std::uint64_t>(o.n_estimators)) r.fail("n_trees", "does not match n_estimators");
  for (std::uint64_t t = 0; t < n_trees; ++t) model.roots_.push_back(r.i64("root"));
  const std::uint64_t n_nodes = r.u64("n_nodes");
  if (n_nodes > (std::uint64_t{1} << 31)) r.fail("n_nodes", "too large");
  model.nodes_.resize(n_nodes);
  for (Node& node : model.nodes_) {
    if (r.schema() == 1) {
      node.value = r.f64("node.value");
      node.feature = r.i32("node.feature");
      node.left = r.i32("node.left");
    } else {
      node.feature = r.i32("node.feature");
      if (node.feature >= 0) {
        node.value = std::bit_cast<float>(r.u32("node.threshold")) + 0.0f;
        node.left = r.i32("node.left");
      } else {
        node.value = r.f64("node.value");
      }
    }
  }
  r.expect_end();
  // Every tree is a contiguous range whose children point forward inside it: no cycles, no escapes.
  for (std::uint64_t t = 0; t < n_trees; ++t) {
    const std::int64_t begin = model.roots_[t];
    const std::int64_t end = t + 1 < n_trees ? model.roots_[t + 1] : static_cast<std::int64_t>(n_nodes);
    if (begin < 0 || begin >= end || end > static_cast<std::int64_t>(n_nodes) || (t == 0 && begin != 0))
      r.fail("root", "tree ranges are not increasing inside the node array");
    for (std::int64_t i = begin; i < end; ++i) {
      const Node& node = model.nodes_[static_cast<std::size_t>(i)];
      if (!std::isfinite(node.value)) r.fail("node.value", "must be finite");
      if (node.feature >= 0 && (node.feature >= model.n_features_ || node.left <= i || node.left + 1 >= end))
        r.fail("node", detail::concat("node ", i, " has an invalid feature or children"));
    }
  }
  model.compile();
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
