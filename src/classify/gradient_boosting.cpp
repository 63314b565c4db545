// SPDX-License-Identifier: Apache-2.0
// Histogram gradient boosting: binning, leaf-wise tree growth on gradient histograms, early stopping.
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/metrics.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "forest_scorer.hpp"
#include "io.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("GBMC");
constexpr std::uint32_t kSchema = 1;
/// Rows sampled to place the bin cuts on large data (LightGBM's bin_construct_sample_cnt).
constexpr Eigen::Index kCutSample = 200000;
/// A feature may join a bundle when at most this share of the training rows is off its most frequent bin.
constexpr double kBundleMaxShare = 0.5;

inline double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

struct Bin {
  double g = 0, h = 0;
  std::int64_t n = 0;
};

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
  std::vector<std::size_t> group_offset;
  std::size_t total_group_bins = 0;
  std::vector<std::uint8_t> packed;    // n x groups, row-major
  int n_groups() const { return static_cast<int>(members.size()); }
  std::uint8_t bin(Eigen::Index i, std::int32_t j) const {
    return lut[static_cast<std::size_t>(j)][packed[static_cast<std::size_t>(i) * members.size() + static_cast<std::size_t>(group[static_cast<std::size_t>(j)])]];
  }
};

std::vector<double> make_cuts(std::vector<double> v, int max_bins) {
  std::sort(v.begin(), v.end());
  std::vector<double> distinct;
  for (const double x : v)
    if (distinct.empty() || x != distinct.back()) distinct.push_back(x);
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

Binned make_bins(MatrixRef X, const std::vector<std::int32_t>& train, int max_bins, std::uint64_t seed, int n_threads) {
  const Eigen::Index n = X.rows(), p = X.cols();
  const int threads = detail::resolve_threads(n_threads);
  Binned b;
  b.n = n;
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
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Eigen::Index j = 0; j < p; ++j) {
    std::vector<double> v;
    v.reserve(cut_rows.size());
    for (const std::int32_t i : cut_rows)
      if (!std::isnan(X(i, j))) v.push_back(X(i, j));
    b.cuts[static_cast<std::size_t>(j)] = make_cuts(std::move(v), max_bins);
  }
  // Feature bins, feature-major, for the bundling pass.
  std::vector<std::uint8_t> fb(static_cast<std::size_t>(n * p));
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < p; ++j) {
      const auto& cut = b.cuts[static_cast<std::size_t>(j)];
      const double x = X(i, j);
      fb[static_cast<std::size_t>(j * n + i)] = std::isnan(x) ? static_cast<std::uint8_t>(cut.size() + 1)
                                                              : static_cast<std::uint8_t>(std::lower_bound(cut.begin(), cut.end(), x) - cut.begin());
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
  b.group_offset.resize(G);
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
    b.group_offset[gi] = b.total_group_bins;
    b.total_group_bins += static_cast<std::size_t>(slots);
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
  return b;
}

struct Candidate {
  double gain = 0;
  std::int32_t feature = -1;
  int bin = 0;  // left = value bins <= bin
  bool missing_left = false;
  Bin left, right;
};

/// Grows one leaf-wise tree. Rows live in one index buffer, each leaf a contiguous range that a split
/// partitions stably (LightGBM's DataPartition); histograms are built for the smaller child from
/// gradients gathered in row order and derived for the larger one by subtraction.
class TreeGrower {
 public:
  TreeGrower(const Binned& data, const std::vector<double>& g, const std::vector<double>& h, const GradientBoostingOptions& o,
             const std::vector<std::int32_t>& features)
      : d_(data), g_(g), h_(h), o_(o), features_(features), threads_(detail::resolve_threads(o.n_threads)) {
    std::vector<bool> active(static_cast<std::size_t>(d_.n_groups()), false);
    for (const std::int32_t j : features_) active[static_cast<std::size_t>(d_.group[static_cast<std::size_t>(j)])] = true;
    for (int gi = 0; gi < d_.n_groups(); ++gi)
      if (active[static_cast<std::size_t>(gi)]) groups_.push_back(gi);
  }

