// SPDX-License-Identifier: Apache-2.0
// CART growth by exact best splits, minimal cost-complexity pruning, prediction and rule export.
#include <crmine/classify/tree.hpp>
#include <crmine/core/order_key.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/radix_sort.hpp>
#include <crmine/core/serialize.hpp>

#include "io.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <utility>
#include <istream>
#include <limits>
#include <memory>
#include <numeric>
#include <ostream>
#include <sstream>

namespace crmine {
namespace detail {
namespace {

/// Weighted sufficient statistics of a set of rows.
struct Stats {
  double w = 0.0, wy = 0.0, wyy = 0.0;
  Eigen::Index n = 0;
  void add(double weight, double y) {
    w += weight;
    wy += weight * y;
    wyy += weight * y * y;
    ++n;
  }
  Stats operator+(const Stats& o) const { return {w + o.w, wy + o.wy, wyy + o.wyy, n + o.n}; }
  Stats operator-(const Stats& o) const { return {w - o.w, wy - o.wy, wyy - o.wyy, n - o.n}; }
};

template <CartCriterion C>
inline double impurity_of(const Stats& s) {
  if (s.w <= 0) return 0.0;
  const double m = s.wy / s.w;
  if constexpr (C == CartCriterion::gini) {
    return 2.0 * m * (1.0 - m);
  } else if constexpr (C == CartCriterion::entropy) {
    double h = 0.0;
    if (m > 0) h -= m * std::log2(m);
    if (m < 1) h -= (1.0 - m) * std::log2(1.0 - m);
    return h;
  } else {
    return std::max(0.0, s.wyy / s.w - m * m);
  }
}

double impurity(const Stats& s, CartCriterion c) {
  switch (c) {
    case CartCriterion::gini: return impurity_of<CartCriterion::gini>(s);
    case CartCriterion::entropy: return impurity_of<CartCriterion::entropy>(s);
    case CartCriterion::squared_error: return impurity_of<CartCriterion::squared_error>(s);
  }
  return 0.0;
}

/// Largest category code a tree takes (its bitsets stay small: at most 1024 words).
constexpr std::int64_t kMaxCategoryCode = 65535;

struct Split {
  double gain = -std::numeric_limits<double>::infinity();  ///< weighted impurity decrease (un-normalised)
  std::int32_t feature = -1;
  double threshold = 0.0;
  bool missing_left = false;
  std::uint32_t code = 0;  ///< rows with rank codes <= code go left (NaN: missing_left)
  bool constant = false;   ///< the feature cannot split this node or any node below it
  std::vector<std::uint64_t> categories{};  ///< categorical: bitset of the category codes that go left
};

/// A training row in one feature's sorted order: the rank of its value among the feature's
/// distinct values (NaN ranks last) and the row (bit 31: which of two label pairs, see Builder).
struct Entry {
  std::uint32_t code;
  std::int32_t row;
};

/// A presort entry: the value's order key and its row.
struct KeyRow {
  std::uint64_t key;
  std::int32_t row;
};

/// CART on presorted rows (as in SLIQ and scikit-learn's former presort): every feature's rows are
/// ranked once, and each node keeps, for every feature, its rows in rank order in one shared range
/// [begin, end). A split scans those ranges (no sorting per node) and stably partitions them, so
/// rows with equal values stay in row order and the sums, gains and ties are those of sorting each
/// node's (value, row) pairs. Features found constant in a node are dropped below it.
///
/// Counted features: when every row carries one of two (weight, target) pairs whose sums are exact
/// in any order (classes without sample weights: integer counts), a node's sums on a feature of at
/// most 255 distinct values follow from how many rows of each pair hold each rank code. Such features
/// keep no rank lists: a node counts its rows' codes (one byte per row and feature, read row by row)
/// into a histogram, a split counts its smaller child and takes the larger as the parent minus it,
/// and nothing but the node's rows is partitioned. The counts give the row-by-row sums bit for bit,
/// so the splits and ties are those of the rank lists (bank marketing's one-hot table is all such).
class Builder {
 public:
  Builder(MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXd& w, const CartLimits& limits)
      : X_(X), y_(y), w_(w), lim_(limits), n_(X.rows()), threads_(resolve_threads(limits.n_threads)) {
    if (n_ >= std::numeric_limits<std::int32_t>::max()) throw_invalid("DecisionTree fit", "X", "has ", n_, " rows; at most 2^31 - 2 are supported");
    total_weight_ = w.sum();
    labels_.resize(static_cast<std::size_t>(n_));
    for (Eigen::Index i = 0; i < n_; ++i) labels_[static_cast<std::size_t>(i)] = {w[i], y[i]};
    // With at most two distinct (weight, target) pairs (classes without sample weights), each entry
    // carries its row's pair in the row's sign bit, and scans read no per-row array at random.
    two_labels_ = n_ > 0;
    int distinct = 0;
    for (Eigen::Index i = 0; two_labels_ && i < n_; ++i) {
      const Label& l = labels_[static_cast<std::size_t>(i)];
      int k = 0;
      while (k < distinct && !(pair_[k].w == l.w && pair_[k].y == l.y)) ++k;
      if (k == 2) two_labels_ = false;
      else if (k == distinct) pair_[distinct++] = l;
    }
    exact_ = limits.count_small_features && exact_counts();
    if (exact_) {
      for (std::size_t p = 0; p < 2; ++p) q_[p] = {pair_[p].w, pair_[p].w * pair_[p].y, pair_[p].w * pair_[p].y * pair_[p].y};
      pair_of_.resize(static_cast<std::size_t>(n_));
      for (Eigen::Index i = 0; i < n_; ++i) pair_of_[static_cast<std::size_t>(i)] = tagged(static_cast<std::int32_t>(i)) < 0 ? 1 : 0;
    }
    rows_.resize(static_cast<std::size_t>(n_));
    std::iota(rows_.begin(), rows_.end(), std::int32_t{0});
    categorical_ = categorical_mask("DecisionTree fit", limits.categorical_features, X.cols());
    check_codes("DecisionTree fit", X, limits.categorical_features, kMaxCategoryCode);
    presort();
    goes_left_.assign(static_cast<std::size_t>(n_), 0);
    scratch_.resize(static_cast<std::size_t>(threads_));
  }

  CartTree run() {
    const auto n = static_cast<std::size_t>(n_);
    std::vector<std::int32_t> all(static_cast<std::size_t>(X_.cols()));
    std::iota(all.begin(), all.end(), 0);
    Grown top;
    top.nodes.push_back(make_node(0, n));
    top.gain.push_back(0.0);
    // Large nodes split one by one with threads over features; nodes below `defer` rows are grown as
    // whole subtrees, one per thread, so small nodes do not each pay for a thread team.
    const std::size_t defer = threads_ > 1 ? std::max<std::size_t>(n / (4 * static_cast<std::size_t>(threads_)), 256) : 0;
    std::vector<Task> deferred;
    std::vector<Task> stack{{0, n, 0, 0, std::move(all), {}}};
    grow(stack, top, true, defer, &deferred, scratch_[0]);
    std::vector<Grown> sub(deferred.size());
    ExceptionCollector errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (deferred.size() > 1)
    for (std::size_t d = 0; d < deferred.size(); ++d)
      errors.run([&] {
        Grown& g = sub[d];
        g.nodes.push_back(top.nodes[static_cast<std::size_t>(deferred[d].node)]);
        g.gain.push_back(0.0);
        std::vector<Task> local{std::move(deferred[d])};
        local[0].node = 0;
        grow(local, g, false, 0, nullptr, scratch_[static_cast<std::size_t>(thread_id())]);
      });
    errors.rethrow();
    // Graft each subtree in place of its root (a leaf of `top`), then number the nodes as a single
    // depth-first pass would have: children take the next two ids when their parent splits.
    for (std::size_t d = 0; d < sub.size(); ++d) {
      const auto root = static_cast<std::size_t>(deferred[d].node);
      const auto base = static_cast<std::int32_t>(top.nodes.size()) - 1;
      const auto id = [&](std::int32_t k) { return k == 0 ? static_cast<std::int32_t>(root) : base + k; };
      for (std::size_t k = 0; k < sub[d].nodes.size(); ++k) {
        TreeNode t = sub[d].nodes[k];
        if (t.feature >= 0) t.left = id(t.left), t.right = id(t.right);
        if (k == 0) {
          top.nodes[root] = t;
          top.gain[root] = sub[d].gain[0];
        } else {
          top.nodes.push_back(t);
          top.gain.push_back(sub[d].gain[k]);
        }
      }
      top.depth = std::max(top.depth, sub[d].depth);  // subtree depths count from the root
    }
    CartTree tree;
    tree.n_features = X_.cols();
    tree.categorical_features = lim_.categorical_features;
    std::sort(tree.categorical_features.begin(), tree.categorical_features.end());
    tree.saw_missing = std::any_of(has_nan_.begin(), has_nan_.end(), [](char c) { return c != 0; });
    tree.importances = Eigen::VectorXd::Zero(X_.cols());
    tree.depth = top.depth;
    tree.nodes.resize(top.nodes.size());
    std::vector<std::pair<std::int32_t, std::int32_t>> order{{0, 0}};  // (old id, new id)
    std::int32_t next = 1;
    tree.nodes[0] = top.nodes[0];
    while (!order.empty()) {
      const auto [old, id] = order.back();
      order.pop_back();
      TreeNode& t = tree.nodes[static_cast<std::size_t>(id)];
      t = top.nodes[static_cast<std::size_t>(old)];
      if (t.feature < 0) continue;
      tree.importances[t.feature] += top.gain[static_cast<std::size_t>(old)];
      const std::int32_t l = t.left, r = t.right;
      t.left = next;
      t.right = next + 1;
      next += 2;
      order.emplace_back(r, t.right);
      order.emplace_back(l, t.left);
    }
    return tree;
  }