  /// Grows one tree on `rows` (ascending); returns nodes with leaf values already shrunk, adds gains to
  /// `importance` and adds every row's leaf value to `raw`.
  std::vector<TreeNode> grow(std::vector<std::int32_t> rows, Eigen::VectorXd& importance, std::vector<double>& raw) {
    struct Leaf {
      std::size_t begin, end;
      std::vector<Bin> hist;
      Bin total;
      Candidate best;
      std::int32_t node;
      int depth;
    };
    idx_ = std::move(rows);
    tmp_.resize(idx_.size());
    std::vector<TreeNode> nodes(1);
    std::vector<Leaf> leaves;
    // Best-first: the open leaf with the largest gain, the lowest node index on ties.
    auto worse = [&](std::size_t a, std::size_t c) {
      const Candidate &x = leaves[a].best, &y = leaves[c].best;
      return x.gain < y.gain || (x.gain == y.gain && leaves[a].node > leaves[c].node);
    };
    std::vector<std::size_t> heap;
    auto open = [&](std::size_t k) {
      if (leaves[k].best.feature < 0) return;
      heap.push_back(k);
      std::push_heap(heap.begin(), heap.end(), worse);
    };
    {
      Leaf root{0, idx_.size(), {}, {}, {}, 0, 0};
      root.hist.assign(d_.total_bins, Bin{});
      root.total = histogram(root.begin, root.end, root.hist);
      root.best = best_split(root.hist, root.total);
      leaves.push_back(std::move(root));
      open(0);
    }
    int n_leaves = 1;
    while (n_leaves < o_.num_leaves && !heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      const std::size_t pick = heap.back();
      heap.pop_back();
      const Candidate c = leaves[pick].best;
      const std::size_t begin = leaves[pick].begin, end = leaves[pick].end;
      const auto missing_bin = static_cast<std::uint8_t>(d_.n_bins[static_cast<std::size_t>(c.feature)] - 1);
      const std::size_t G = static_cast<std::size_t>(d_.n_groups());
      const std::uint8_t* col = d_.packed.data() + static_cast<std::size_t>(d_.group[static_cast<std::size_t>(c.feature)]);
      const auto& lut = d_.lut[static_cast<std::size_t>(c.feature)];
      std::size_t nl = 0, nr = 0;
      std::int32_t* right = tmp_.data() + begin;
      for (std::size_t k = begin; k < end; ++k) {
        const std::int32_t i = idx_[k];
        const std::uint8_t b = lut[col[static_cast<std::size_t>(i) * G]];
        if (b == missing_bin ? c.missing_left : b <= c.bin)
          idx_[begin + nl++] = i;
        else
          right[nr++] = i;
      }
      std::copy(right, right + nr, idx_.begin() + static_cast<std::ptrdiff_t>(begin + nl));
      const std::size_t mid = begin + nl;

      TreeNode& parent = nodes[static_cast<std::size_t>(leaves[pick].node)];
      parent.feature = c.feature;
      const auto& cuts = d_.cuts[static_cast<std::size_t>(c.feature)];
      parent.threshold = c.bin < static_cast<int>(cuts.size()) ? cuts[static_cast<std::size_t>(c.bin)] : std::numeric_limits<double>::infinity();
      parent.missing_left = c.missing_left;
      parent.left = static_cast<std::int32_t>(nodes.size());
      parent.right = parent.left + 1;
      importance[c.feature] += c.gain;
      const std::int32_t lnode = parent.left, rnode = parent.right;
      nodes.emplace_back();
      nodes.emplace_back();
      const int depth = leaves[pick].depth + 1;
      Leaf l{begin, mid, {}, c.left, {}, lnode, depth};
      Leaf r{mid, end, {}, c.right, {}, rnode, depth};
      const bool left_small = nl <= nr;
      Leaf& small = left_small ? l : r;
      Leaf& large = left_small ? r : l;
      large.hist = std::move(leaves[pick].hist);
      small.hist.assign(d_.total_bins, Bin{});
      small.total = histogram(small.begin, small.end, small.hist);
      large.total = Bin{leaves[pick].total.g - small.total.g, leaves[pick].total.h - small.total.h, leaves[pick].total.n - small.total.n};
      for (const std::int32_t j : features_) {
        Bin* a = large.hist.data() + d_.offset[static_cast<std::size_t>(j)];
        const Bin* s = small.hist.data() + d_.offset[static_cast<std::size_t>(j)];
        for (int b = 0; b < d_.n_bins[static_cast<std::size_t>(j)]; ++b) {
          a[b].g -= s[b].g;
          a[b].h -= s[b].h;
          a[b].n -= s[b].n;
        }
      }
      const bool can_split = o_.max_depth < 0 || depth < o_.max_depth;
      if (can_split) {
        l.best = best_split(l.hist, l.total);
        r.best = best_split(r.hist, r.total);
      }
      leaves[pick] = std::move(l);
      leaves.push_back(std::move(r));
      open(pick);
      open(leaves.size() - 1);
      ++n_leaves;
    }
    for (const Leaf& leaf : leaves) {
      TreeNode& t = nodes[static_cast<std::size_t>(leaf.node)];
      t.value = -o_.learning_rate * leaf.total.g / (leaf.total.h + o_.reg_lambda);
      t.weight = leaf.total.h;
      t.n_samples = leaf.total.n;
      for (std::size_t k = leaf.begin; k < leaf.end; ++k) raw[static_cast<std::size_t>(idx_[k])] += t.value;
    }
    return nodes;
  }