 private:
  struct Task {
    std::size_t begin, end;
    int depth;
    std::int32_t node;
    std::vector<std::int32_t> features;  // not yet known to be constant here
    std::vector<std::uint32_t> hist;     // counted features: rows per (rank code, pair); empty = not counted yet
  };
  /// Nodes in split order (children appended when their parent splits) and each split's gain.
  struct Grown {
    std::vector<TreeNode> nodes;
    std::vector<double> gain;
    int depth = 0;
  };

  /// Whether a node of `rows` rows at `depth` is one the limits let split.
  bool may_split(const TreeNode& node, std::size_t rows, int depth) const {
    const auto r = static_cast<Eigen::Index>(rows);
    return !((lim_.max_depth >= 0 && depth >= lim_.max_depth) || r < lim_.min_samples_split ||
             r < 2 * static_cast<Eigen::Index>(lim_.min_samples_leaf) || node.impurity <= 1e-12);
  }

  /// Depth-first growth of the tasks on `stack` into `g`; with `team`, large nodes use threads over
  /// features. Tasks of fewer than `defer` rows go to `deferred` unsplit.
  void grow(std::vector<Task>& stack, Grown& g, bool team, std::size_t defer, std::vector<Task>* deferred,
            std::vector<std::int32_t>& scratch) {
    while (!stack.empty()) {
      Task t = std::move(stack.back());
      stack.pop_back();
      if (!may_split(g.nodes[static_cast<std::size_t>(t.node)], t.end - t.begin, t.depth)) {
        g.depth = std::max(g.depth, t.depth);
        continue;
      }
      if (deferred && t.end - t.begin < defer) {
        // Deferred tasks wait together: past 64 MB of histograms the rest count theirs on their thread.
        if ((deferred->size() + 1) * t.hist.size() > (std::size_t{16} << 20)) t.hist = {};
        deferred->push_back(std::move(t));
        continue;
      }
      g.depth = std::max(g.depth, t.depth);
      if (h_ > 0 && t.hist.empty()) count_rows(t.begin, t.end, t.hist, team);
      const Split best = find_split(t.begin, t.end, t.features, team, t.hist.data());
      if (best.feature < 0) continue;
      const double decrease = best.gain / total_weight_;
      if (decrease < lim_.min_impurity_decrease) continue;
      const std::size_t m = partition(t.begin, t.end, best, t.features, team, scratch);
      const auto left = static_cast<std::int32_t>(g.nodes.size());
      TreeNode ln = make_node(t.begin, m), rn = make_node(m, t.end);
      TreeNode& parent = g.nodes[static_cast<std::size_t>(t.node)];
      parent.feature = best.feature;
      parent.threshold = best.threshold;
      parent.missing_left = best.missing_left;
      parent.categories = best.categories;
      parent.left = left;
      parent.right = left + 1;
      g.gain[static_cast<std::size_t>(t.node)] = best.gain;
      std::vector<std::uint32_t> lh, rh;
      if (h_ > 0 && may_split(ln, m - t.begin, t.depth + 1) && may_split(rn, t.end - m, t.depth + 1)) {
        // Count the smaller child; the larger one's counts are the parent's minus those.
        const bool left_smaller = m - t.begin <= t.end - m;
        std::vector<std::uint32_t>& smaller = left_smaller ? lh : rh;
        if (left_smaller) count_rows(t.begin, m, smaller, team);
        else count_rows(m, t.end, smaller, team);
        for (std::size_t b = 0; b < smaller.size(); ++b) t.hist[b] -= smaller[b];
        (left_smaller ? rh : lh) = std::move(t.hist);
      }
      g.nodes.push_back(ln);
      g.nodes.push_back(rn);
      g.gain.resize(g.nodes.size(), 0.0);
      stack.push_back({m, t.end, t.depth + 1, left + 1, t.features, std::move(rh)});
      stack.push_back({t.begin, m, t.depth + 1, left, std::move(t.features), std::move(lh)});
    }
  }

  /// Rows of [begin, end) per (counted feature, rank code, pair): hist[off_[s] + 2 code + pair]. Code 0
  /// (a one-hot column's 0, most of a row's bytes) is not counted row by row: a row's codes are read
  /// eight at a time, only the nonzero ones counted, and each feature's code-0 rows are the node's
  /// rows of the pair less its other codes'. Large nodes of a `team` count row chunks on threads;
  /// integer counts add up the same in any order.
  void count_rows(std::size_t begin, std::size_t end, std::vector<std::uint32_t>& hist, bool team) const {
    const std::size_t width = 2 * bins_;
    const auto count = [&](std::size_t b, std::size_t e, std::uint32_t* out) {
      for (std::size_t k = b; k < e; ++k) {
        const auto row = static_cast<std::size_t>(rows_[k]);
        const std::uint8_t* c = codes_.get() + row * stride_;
        std::uint32_t* H = out + pair_of_[row];
        for (std::size_t s0 = 0; s0 < stride_; s0 += 8) {
          std::uint64_t word;
          std::memcpy(&word, c + s0, sizeof word);
          while (word != 0) {
            const auto s = s0 + static_cast<std::size_t>(std::countr_zero(word) >> 3);
            ++H[off_[s] + 2u * c[s]];
            word &= ~(std::uint64_t{0xFF} << (8 * (s - s0)));
          }
        }
      }
    };
    hist.assign(width, 0);
    const std::size_t rows = end - begin;
    // A team only for a million codes or more: below that a count takes well under a millisecond,
    // less than a thread team can lose waiting for a descheduled thread on a busy machine.
    if (!(team && threads_ > 1 && rows * stride_ >= (std::size_t{1} << 20))) {
      count(begin, end, hist.data());
    } else {
      const auto parts = static_cast<std::size_t>(threads_);
      std::vector<std::uint32_t> partial((parts - 1) * width, 0);
#pragma omp parallel for schedule(static, 1) num_threads(threads_)
      for (std::size_t q = 0; q < parts; ++q)
        count(begin + rows * q / parts, begin + rows * (q + 1) / parts, q == 0 ? hist.data() : partial.data() + (q - 1) * width);
      for (std::size_t q = 0; q + 1 < parts; ++q)
        for (std::size_t b = 0; b < width; ++b) hist[b] += partial[q * width + b];
    }
    std::array<std::uint32_t, 2> node{};
    for (std::size_t k = begin; k < end; ++k) ++node[pair_of_[static_cast<std::size_t>(rows_[k])]];
    for (const std::int32_t j : counted_) {
      const std::size_t first = off_[static_cast<std::size_t>(j)], last = first + 2 * (values_[static_cast<std::size_t>(j)].size() + 1);
      for (std::size_t pair = 0; pair < 2; ++pair) {
        std::uint32_t rest = 0;
        for (std::size_t b = first + 2 + pair; b < last; b += 2) rest += hist[b];
        hist[first + pair] = node[pair] - rest;
      }
    }
  }

  /// Ranks every feature's values: counted features get each row's rank code in codes_, the others
  /// a list of all rows by (value, row), NaN rows last.
  void presort() {
    const Eigen::Index p = X_.cols();
    lists_.resize(static_cast<std::size_t>(p));
    values_.resize(static_cast<std::size_t>(p));
    has_nan_.assign(static_cast<std::size_t>(p), 0);
    slot_.assign(static_cast<std::size_t>(p), -1);
    std::vector<Eigen::Index> ranked;
    if (exact_) code_columns(ranked);
    else for (Eigen::Index j = 0; j < p; ++j) ranked.push_back(j);
    rank_columns(ranked);
  }

  /// Whether a value is missing (NaN, or a negative code of a categorical column).
  bool missing(double v, Eigen::Index j) const { return std::isnan(v) || (v < 0 && categorical_[static_cast<std::size_t>(j)]); }

  /// The distinct keys of a column while there are at most 255 (open addressing; key 0 is no value's:
  /// order_key maps only NaN bit patterns there), each with its order of arrival.
  struct SmallSet {
    static constexpr std::size_t kSlots = 512;
    std::array<std::uint64_t, kSlots> key{};
    std::array<std::uint8_t, kSlots> arrival{};
    int size = 0;
    bool full = false;  ///< more than 255 distinct keys: ranked in a list instead
    bool nan = false;
    /// k's order of arrival (0 for the first distinct key); sets `full` instead of adding a 256th key.
    std::uint8_t add(std::uint64_t k) {
      for (std::size_t s = static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> 55);; s = (s + 1) & (kSlots - 1)) {
        if (key[s] == k) return arrival[s];
        if (key[s] != 0) continue;
        if (size == 255) {
          full = true;
          return 0;
        }
        key[s] = k;
        arrival[s] = static_cast<std::uint8_t>(size++);
        return arrival[s];
      }
    }
  };