 private:
  /// Fills `hist` (feature slots of the tree's features) for rows idx_[begin, end) and returns their total.
  Bin histogram(std::size_t begin, std::size_t end, std::vector<Bin>& hist) {
    const std::size_t m = end - begin;
    gh_.resize(2 * m);
    Bin total;
    for (std::size_t k = 0; k < m; ++k) {
      const auto i = static_cast<std::size_t>(idx_[begin + k]);
      gh_[2 * k] = g_[i];
      gh_[2 * k + 1] = h_[i];
      total.g += g_[i];
      total.h += h_[i];
    }
    total.n = static_cast<std::int64_t>(m);
    group_hist_.assign(d_.total_group_bins, Bin{});
    const std::size_t G = static_cast<std::size_t>(d_.n_groups());
    const std::int32_t* rows = idx_.data() + begin;
    const std::uint8_t* packed = d_.packed.data();
    // Each task owns whole groups and sums its rows in row order, so bins never depend on the threads.
    const int tasks = std::min<int>(threads_, static_cast<int>(groups_.size()));
#pragma omp parallel for schedule(static, 1) num_threads(threads_) if (tasks > 1 && m * groups_.size() > 200000)
    for (int t = 0; t < tasks; ++t) {
      const std::size_t g0 = groups_.size() * static_cast<std::size_t>(t) / static_cast<std::size_t>(tasks);
      const std::size_t g1 = groups_.size() * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(tasks);
      Bin* gh = group_hist_.data();
      for (std::size_t k = 0; k < m; ++k) {
        const std::uint8_t* row = packed + static_cast<std::size_t>(rows[k]) * G;
        const double gk = gh_[2 * k], hk = gh_[2 * k + 1];
        for (std::size_t q = g0; q < g1; ++q) {
          const int gi = groups_[q];
          Bin& b = gh[d_.group_offset[static_cast<std::size_t>(gi)] + row[gi]];
          b.g += gk;
          b.h += hk;
          ++b.n;
        }
      }
    }
    for (const std::int32_t j : features_) {
      const auto gi = static_cast<std::size_t>(d_.group[static_cast<std::size_t>(j)]);
      const Bin* src = group_hist_.data() + d_.group_offset[gi];
      Bin* dst = hist.data() + d_.offset[static_cast<std::size_t>(j)];
      const int nb = d_.n_bins[static_cast<std::size_t>(j)], d = d_.default_bin[static_cast<std::size_t>(j)];
      if (d < 0) {
        std::copy(src, src + nb, dst);
        continue;
      }
      // A bundled feature's most frequent bin is every row not in one of its other bins.
      Bin rest = total;
      for (int v = 0, s = d_.first_slot[static_cast<std::size_t>(j)]; v < nb; ++v) {
        if (v == d) continue;
        dst[v] = src[s++];
        rest.g -= dst[v].g;
        rest.h -= dst[v].h;
        rest.n -= dst[v].n;
      }
      dst[d] = rest;
    }
    return total;
  }

  double score(const Bin& b) const { return b.g * b.g / (b.h + o_.reg_lambda); }