  /// Finds the columns of at most 255 distinct values by hashing each value once (no sort, no
  /// per-row lists) and makes them the counted features, with their rank codes row by row in codes_
  /// (slot = column); the other columns go to `ranked`. Threads take row ranges and write each
  /// value's order of arrival in their own sets, which merge into sorted values; a second pass maps
  /// arrivals to ranks, so the codes do not depend on the thread count. A column's first two values
  /// are compared as doubles before any hashing, without branches: a 0/1 column never reaches its set.
  void code_columns(std::vector<Eigen::Index>& ranked) {
    const Eigen::Index p = X_.cols();
    const auto pu = static_cast<std::size_t>(p);
    const int parts = n_ * p >= 100000 ? threads_ : 1;
    constexpr double kNone = std::numeric_limits<double>::quiet_NaN();  // equal to no value
    constexpr std::uint8_t kMissing = 255;                             // no arrival is 255: sets hold 255 keys
    stride_ = (pu + 7) / 8 * 8;
    // Left uninitialised: pages are touched only when written, and when no column is counted (as
    // with continuous data, found within a few hundred rows) most never are.
    codes_.reset(new std::uint8_t[static_cast<std::size_t>(n_) * stride_]);
    std::vector<std::vector<SmallSet>> sets(static_cast<std::size_t>(parts), std::vector<SmallSet>(pu));
#pragma omp parallel for schedule(static, 1) num_threads(parts) if (parts > 1)
    for (int t = 0; t < parts; ++t) {
      auto& own = sets[static_cast<std::size_t>(t)];
      std::vector<double> a(pu, kNone), b(pu, kNone);  // each column's first and second value
      std::vector<std::uint8_t> miss(stride_, 0);
      std::size_t n_full = 0;
      for (Eigen::Index i = n_ * t / parts, stop = n_ * (t + 1) / parts; i < stop && n_full < pu; ++i) {
        const double* row = X_.row(i).data();
        std::uint8_t* out = codes_.get() + static_cast<std::size_t>(i) * stride_;
        for (std::size_t j = 0; j < pu; ++j) {
          out[j] = static_cast<std::uint8_t>(row[j] != a[j]);
          miss[j] = static_cast<std::uint8_t>((row[j] != a[j]) & (row[j] != b[j]));
        }
        for (std::size_t j0 = 0; j0 < pu; j0 += 8) {
          std::uint64_t word;
          std::memcpy(&word, miss.data() + j0, sizeof word);
          for (; word != 0; word &= word - 1) {  // flags are 0 or 1: one bit per missed column
            const std::size_t j = j0 + static_cast<std::size_t>(std::countr_zero(word) >> 3);
            SmallSet& set = own[j];
            const double v = row[j];
            if (set.full) continue;
            if (missing(v, static_cast<Eigen::Index>(j))) {
              set.nan = true;
              out[j] = kMissing;
              continue;
            }
            if (std::isnan(a[j])) a[j] = v;
            else if (std::isnan(b[j])) b[j] = v;
            out[j] = set.add(order_key(v));
            n_full += set.full;
          }
        }
      }
    }
    // Merge: a column is counted when no thread overflowed and the union has at most 255 values;
    // `rank_of` maps (thread, column, arrival) to the rank code (0 for the columns not counted).
    std::vector<std::uint8_t> rank_of(static_cast<std::size_t>(parts) * pu * 256, 0);
    off_.assign(pu, 0);
    std::vector<std::uint64_t> keys;
    for (std::size_t j = 0; j < pu; ++j) {
      keys.clear();
      bool full = false, nan = false;
      for (const auto& own : sets) {
        full |= own[j].full;
        nan |= own[j].nan;
        for (const std::uint64_t k : own[j].key)
          if (k != 0) keys.push_back(k);
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      if (full || keys.size() > 255) {
        ranked.push_back(static_cast<Eigen::Index>(j));
        continue;
      }
      for (std::size_t t = 0; t < sets.size(); ++t) {
        std::uint8_t* map = rank_of.data() + (t * pu + j) * 256;
        const SmallSet& set = sets[t][j];
        for (std::size_t q = 0; q < SmallSet::kSlots; ++q)
          if (set.key[q] != 0) map[set.arrival[q]] = static_cast<std::uint8_t>(std::lower_bound(keys.begin(), keys.end(), set.key[q]) - keys.begin());
        map[kMissing] = static_cast<std::uint8_t>(keys.size());
      }
      for (const std::uint64_t k : keys) values_[j].push_back(from_order_bits(k));
      has_nan_[j] = nan;
      slot_[j] = static_cast<std::int32_t>(j);
      ++h_;
      counted_.push_back(static_cast<std::int32_t>(j));
      off_[j] = 2 * bins_;
      bins_ += keys.size() + 1;
    }
    if (h_ == 0) {
      codes_.reset();
      return;
    }
#pragma omp parallel for schedule(static, 1) num_threads(parts) if (parts > 1)
    for (int t = 0; t < parts; ++t) {
      const std::uint8_t* map = rank_of.data() + static_cast<std::size_t>(t) * pu * 256;
      for (Eigen::Index i = n_ * t / parts, stop = n_ * (t + 1) / parts; i < stop; ++i) {
        std::uint8_t* out = codes_.get() + static_cast<std::size_t>(i) * stride_;
        for (std::size_t j = 0; j < pu; ++j) out[j] = map[j * 256 + out[j]];
        for (std::size_t j = pu; j < stride_; ++j) out[j] = 0;  // padding reads as code 0, never counted
      }
    }
  }

  /// Ranks the given columns into lists (radix sort of their keys).
  void rank_columns(const std::vector<Eigen::Index>& cols) {
    const auto p = static_cast<Eigen::Index>(cols.size());
    if (p == 0) return;
    ExceptionCollector errors;
    // Features in groups: one pass over the rows of a row-major X reads a group's values as one
    // contiguous run per row, where a pass per feature would fetch every cache line many times.
    // A group is as wide as 64 MB of keys per thread allows (all of bank marketing's 62 columns at
    // once), and at most p / threads so every thread has a group.
    const auto budget = static_cast<Eigen::Index>((std::size_t{64} << 20) / (sizeof(KeyRow) * static_cast<std::size_t>(std::max<Eigen::Index>(n_, 1))));
    const Eigen::Index group = std::clamp<Eigen::Index>(std::min<Eigen::Index>(budget, (p + threads_ - 1) / threads_), 1, std::max<Eigen::Index>(p, 1));
    const Eigen::Index n_groups = (p + group - 1) / group;
#pragma omp parallel num_threads(threads_) if (n_ * p >= 100000)
    {
      std::vector<std::vector<KeyRow>> keys(static_cast<std::size_t>(group));
      std::vector<std::vector<std::int32_t>> nan_rows(static_cast<std::size_t>(group));
      std::vector<KeyRow> tmp;
#pragma omp for schedule(dynamic, 1)
      for (Eigen::Index g = 0; g < n_groups; ++g)
        errors.run([&] {
          const Eigen::Index q0 = g * group, width = std::min(group, p - q0);
          const Eigen::Index* col = cols.data() + q0;
          for (Eigen::Index q = 0; q < width; ++q) {
            keys[static_cast<std::size_t>(q)].clear();
            keys[static_cast<std::size_t>(q)].reserve(static_cast<std::size_t>(n_));
            nan_rows[static_cast<std::size_t>(q)].clear();
          }
          for (Eigen::Index i = 0; i < n_; ++i) {
            // Rows are tagged here, in row order: tagging in rank order would read labels_ at random.
            const std::int32_t row = tagged(static_cast<std::int32_t>(i));
            for (Eigen::Index q = 0; q < width; ++q) {
              const double v = X_(i, col[q]);
              if (missing(v, col[q])) nan_rows[static_cast<std::size_t>(q)].push_back(row);
              else keys[static_cast<std::size_t>(q)].push_back({order_key(v), row});
            }
          }
          for (Eigen::Index q = 0; q < width; ++q) rank(col[q], keys[static_cast<std::size_t>(q)], nan_rows[static_cast<std::size_t>(q)], tmp);
        });
    }
    errors.rethrow();
  }

  /// Sorts feature j's keys (rows already tagged) and fills its list (NaN rows last) and the value of each rank code.
  void rank(Eigen::Index j, std::vector<KeyRow>& keys, const std::vector<std::int32_t>& nan_rows, std::vector<KeyRow>& tmp) {
    detail::radix_sort_by_key(keys, tmp, [](const KeyRow& x) { return x.key; });
    auto& list = lists_[static_cast<std::size_t>(j)];
    auto& values = values_[static_cast<std::size_t>(j)];
    has_nan_[static_cast<std::size_t>(j)] = !nan_rows.empty();
    list.clear();
    list.reserve(static_cast<std::size_t>(n_));
    values.clear();
    for (std::size_t k = 0; k < keys.size(); ++k) {
      // From the key, not X: a row-major X would miss the cache at every distinct value.
      if (k == 0 || keys[k].key != keys[k - 1].key) values.push_back(from_order_bits(keys[k].key));
      list.push_back({static_cast<std::uint32_t>(values.size() - 1), keys[k].row});
    }
    for (const std::int32_t i : nan_rows) list.push_back({static_cast<std::uint32_t>(values.size()), i});
  }

  /// Whether the two (weight, target) pairs' sums are exact in any order: every term is a multiple of
  /// 2^low, and n terms stay below 2^(53 + low), so no partial sum of the rows ever rounds.
  bool exact_counts() const {
    if (!two_labels_) return false;
    int low = std::numeric_limits<int>::max();
    double top = 0.0;
    for (const Label& l : pair_)
      for (const double q : {l.w, l.w * l.y, l.w * l.y * l.y}) {
        if (!std::isfinite(q)) return false;
        if (q == 0) continue;
        int e = 0;
        const double m = std::frexp(std::abs(q), &e);  // |q| = m 2^e, m in [0.5, 1): 53 bits of m are its digits
        const auto digits = static_cast<std::uint64_t>(std::ldexp(m, 53));
        low = std::min(low, e - 53 + std::countr_zero(digits));
        top = std::max(top, std::abs(q));
      }
    return low == std::numeric_limits<int>::max() || std::ldexp(2.0 * top * static_cast<double>(n_), -low) < 0x1p53;
  }

  /// The sums of c0 rows of pair 0 and c1 rows of pair 1 (exact, so equal to any row-by-row sum).
  Stats counted(std::uint32_t c0, std::uint32_t c1) const {
    const double a = c0, b = c1;
    return {0.0 + a * q_[0].w + b * q_[1].w, 0.0 + a * q_[0].wy + b * q_[1].wy, 0.0 + a * q_[0].wyy + b * q_[1].wyy,
            static_cast<Eigen::Index>(c0) + static_cast<Eigen::Index>(c1)};
  }

  TreeNode make_node(std::size_t begin, std::size_t end) const {
    Stats s;
    for (std::size_t k = begin; k < end; ++k) s.add(w_[rows_[k]], y_[rows_[k]]);
    TreeNode node;
    node.weight = s.w;
    node.n_samples = s.n;
    node.value = s.w > 0 ? s.wy / s.w : 0.0;
    node.impurity = impurity(s, lim_.criterion);
    return node;
  }

  /// Records the candidate split of feature j between rank codes `code` and `next` (left = codes <= code).
  template <CartCriterion C>
  void consider(Split& best, const Stats& l0, const Stats& missing, const Stats& total, double parent, std::int32_t j,
                std::uint32_t code, std::uint32_t next) const {
    const Eigen::Index min_leaf = lim_.min_samples_leaf;
    for (int side = 0; side < (missing.n > 0 ? 2 : 1); ++side) {
      const Stats l = side ? l0 + missing : l0;
      const Stats r = total - l;
      if (l.n < min_leaf || r.n < min_leaf || l.w <= 0 || r.w <= 0) continue;
      const double gain = parent - l.w * impurity_of<C>(l) - r.w * impurity_of<C>(r);
      if (gain > best.gain) {
        best.gain = gain;
        best.feature = j;
        best.code = code;
        // Values are looked up only here: reading them at every candidate missed the cache.
        const auto& values = values_[static_cast<std::size_t>(j)];
        const double lo = values[code], hi = values[next];
        double thr = 0.5 * (lo + hi);
        if (!(thr < hi)) thr = lo;
        best.threshold = thr;
        best.missing_left = side == 1 || (missing.n == 0 && l.w >= r.w);
      }
    }
  }

  /// Best split of feature j over the node's rank range [begin, end).
  Split best_for_feature(std::size_t begin, std::size_t end, std::int32_t j, const Stats& total) const {
    switch (lim_.criterion) {
      case CartCriterion::gini: return best_for_feature<CartCriterion::gini>(begin, end, j, total);
      case CartCriterion::entropy: return best_for_feature<CartCriterion::entropy>(begin, end, j, total);
      case CartCriterion::squared_error: break;
    }
    return best_for_feature<CartCriterion::squared_error>(begin, end, j, total);
  }

  template <CartCriterion C>
  Split best_for_feature(std::size_t begin, std::size_t end, std::int32_t j, const Stats& total) const {
    Split best;
    const auto add = [&](Stats& s, std::int32_t row) {
      const Label& l = two_labels_ ? pair_[static_cast<std::uint32_t>(row) >> 31] : labels_[static_cast<std::size_t>(row)];
      s.add(l.w, l.y);
    };
    const Entry* e = lists_[static_cast<std::size_t>(j)].data();
    const auto& values = values_[static_cast<std::size_t>(j)];
    const auto nan_code = static_cast<std::uint32_t>(values.size());
    // NaN rows rank last: [begin, stop) holds values, [stop, end) NaN.
    std::size_t stop = end;
    if (e[end - 1].code == nan_code)
      stop = static_cast<std::size_t>(std::lower_bound(e + begin, e + end, nan_code, [](const Entry& x, std::uint32_t c) { return x.code < c; }) - e);
    // One distinct value (NaN aside) here means one below too: never splittable again.
    if (stop - begin < 2 || e[begin].code == e[stop - 1].code) {
      best.constant = true;
      return best;
    }
    Stats missing;
    for (std::size_t k = stop; k < end; ++k) add(missing, e[k].row);
    const double parent = total.w * impurity_of<C>(total);
    if (categorical_[static_cast<std::size_t>(j)]) {
      std::vector<Category> cats;
      for (std::size_t k = begin; k < stop; ++k) {
        if (cats.empty() || cats.back().code != e[k].code) cats.push_back({e[k].code, {}});
        add(cats.back().s, e[k].row);
      }
      best_category_prefix<C>(best, cats.data(), cats.size(), missing, total, parent, j);
      return best;
    }
    if (values.size() == 2 && stop == end) {
      // Two values, no NaN (one-hot columns): one candidate; sum the shorter side only.
      const std::size_t cut = static_cast<std::size_t>(
          std::lower_bound(e + begin, e + end, 1u, [](const Entry& x, std::uint32_t c) { return x.code < c; }) - e);
      Stats left;
      if (cut - begin <= end - cut) {
        for (std::size_t k = begin; k < cut; ++k) add(left, e[k].row);
      } else {
        Stats right;
        for (std::size_t k = cut; k < end; ++k) add(right, e[k].row);
        left = total - right;
      }
      consider<C>(best, left, missing, total, parent, j, 0, 1);
      return best;
    }
    Stats left;
    for (std::size_t k = begin; k + 1 < stop; ++k) {
      add(left, e[k].row);
      if (e[k].code == e[k + 1].code) continue;
      consider<C>(best, left, missing, total, parent, j, e[k].code, e[k + 1].code);
    }
    return best;
  }

  /// The rows of one rank code (one category) of a node and their sums.
  struct Category {
    std::uint32_t code;
    Stats s;
  };

  /// Best categorical split of feature j over its node's `k` categories (ascending codes, reordered here).
  template <CartCriterion C>
  void best_category_prefix(Split& best, Category* cats, std::size_t k, const Stats& missing, const Stats& total, double parent,
                            std::int32_t j) const {
    // Breiman et al. (1984, Thm 4.5): with two classes (or squared error), ordering the categories by
    // their share of class 1 (mean target) puts the best partition among the prefixes of that order.
    const auto mean = [](const Stats& s) { return s.w > 0 ? s.wy / s.w : 0.0; };
    std::stable_sort(cats, cats + k, [&](const Category& a, const Category& b) { return mean(a.s) < mean(b.s); });
    Stats left;
    std::size_t prefix = 0;
    for (std::size_t q = 0; q + 1 < k; ++q) {
      left = left + cats[q].s;
      const double before = best.gain;
      consider<C>(best, left, missing, total, parent, j, 0, 0);
      if (best.gain > before) prefix = q + 1;
    }
    if (best.feature < 0) return;
    const auto& values = values_[static_cast<std::size_t>(j)];
    const auto top = static_cast<std::size_t>(values.back());
    best.categories.assign(top / 64 + 1, 0);
    for (std::size_t q = 0; q < prefix; ++q) {
      const auto c = static_cast<std::size_t>(values[cats[q].code]);
      best.categories[c >> 6] |= std::uint64_t{1} << (c & 63);
    }
    while (best.categories.back() == 0) best.categories.pop_back();
    best.threshold = 0.0;
  }

  /// Best split of counted feature j from the node's histogram: the candidates, sums and order of
  /// best_for_feature, with each rank code's rows summed by counting.
  Split best_in_histogram(const std::uint32_t* hist, std::int32_t j, const Stats& total) const {
    switch (lim_.criterion) {
      case CartCriterion::gini: return best_in_histogram<CartCriterion::gini>(hist, j, total);
      case CartCriterion::entropy: return best_in_histogram<CartCriterion::entropy>(hist, j, total);
      case CartCriterion::squared_error: break;
    }
    return best_in_histogram<CartCriterion::squared_error>(hist, j, total);
  }

  template <CartCriterion C>
  Split best_in_histogram(const std::uint32_t* hist, std::int32_t j, const Stats& total) const {
    Split best;
    const std::size_t nv = values_[static_cast<std::size_t>(j)].size();
    const std::uint32_t* H = hist + off_[static_cast<std::size_t>(slot_[static_cast<std::size_t>(j)])];
    std::size_t k = 0;
    for (std::size_t c = 0; c < nv; ++c) k += (H[2 * c] | H[2 * c + 1]) != 0;
    // One distinct value (NaN aside) here means one below too: never splittable again.
    if (k < 2) {
      best.constant = true;
      return best;
    }
    const Stats missing = counted(H[2 * nv], H[2 * nv + 1]);
    const double parent = total.w * impurity_of<C>(total);
    if (categorical_[static_cast<std::size_t>(j)]) {
      std::vector<Category> cats;
      for (std::size_t c = 0; c < nv; ++c)
        if (H[2 * c] | H[2 * c + 1]) cats.push_back({static_cast<std::uint32_t>(c), counted(H[2 * c], H[2 * c + 1])});
      best_category_prefix<C>(best, cats.data(), cats.size(), missing, total, parent, j);
      return best;
    }
    Stats left;
    std::size_t prev = nv;  // the last code with rows here, once there is one
    for (std::size_t c = 0; c < nv; ++c) {
      if (!(H[2 * c] | H[2 * c + 1])) continue;
      if (prev < nv) consider<C>(best, left, missing, total, parent, j, static_cast<std::uint32_t>(prev), static_cast<std::uint32_t>(c));
      left = left + counted(H[2 * c], H[2 * c + 1]);
      prev = c;
    }
    return best;
  }

  /// True when a node is worth an OpenMP team: milliseconds of work, as a team waits for a descheduled thread on a busy machine.
  bool parallel(std::size_t rows, std::size_t features) const { return threads_ > 1 && rows * features >= (std::size_t{1} << 22); }

  Split find_split(std::size_t begin, std::size_t end, std::vector<std::int32_t>& features, bool team, const std::uint32_t* hist) const {
    Stats total;
    for (std::size_t k = begin; k < end; ++k) total.add(w_[rows_[k]], y_[rows_[k]]);
    std::vector<Split> per_feature(features.size());
    ExceptionCollector errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (team && parallel(end - begin, features.size()))
    for (std::size_t f = 0; f < features.size(); ++f)
      errors.run([&] {
        const std::int32_t j = features[f];
        per_feature[f] = slot_[static_cast<std::size_t>(j)] >= 0 ? best_in_histogram(hist, j, total) : best_for_feature(begin, end, j, total);
      });
    errors.rethrow();
    Split best;
    std::size_t kept = 0;
    for (std::size_t f = 0; f < features.size(); ++f) {
      const Split& s = per_feature[f];
      if (s.feature >= 0 && s.gain > best.gain) best = s;  // strict '>': the lowest feature wins ties
      if (!s.constant) features[kept++] = features[f];
    }
    features.resize(kept);
    // Gains within rounding of zero are no split (pure or constant data).
    if (best.feature >= 0 && !(best.gain > 1e-12 * std::max(1.0, total.w))) best.feature = -1;
    return best;
  }

  /// Stable partition of the node's range in every live list (and rows_) by the split; returns the
  /// first position of the right child.
  std::size_t partition(std::size_t begin, std::size_t end, const Split& s, const std::vector<std::int32_t>& features, bool team,
                        std::vector<std::int32_t>& scratch) {
    const auto& values = values_[static_cast<std::size_t>(s.feature)];
    const auto nan_code = static_cast<std::uint32_t>(values.size());
    TreeNode test;
    test.categories = s.categories;
    std::size_t n_left = 0;
    if (const std::int32_t slot = slot_[static_cast<std::size_t>(s.feature)]; slot >= 0) {
      std::array<std::uint8_t, 256> code_left{};
      for (std::uint32_t c = 0; c < nan_code; ++c) code_left[c] = s.categories.empty() ? c <= s.code : test.goes_left(values[c]);
      code_left[nan_code] = s.missing_left;
      for (std::size_t k = begin; k < end; ++k) {
        const auto row = static_cast<std::size_t>(rows_[k]);
        const std::uint8_t left = code_left[codes_[row * stride_ + static_cast<std::size_t>(slot)]];
        goes_left_[row] = left;
        n_left += left;
      }
    } else {
      const Entry* e = lists_[static_cast<std::size_t>(s.feature)].data();
      std::vector<char> code_left;  // categorical: per rank code, whether its category goes left
      if (!s.categories.empty())
        for (const double v : values) code_left.push_back(test.goes_left(v));
      for (std::size_t k = begin; k < end; ++k) {
        const bool left = e[k].code == nan_code ? s.missing_left : code_left.empty() ? e[k].code <= s.code : code_left[e[k].code] != 0;
        goes_left_[static_cast<std::size_t>(e[k].row & kRowMask)] = left;
        n_left += left;
      }
    }
    // Counted features have no lists to move.
    std::vector<std::int32_t> listed;
    for (const std::int32_t j : features)
      if (slot_[static_cast<std::size_t>(j)] < 0) listed.push_back(j);
    const bool threads = team && parallel(end - begin, listed.size() + 1);
    ExceptionCollector errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (threads)
    for (std::size_t f = 0; f <= listed.size(); ++f)
      errors.run([&] {
        auto& tmp = threads ? scratch_[static_cast<std::size_t>(thread_id())] : scratch;
        if (f == listed.size()) stable_split(rows_.data() + begin, end - begin, tmp, [](std::int32_t r) { return r; });
        else stable_split(lists_[static_cast<std::size_t>(listed[f])].data() + begin, end - begin, tmp, [](const Entry& x) { return x.row & kRowMask; });
      });
    errors.rethrow();
    return begin + n_left;
  }

  template <typename T, typename RowOf>
  void stable_split(T* a, std::size_t n, std::vector<std::int32_t>& scratch, RowOf row_of) const {
    // Right-going items wait in scratch (raw bytes of T) while left-going ones move down in place.
    scratch.resize(std::max(scratch.size(), (n * sizeof(T) + sizeof(std::int32_t) - 1) / sizeof(std::int32_t)));
    T* right = reinterpret_cast<T*>(scratch.data());
    std::size_t l = 0, r = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const T x = a[k];
      const std::size_t left = goes_left_[static_cast<std::size_t>(row_of(x))];
      a[l] = x;
      right[r] = x;
      l += left;
      r += 1 - left;
    }
    std::copy(right, right + r, a + l);
  }

  MatrixRef X_;
  const Eigen::VectorXd& y_;
  const Eigen::VectorXd& w_;
  CartLimits lim_;
  Eigen::Index n_;
  int threads_;
  double total_weight_ = 0.0;
  std::vector<std::vector<Entry>> lists_;
  std::vector<std::vector<double>> values_;  ///< per feature, the value of each rank code
  struct Label {
    double w, y;
  };
  std::vector<Label> labels_;                ///< per row: weight and target side by side, one cache line
  static constexpr std::int32_t kRowMask = 0x7FFFFFFF;
  bool two_labels_ = false;
  std::array<Label, 2> pair_{};              ///< the pairs when two_labels_: Entry::row's bit 31 picks one
  std::int32_t tagged(std::int32_t row) const {
    if (!two_labels_) return row;
    const Label& l = labels_[static_cast<std::size_t>(row)];
    return pair_[0].w == l.w && pair_[0].y == l.y ? row : static_cast<std::int32_t>(static_cast<std::uint32_t>(row) | 0x80000000u);
  }
  std::vector<std::int32_t> rows_;           ///< per node range, its rows in row order
  std::vector<std::uint8_t> goes_left_;      ///< per row, set for the node being split
  std::vector<char> categorical_;            ///< per feature: integer category codes, split by sets
  std::vector<std::vector<std::int32_t>> scratch_;  ///< per thread
  std::vector<char> has_nan_;                ///< per feature: NaN (or a negative category code) in training
  // Counted features (see the class comment).
  bool exact_ = false;
  struct Terms {
    double w = 0.0, wy = 0.0, wyy = 0.0;
  };
  std::array<Terms, 2> q_{};                 ///< what one row of each pair adds to Stats
  std::vector<std::uint8_t> pair_of_;        ///< per row: its pair
  std::vector<std::int32_t> slot_;           ///< per feature: its byte in a row of codes_ (its column), or -1 (ranked in a list)
  std::int32_t h_ = 0;                       ///< counted features
  std::vector<std::int32_t> counted_;        ///< the counted features, ascending
  std::unique_ptr<std::uint8_t[]> codes_;    ///< n_ rows of stride_ bytes: each row's rank codes (NaN: the feature's last code; 0 for other columns)
  std::size_t stride_ = 0;                   ///< columns rounded up to whole words
  std::vector<std::size_t> off_;             ///< per feature: where its (code, pair) counts start in a histogram
  std::size_t bins_ = 0;                     ///< rank codes (NaN included) over all counted features
};

/// Minimal cost-complexity pruning: repeatedly collapses the weakest link while its effective
/// alpha (R(t) - R(T_t)) / (|leaves(T_t)| - 1) is at most ccp_alpha, then renumbers the nodes.
void prune(CartTree& tree, double ccp_alpha) {
  auto& nodes = tree.nodes;
  const double total = nodes[0].weight;
  const std::size_t n = nodes.size();
  std::vector<double> risk_sub(n), leaves(n);
  for (;;) {
    // Children always come after parents, so a reverse pass is a post-order.
    double weakest = std::numeric_limits<double>::infinity();
    for (std::size_t k = n; k-- > 0;) {
      const TreeNode& t = nodes[k];
      if (t.feature < 0) {
        risk_sub[k] = t.weight / total * t.impurity;
        leaves[k] = 1;
        continue;
      }
      const auto l = static_cast<std::size_t>(t.left), r = static_cast<std::size_t>(t.right);
      risk_sub[k] = risk_sub[l] + risk_sub[r];
      leaves[k] = leaves[l] + leaves[r];
      const double g = (t.weight / total * t.impurity - risk_sub[k]) / (leaves[k] - 1);
      weakest = std::min(weakest, g);
    }
    if (!(weakest <= ccp_alpha)) break;
    // Collapse every internal node whose alpha equals the weakest (within rounding), topmost first.
    for (std::size_t k = 0; k < n; ++k) {
      TreeNode& t = nodes[k];
      if (t.feature < 0) continue;
      const double g = (t.weight / total * t.impurity - risk_sub[k]) / (leaves[k] - 1);
      if (g <= weakest + 1e-15 * std::max(1.0, std::abs(weakest))) t.feature = -1;
    }
  }
  // Keep reachable nodes only, in pre-order, and recompute importances and depth.
  std::vector<TreeNode> kept;
  Eigen::VectorXd imp = Eigen::VectorXd::Zero(tree.n_features);
  int depth = 0;
  struct Item {
    std::size_t old;
    std::int32_t parent;
    bool is_left;
    int depth;
  };
  std::vector<Item> stack{{0, -1, false, 0}};
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    TreeNode node = nodes[it.old];
    const auto id = static_cast<std::int32_t>(kept.size());
    if (it.parent >= 0) (it.is_left ? kept[static_cast<std::size_t>(it.parent)].left : kept[static_cast<std::size_t>(it.parent)].right) = id;
    depth = std::max(depth, it.depth);
    if (node.feature < 0) {
      node.left = node.right = -1;
      node.threshold = 0.0;
      node.missing_left = false;
    } else {
      const TreeNode& l = nodes[static_cast<std::size_t>(node.left)];
      const TreeNode& r = nodes[static_cast<std::size_t>(node.right)];
      imp[node.feature] += node.weight * node.impurity - l.weight * l.impurity - r.weight * r.impurity;
      stack.push_back({static_cast<std::size_t>(node.right), id, false, it.depth + 1});
      stack.push_back({static_cast<std::size_t>(node.left), id, true, it.depth + 1});
    }
    kept.push_back(node);
  }
  tree.nodes = std::move(kept);
  tree.importances = imp;
  tree.depth = depth;
}

std::string fmt(double v, int precision) {
  std::ostringstream s;
  s.precision(precision);
  s << v;
  return s.str();
}

/// One condition of a rule; one-hot columns "col=level" read as "col = level" / "col != level".
std::string condition(const std::string& name, double thr, bool left, bool with_missing, int precision) {
  std::string text;
  const auto eq = name.find('=');
  if (eq != std::string::npos && thr > 0 && thr < 1)
    text = name.substr(0, eq) + (left ? " != " : " = ") + name.substr(eq + 1);
  else
    text = name + (left ? " <= " : " > ") + fmt(thr, precision);
  if (with_missing) text = "(" + text + " or " + name + " is missing)";
  return text;
}

}  // namespace