  Candidate best_split(const std::vector<Bin>& hist, const Bin& total) const {
    Candidate best;
    if (total.n < 2 * static_cast<std::int64_t>(o_.min_child_samples)) return best;
    const double parent = score(total);
    for (const std::int32_t j : features_) {
      const Bin* hj = hist.data() + d_.offset[static_cast<std::size_t>(j)];
      const int nb = d_.n_bins[static_cast<std::size_t>(j)] - 1;  // value bins
      const Bin miss = hj[nb];
      Bin left;
      for (int b = 0; b + 1 < nb; ++b) {
        const Bin& x = hj[b];
        left.g += x.g;
        left.h += x.h;
        left.n += x.n;
        for (int side = 0; side < (miss.n > 0 ? 2 : 1); ++side) {
          Bin l = left;
          if (side) l.g += miss.g, l.h += miss.h, l.n += miss.n;
          const Bin r{total.g - l.g, total.h - l.h, total.n - l.n};
          if (l.n < o_.min_child_samples || r.n < o_.min_child_samples || l.h < o_.min_child_weight || r.h < o_.min_child_weight)
            continue;
          const double gain = 0.5 * (score(l) + score(r) - parent);
          if (gain > best.gain && gain > o_.min_split_gain) best = Candidate{gain, j, b, side == 1, l, r};
        }
      }
    }
    return best;
  }

  const Binned& d_;
  const std::vector<double>& g_;
  const std::vector<double>& h_;
  const GradientBoostingOptions& o_;
  const std::vector<std::int32_t>& features_;
  int threads_;
  std::vector<int> groups_;
  std::vector<std::int32_t> idx_, tmp_;
  std::vector<double> gh_;
  std::vector<Bin> group_hist_;
};

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
}

GradientBoostingClassifier::GradientBoostingClassifier(GradientBoostingOptions options) : options_(options) {}

GradientBoostingClassifier& GradientBoostingClassifier::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) {
  return fit(X, y, Eigen::VectorXd());
}