CartTree build_cart(MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXd& weight, const CartLimits& limits) {
  CartTree tree = Builder(X, y, weight, limits).run();
  if (limits.ccp_alpha > 0) prune(tree, limits.ccp_alpha);
  const double s = tree.importances.sum();
  if (s > 0) tree.importances /= s;
  return tree;
}

Eigen::VectorXi CartTree::apply(MatrixRef X, int n_threads) const {
  Eigen::VectorXi leaf(X.rows());
// A thread team costs more than walking a tree for tens of thousands of rows on a busy machine.
#pragma omp parallel for schedule(static) num_threads(resolve_threads(n_threads)) if (X.rows() > 100000)
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    std::int32_t k = 0;
    for (;;) {
      const TreeNode& t = nodes[static_cast<std::size_t>(k)];
      if (t.feature < 0) break;
      k = t.goes_left(X(i, t.feature)) ? t.left : t.right;
    }
    leaf[i] = k;
  }
  return leaf;
}

Eigen::VectorXd CartTree::predict(MatrixRef X, int n_threads) const {
  const Eigen::VectorXi leaf = apply(X, n_threads);
  Eigen::VectorXd out(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) out[i] = nodes[static_cast<std::size_t>(leaf[i])].value;
  return out;
}

/// One condition on a categorical split: "name in {a, b}" (left) or "name not in {a, b}" (right).
std::string category_condition(const std::string& name, const TreeNode& t, bool left, bool with_missing,
                               const std::vector<std::string>& labels) {
  std::string text = name + (left ? " in {" : " not in {");
  bool first = true;
  for (std::size_t c = 0; c < 64 * t.categories.size(); ++c)
    if ((t.categories[c >> 6] >> (c & 63)) & 1u) {
      text += (first ? "" : ", ") + (c < labels.size() ? labels[c] : std::to_string(c));
      first = false;
    }
  text += "}";
  if (with_missing) text = "(" + text + " or " + name + " is missing)";
  return text;
}

std::string cart_rules(const CartTree& tree, const std::vector<std::string>& given, bool classifier, int precision,
                       const std::vector<std::vector<std::string>>& categories) {
  std::vector<std::string> names = given;
  for (auto j = static_cast<Eigen::Index>(names.size()); j < tree.n_features; ++j) names.push_back(concat("x", j));
  struct Rule {
    std::vector<std::string> terms;
    std::int32_t leaf;
  };
  std::vector<Rule> rules;
  std::vector<std::pair<std::int32_t, std::vector<std::string>>> stack{{0, {}}};
  while (!stack.empty()) {
    auto [k, terms] = std::move(stack.back());
    stack.pop_back();
    const TreeNode& t = tree.nodes[static_cast<std::size_t>(k)];
    if (t.feature < 0) {
      rules.push_back({std::move(terms), k});
      continue;
    }
    const std::string& name = names[static_cast<std::size_t>(t.feature)];
    auto right = terms;
    if (t.is_categorical()) {
      static const std::vector<std::string> none;
      const auto& labels = static_cast<std::size_t>(t.feature) < categories.size() ? categories[static_cast<std::size_t>(t.feature)] : none;
      right.push_back(category_condition(name, t, false, tree.saw_missing && !t.missing_left, labels));
      terms.push_back(category_condition(name, t, true, tree.saw_missing && t.missing_left, labels));
    } else {
      right.push_back(condition(name, t.threshold, false, tree.saw_missing && !t.missing_left, precision));
      terms.push_back(condition(name, t.threshold, true, tree.saw_missing && t.missing_left, precision));
    }
    stack.emplace_back(t.right, std::move(right));
    stack.emplace_back(t.left, std::move(terms));
  }
  std::stable_sort(rules.begin(), rules.end(), [&](const Rule& a, const Rule& b) {
    return tree.nodes[static_cast<std::size_t>(a.leaf)].value > tree.nodes[static_cast<std::size_t>(b.leaf)].value;
  });
  const TreeNode& root = tree.nodes[0];
  std::ostringstream out;
  for (const Rule& r : rules) {
    const TreeNode& leaf = tree.nodes[static_cast<std::size_t>(r.leaf)];
    out << "IF ";
    if (r.terms.empty()) out << "(all rows)";
    for (std::size_t i = 0; i < r.terms.size(); ++i) out << (i ? " AND " : "") << r.terms[i];
    out << " THEN " << (classifier ? "P(y=1) = " : "y = ") << fmt(leaf.value, precision) << "  [n = " << leaf.n_samples
        << ", " << fmt(100.0 * leaf.weight / root.weight, 3) << "% of weight]\n";
  }
  return out.str();
}

namespace {

void write_tree(ModelWriter& w, const CartTree& t) {
  w.i64(t.n_features);
  w.i32(t.depth);
  w.boolean(t.saw_missing);
  w.u64(t.nodes.size());
  for (const TreeNode& n : t.nodes) {
    w.i32(n.feature);
    w.f64(n.threshold);
    w.i32(n.left);
    w.i32(n.right);
    w.boolean(n.missing_left);
    w.f64(n.value);
    w.f64(n.impurity);
    w.f64(n.weight);
    w.i64(n.n_samples);
    w.u64(n.categories.size());
    for (const std::uint64_t word : n.categories) w.u64(word);
  }
  write_vector(w, t.importances);
  w.i32_vector(t.categorical_features);
}

CartTree read_tree(ModelReader& r) {
  CartTree t;
  t.n_features = r.i64("n_features");
  t.depth = r.i32("depth");
  t.saw_missing = r.boolean("saw_missing");
  const std::uint64_t n = r.u64("n_nodes");
  if (t.n_features <= 0) r.fail("n_features", "must be positive");
  if (n == 0 || n > (std::uint64_t{1} << 31)) r.fail("n_nodes", "invalid node count");
  for (std::uint64_t k = 0; k < n; ++k) {
    TreeNode x;
    x.feature = r.i32("node.feature");
    x.threshold = r.f64("node.threshold");
    x.left = r.i32("node.left");
    x.right = r.i32("node.right");
    x.missing_left = r.boolean("node.missing_left");
    x.value = r.f64("node.value");
    x.impurity = r.f64("node.impurity");
    x.weight = r.f64("node.weight");
    x.n_samples = r.i64("node.n_samples");
    if (r.schema() >= 2) {
      const std::uint64_t words = r.u64("node.n_category_words");
      if (words > (kMaxCategoryCode >> 6) + 1) r.fail("node.n_category_words", concat("is ", words, "; category codes stop below 65536"));
      for (std::uint64_t q = 0; q < words; ++q) x.categories.push_back(r.u64("node.categories"));
      if (words > 0 && (x.feature < 0 || x.categories.back() == 0)) r.fail("node.categories", concat("node ", k, " has a malformed category set"));
    }
    // Children must point forward so that prediction always terminates.
    if (x.feature >= 0 && (x.feature >= t.n_features || x.left <= static_cast<std::int64_t>(k) || x.right <= static_cast<std::int64_t>(k) ||
                           static_cast<std::uint64_t>(x.left) >= n || static_cast<std::uint64_t>(x.right) >= n))
      r.fail("nodes", concat("node ", k, " has an invalid split"));
    t.nodes.push_back(x);
  }
  t.importances = read_vector(r, "feature_importances");
  if (t.importances.size() != t.n_features) r.fail("feature_importances", "one per feature expected");
  if (r.schema() >= 2) t.categorical_features = r.i32_vector("categorical_features");
  std::vector<char> categorical(static_cast<std::size_t>(t.n_features), 0);
  for (const std::int32_t j : t.categorical_features) {
    if (j < 0 || j >= t.n_features || categorical[static_cast<std::size_t>(j)])
      r.fail("categorical_features", concat("holds column ", j, " of a model with ", t.n_features, " features"));
    categorical[static_cast<std::size_t>(j)] = 1;
  }
  for (std::size_t k = 0; k < t.nodes.size(); ++k)
    if (t.nodes[k].is_categorical() && !categorical[static_cast<std::size_t>(t.nodes[k].feature)])
      r.fail("node.categories", concat("node ", k, " splits column ", t.nodes[k].feature, " by categories, which is not categorical"));
  return t;
}

constexpr ModelTag kClassifierTag = model_tag("DTRC");
constexpr ModelTag kRegressorTag = model_tag("DTRR");
/// Schema 2 adds category sets to nodes and the categorical columns to the tree; schema 1 still loads.
constexpr std::uint32_t kSchema = 2;

void check_limits(const char* where, int max_depth, int min_split, int min_leaf, double min_dec, double ccp) {
  if (max_depth < -1) throw_invalid(where, "max_depth", "is ", max_depth, "; must be >= 0, or -1 for unlimited");
  if (min_split < 2) throw_invalid(where, "min_samples_split", "is ", min_split, "; must be >= 2");
  if (min_leaf < 1) throw_invalid(where, "min_samples_leaf", "is ", min_leaf, "; must be >= 1");
  if (!(min_dec >= 0) || std::isinf(min_dec)) throw_invalid(where, "min_impurity_decrease", "is ", min_dec, "; must be finite and >= 0");
  if (!(ccp >= 0) || std::isinf(ccp)) throw_invalid(where, "ccp_alpha", "is ", ccp, "; must be finite and >= 0");
}

}  // namespace
}  // namespace detail

void validate(const DecisionTreeOptions& o) {
  detail::check_limits("DecisionTreeOptions", o.max_depth, o.min_samples_split, o.min_samples_leaf, o.min_impurity_decrease, o.ccp_alpha);
  if (o.criterion != TreeCriterion::gini && o.criterion != TreeCriterion::entropy)
    detail::throw_invalid("DecisionTreeOptions", "criterion", "unknown value ", static_cast<int>(o.criterion));
  detail::check_class_weight("DecisionTreeOptions", o.class_weight);
}

void validate(const DecisionTreeRegressorOptions& o) {
  detail::check_limits("DecisionTreeRegressorOptions", o.max_depth, o.min_samples_split, o.min_samples_leaf, o.min_impurity_decrease,
                       o.ccp_alpha);
}

// ---------------------------------------------------------------- classifier