GradientBoostingClassifier& GradientBoostingClassifier::fit(MatrixRef X, LabelRef y, VectorRef sample_weight) {
  validate(options_);
  detail::check_binary_fit("GradientBoostingClassifier::fit", X, y, sample_weight, true);
  const Eigen::Index n = X.rows(), p = X.cols();
  const Eigen::VectorXd w = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd::Ones(n);

  if (n >= std::numeric_limits<std::int32_t>::max())
    detail::throw_invalid("GradientBoostingClassifier::fit", "X", "has ", n, " rows; at most 2^31 - 2 are supported");
  std::vector<std::int32_t> train, valid;
  if (options_.validation_fraction > 0) {
    const auto is_valid = stratified_split(y, options_.validation_fraction, derive_seed(options_.seed, 0xEA51));
    for (Eigen::Index i = 0; i < n; ++i) (is_valid[static_cast<std::size_t>(i)] ? valid : train).push_back(static_cast<std::int32_t>(i));
  } else {
    train.resize(static_cast<std::size_t>(n));
    std::iota(train.begin(), train.end(), std::int32_t{0});
  }
  const int threads = detail::resolve_threads(options_.n_threads);
  const Binned data = make_bins(X, train, options_.max_bins, options_.seed, options_.n_threads);

  double wpos = 0, wall = 0;
  for (const std::int32_t i : train) {
    wpos += w[i] * y[i];
    wall += w[i];
  }
  if (!(wpos > 0 && wpos < wall)) detail::throw_invalid("GradientBoostingClassifier::fit", "y", "the training part lacks one class");
  init_score_ = std::log(wpos / (wall - wpos));
  std::vector<double> raw(static_cast<std::size_t>(n), init_score_), g(static_cast<std::size_t>(n)), h(static_cast<std::size_t>(n));
  importances_ = Eigen::VectorXd::Zero(p);
  trees_.clear();
  validation_loss_.clear();
  double best_loss = std::numeric_limits<double>::infinity();
  std::size_t best_trees = 0;
  int since_best = 0;
  std::vector<std::int32_t> all_features(static_cast<std::size_t>(p));
  std::iota(all_features.begin(), all_features.end(), 0);
  // Rows whose score the tree itself does not update (left out by subsampling, or held out).
  std::vector<char> in_tree(static_cast<std::size_t>(n));
  std::vector<std::int32_t> others;

  for (int round = 0; round < options_.n_estimators; ++round) {
#pragma omp parallel for schedule(static) num_threads(threads) if (train.size() > 20000)
    for (std::size_t k = 0; k < train.size(); ++k) {
      const auto i = static_cast<std::size_t>(train[k]);
      const double q = sigmoid(raw[i]);
      g[i] = w[train[k]] * (q - y[train[k]]);
      h[i] = w[train[k]] * q * (1.0 - q);
    }
    std::vector<std::int32_t> rows = train;
    if (options_.subsample < 1.0) {
      Random rng(options_.seed, 2 * static_cast<std::uint64_t>(round) + 1);
      std::vector<std::int32_t> kept;
      for (const std::int32_t i : rows)
        if (rng.uniform() < options_.subsample) kept.push_back(i);
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
    if (options_.colsample_bytree < 1.0) {
      Random rng(options_.seed, 2 * static_cast<std::uint64_t>(round) + 2);
      for (std::size_t k = features.size(); k > 1; --k) std::swap(features[k - 1], features[rng.below(k)]);
      features.resize(std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(options_.colsample_bytree * static_cast<double>(p)))));
      std::sort(features.begin(), features.end());
    }
    TreeGrower grower(data, g, h, options_, features);
    trees_.push_back(grower.grow(std::move(rows), importances_, raw));
    const auto& tree = trees_.back();
#pragma omp parallel for schedule(static) num_threads(threads) if (others.size() > 20000)
    for (std::size_t k = 0; k < others.size(); ++k) raw[static_cast<std::size_t>(others[k])] += detail::walk_tree(tree, X, others[k]);
    if (!valid.empty()) {
      double loss = 0, wv = 0;
      for (const std::int32_t i : valid) {
        const double z = raw[static_cast<std::size_t>(i)];
        loss += w[i] * ((z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - y[i] * z);
        wv += w[i];
      }
      loss /= wv;
      validation_loss_.push_back(loss);
      if (loss < best_loss - 1e-12) {
        best_loss = loss;
        best_trees = trees_.size();
        since_best = 0;
      } else if (++since_best >= options_.n_iter_no_change) {
        break;
      }
    }
  }
  if (!valid.empty()) trees_.resize(std::max<std::size_t>(best_trees, 1));
  const double s = importances_.sum();
  if (s > 0) importances_ /= s;
  n_features_ = p;
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd GradientBoostingClassifier::decision_function(MatrixRef X) const {
  detail::require_fitted(fitted_, "GradientBoostingClassifier::decision_function");
  detail::check_predict("GradientBoostingClassifier::decision_function", X, n_features_, true);
  Eigen::VectorXd raw = Eigen::VectorXd::Constant(X.rows(), init_score_);
  detail::ForestScorer(trees_).add(X, raw, options_.n_threads);
  return raw;
}

RowMatrix GradientBoostingClassifier::predict_proba(MatrixRef X) const {
  Eigen::VectorXd z = decision_function(X);
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = sigmoid(z[i]);
  return detail::two_column_proba(z);
}

Eigen::VectorXi GradientBoostingClassifier::predict(MatrixRef X) const { return (decision_function(X).array() > 0).cast<int>(); }

const Eigen::VectorXd& GradientBoostingClassifier::feature_importances() const {
  detail::require_fitted(fitted_, "GradientBoostingClassifier::feature_importances");
  return importances_;
}

void GradientBoostingClassifier::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "GradientBoostingClassifier::set_feature_names");
  detail::check_feature_names("GradientBoostingClassifier::set_feature_names", names, n_features_);
  feature_names_ = std::move(names);
}

void GradientBoostingClassifier::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "GradientBoostingClassifier::save");
  ModelWriter w(kTag, kSchema);
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
    }
  }
  detail::write_vector(w, importances_);
  w.f64_vector(validation_loss_);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

GradientBoostingClassifier GradientBoostingClassifier::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
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
  GradientBoostingClassifier m(o);
  m.n_features_ = r.i64("n_features");
  if (m.n_features_ <= 0) r.fail("n_features", "must be positive");
  m.init_score_ = r.f64("init_score");
  const std::uint64_t n_trees = r.u64("n_trees");
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
      if (t.feature >= 0 && (t.feature >= m.n_features_ || t.left <= static_cast<std::int64_t>(q) || t.right <= static_cast<std::int64_t>(q) ||
                             static_cast<std::uint64_t>(t.left) >= n_nodes || static_cast<std::uint64_t>(t.right) >= n_nodes))
        r.fail("nodes", detail::concat("tree ", k, " node ", q, " has an invalid split"));
      tree.push_back(t);
    }
    m.trees_.push_back(std::move(tree));
  }
  m.importances_ = detail::read_vector(r, "feature_importances");
  m.validation_loss_ = r.f64_vector("validation_loss");
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (m.importances_.size() != m.n_features_) r.fail("feature_importances", "one per feature expected");
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