DecisionTreeClassifier::DecisionTreeClassifier(DecisionTreeOptions options) : options_(options) {}

DecisionTreeClassifier& DecisionTreeClassifier::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) {
  return fit(X, y, Eigen::VectorXd());
}

DecisionTreeClassifier& DecisionTreeClassifier::fit(MatrixRef X, LabelRef y, VectorRef sample_weight) {
  validate(options_);
  detail::check_binary_fit("DecisionTreeClassifier::fit", X, y, sample_weight, true);
  const Eigen::VectorXd w = detail::combined_weights(y, sample_weight, options_.class_weight);
  detail::CartLimits lim{options_.criterion == TreeCriterion::gini ? detail::CartCriterion::gini : detail::CartCriterion::entropy,
                         options_.max_depth, options_.min_samples_split, options_.min_samples_leaf,
                         options_.min_impurity_decrease, options_.ccp_alpha, options_.n_threads, options_.categorical_features};
  tree_ = detail::build_cart(X, y.cast<double>(), w, lim);
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

RowMatrix DecisionTreeClassifier::predict_proba(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::predict_proba");
  detail::check_predict("DecisionTreeClassifier::predict_proba", X, tree_.n_features, true);
  detail::check_codes("DecisionTreeClassifier::predict_proba", X, tree_.categorical_features, -1);
  return detail::two_column_proba(tree_.predict(X, options_.n_threads));
}

Eigen::VectorXi DecisionTreeClassifier::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::predict");
  return (predict_proba(X).col(1).array() > 0.5).cast<int>();
}

Eigen::VectorXi DecisionTreeClassifier::apply(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::apply");
  detail::check_predict("DecisionTreeClassifier::apply", X, tree_.n_features, true);
  detail::check_codes("DecisionTreeClassifier::apply", X, tree_.categorical_features, -1);
  return tree_.apply(X, options_.n_threads);
}

const std::vector<TreeNode>& DecisionTreeClassifier::nodes() const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::nodes");
  return tree_.nodes;
}
const Eigen::VectorXd& DecisionTreeClassifier::feature_importances() const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::feature_importances");
  return tree_.importances;
}
int DecisionTreeClassifier::depth() const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::depth");
  return tree_.depth;
}
int DecisionTreeClassifier::n_leaves() const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::n_leaves");
  return static_cast<int>(std::count_if(tree_.nodes.begin(), tree_.nodes.end(), [](const TreeNode& n) { return n.feature < 0; }));
}
std::string DecisionTreeClassifier::export_rules(const std::vector<std::string>& names, int precision,
                                                 const std::vector<std::vector<std::string>>& categories) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::export_rules");
  detail::check_feature_names("DecisionTreeClassifier::export_rules", names, tree_.n_features);
  return detail::cart_rules(tree_, names.empty() ? feature_names_ : names, true, precision, categories);
}
void DecisionTreeClassifier::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::set_feature_names");
  detail::check_feature_names("DecisionTreeClassifier::set_feature_names", names, tree_.n_features);
  feature_names_ = std::move(names);
}

void DecisionTreeClassifier::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::save");
  ModelWriter w(detail::kClassifierTag, detail::kSchema);
  w.u8(static_cast<std::uint8_t>(options_.criterion));
  w.i32(options_.max_depth);
  w.i32(options_.min_samples_split);
  w.i32(options_.min_samples_leaf);
  w.f64(options_.min_impurity_decrease);
  w.f64(options_.ccp_alpha);
  w.f64(options_.class_weight[0]);
  w.f64(options_.class_weight[1]);
  w.i32(options_.n_threads);
  detail::write_tree(w, tree_);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

DecisionTreeClassifier DecisionTreeClassifier::load(std::istream& in) {
  ModelReader r(in, detail::kClassifierTag, detail::kSchema);
  DecisionTreeOptions o;
  const std::uint8_t c = r.u8("criterion");
  if (c > 1) r.fail("criterion", "unknown criterion");
  o.criterion = static_cast<TreeCriterion>(c);
  o.max_depth = r.i32("max_depth");
  o.min_samples_split = r.i32("min_samples_split");
  o.min_samples_leaf = r.i32("min_samples_leaf");
  o.min_impurity_decrease = r.f64("min_impurity_decrease");
  o.ccp_alpha = r.f64("ccp_alpha");
  o.class_weight[0] = r.f64("class_weight");
  o.class_weight[1] = r.f64("class_weight");
  o.n_threads = r.i32("n_threads");
  DecisionTreeClassifier m(o);
  m.tree_ = detail::read_tree(r);
  m.options_.categorical_features = m.tree_.categorical_features;
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.tree_.n_features)
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

// ---------------------------------------------------------------- regressor

DecisionTreeRegressor::DecisionTreeRegressor(DecisionTreeRegressorOptions options) : options_(options) {}

DecisionTreeRegressor& DecisionTreeRegressor::fit(MatrixRef X, VectorRef y) { return fit(X, y, Eigen::VectorXd()); }

DecisionTreeRegressor& DecisionTreeRegressor::fit(MatrixRef X, VectorRef y, VectorRef sample_weight) {
  validate(options_);
  detail::check_regression_fit("DecisionTreeRegressor::fit", X, y, sample_weight, true);
  const Eigen::VectorXd w = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd::Ones(X.rows());
  detail::CartLimits lim{detail::CartCriterion::squared_error, options_.max_depth, options_.min_samples_split, options_.min_samples_leaf,
                         options_.min_impurity_decrease, options_.ccp_alpha, options_.n_threads, options_.categorical_features};
  tree_ = detail::build_cart(X, Eigen::VectorXd(y), w, lim);
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd DecisionTreeRegressor::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::predict");
  detail::check_predict("DecisionTreeRegressor::predict", X, tree_.n_features, true);
  detail::check_codes("DecisionTreeRegressor::predict", X, tree_.categorical_features, -1);
  return tree_.predict(X, options_.n_threads);
}
Eigen::VectorXi DecisionTreeRegressor::apply(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::apply");
  detail::check_predict("DecisionTreeRegressor::apply", X, tree_.n_features, true);
  detail::check_codes("DecisionTreeRegressor::apply", X, tree_.categorical_features, -1);
  return tree_.apply(X, options_.n_threads);
}
const std::vector<TreeNode>& DecisionTreeRegressor::nodes() const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::nodes");
  return tree_.nodes;
}
const Eigen::VectorXd& DecisionTreeRegressor::feature_importances() const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::feature_importances");
  return tree_.importances;
}
int DecisionTreeRegressor::depth() const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::depth");
  return tree_.depth;
}
int DecisionTreeRegressor::n_leaves() const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::n_leaves");
  return static_cast<int>(std::count_if(tree_.nodes.begin(), tree_.nodes.end(), [](const TreeNode& n) { return n.feature < 0; }));
}
std::string DecisionTreeRegressor::export_rules(const std::vector<std::string>& names, int precision,
                                                const std::vector<std::vector<std::string>>& categories) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::export_rules");
  detail::check_feature_names("DecisionTreeRegressor::export_rules", names, tree_.n_features);
  return detail::cart_rules(tree_, names.empty() ? feature_names_ : names, false, precision, categories);
}
void DecisionTreeRegressor::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::set_feature_names");
  detail::check_feature_names("DecisionTreeRegressor::set_feature_names", names, tree_.n_features);
  feature_names_ = std::move(names);
}

void DecisionTreeRegressor::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::save");
  ModelWriter w(detail::kRegressorTag, detail::kSchema);
  w.i32(options_.max_depth);
  w.i32(options_.min_samples_split);
  w.i32(options_.min_samples_leaf);
  w.f64(options_.min_impurity_decrease);
  w.f64(options_.ccp_alpha);
  w.i32(options_.n_threads);
  detail::write_tree(w, tree_);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

DecisionTreeRegressor DecisionTreeRegressor::load(std::istream& in) {
  ModelReader r(in, detail::kRegressorTag, detail::kSchema);
  DecisionTreeRegressorOptions o;
  o.max_depth = r.i32("max_depth");
  o.min_samples_split = r.i32("min_samples_split");
  o.min_samples_leaf = r.i32("min_samples_leaf");
  o.min_impurity_decrease = r.f64("min_impurity_decrease");
  o.ccp_alpha = r.f64("ccp_alpha");
  o.n_threads = r.i32("n_threads");
  DecisionTreeRegressor m(o);
  m.tree_ = detail::read_tree(r);
  m.options_.categorical_features = m.tree_.categorical_features;
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.tree_.n_features)
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
