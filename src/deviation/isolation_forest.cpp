// SPDX-License-Identifier: Apache-2.0
// IsolationForest: per-tree seeded subsamples, flat node arrays, block-of-rows x trees scoring.
#include <crmine/deviation/isolation_forest.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <unordered_set>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("IFOR");
constexpr std::uint32_t kSchema = 1;
// Rows scored together against every tree: the block's rows stay in cache while each tree's nodes
// (at most 2 x 256 x 16 bytes by default) stream through L1.
constexpr Eigen::Index kScoreBlock = 256;

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
        if (!(hi > lo)) continue;
        double threshold = lo + rng.uniform() * (hi - lo);
        if (threshold >= hi) threshold = lo;  // rounding up to hi would leave the right side empty
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
  detail::check_data(where, "X", X);
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
// at a compile-time distance from the others, so the whole group lives in registers.
constexpr int kLanes = 8;

/// Adds each lane's leaf path length in one tree (nodes from `tree`, byte-addressed) to acc.
template <typename Step>
inline void walk_group(const Step* tree, const double* leaf_path, int depth, const double* xt, double* acc) {
  const char* base = reinterpret_cast<const char*>(tree);
  const char* x = reinterpret_cast<const char*>(xt);
  std::uint32_t at[kLanes];
#pragma GCC unroll 8
  for (int l = 0; l < kLanes; ++l) at[l] = 0;
  for (int step = 0; step < depth; ++step) {
#pragma GCC unroll 8
    for (int l = 0; l < kLanes; ++l) {
      const Step& node = *reinterpret_cast<const Step*>(base + at[l]);
      const double v = *reinterpret_cast<const double*>(x + node.offset + l * sizeof(double));
      at[l] = node.left + (v > node.value ? static_cast<std::uint32_t>(sizeof(Step)) : 0u);
    }
  }
#pragma GCC unroll 8
  for (int l = 0; l < kLanes; ++l) acc[l] += leaf_path[at[l] / sizeof(Step)];
}

}  // namespace

void IsolationForest::compile() {
  // Leaves become self-loops with an infinite threshold, so every row walks exactly its tree's
  // depth with no data-dependent branch and no mispredicted loop exit. Leaf path lengths move to
  // their own array (indexed from each tree's root, like the byte offsets).
  constexpr auto kStep = static_cast<std::int64_t>(sizeof(Step));
  if (n_features_ * kLanes * static_cast<std::int64_t>(sizeof(double)) > std::numeric_limits<std::uint32_t>::max())
    detail::throw_invalid("IsolationForest", "n_features", "is too large to score (", n_features_, ")");
  steps_.resize(nodes_.size());
  leaf_path_.assign(nodes_.size(), 0.0);
  std::vector<int> depth(nodes_.size(), 0);
  tree_depth_.assign(roots_.size(), 0);
  for (std::size_t t = 0; t < roots_.size(); ++t) {
    const std::int64_t begin = roots_[t];
    const std::int64_t end = t + 1 < roots_.size() ? roots_[t + 1] : static_cast<std::int64_t>(nodes_.size());
    if ((end - begin) * kStep > std::numeric_limits<std::uint32_t>::max())
      detail::throw_invalid("IsolationForest", "max_samples", "gives a tree too large to score (", end - begin, " nodes)");
    for (std::int64_t i = begin; i < end; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const Node& node = nodes_[u];
      if (node.feature >= 0) {
        steps_[u] = {node.value, static_cast<std::uint32_t>(node.feature * kLanes * static_cast<std::int64_t>(sizeof(double))),
                     static_cast<std::uint32_t>((node.left - begin) * kStep)};
        depth[static_cast<std::size_t>(node.left)] = depth[static_cast<std::size_t>(node.left) + 1] = depth[u] + 1;
      } else {
        steps_[u] = {std::numeric_limits<double>::infinity(), 0, static_cast<std::uint32_t>((i - begin) * kStep)};
        leaf_path_[u] = node.value;
        tree_depth_[t] = std::max(tree_depth_[t], depth[u]);
      }
    }
  }
}

Eigen::VectorXd IsolationForest::mean_path_length(MatrixRef X) const {
  constexpr const char* where = "IsolationForest::score_samples";
  detail::require_fitted(fitted_, where);
  detail::check_features(where, X, n_features_);
  Eigen::VectorXd out(X.rows());
  const Step* steps = steps_.data();
  const double* leaf_path = leaf_path_.data();
  const double inv_trees = 1.0 / static_cast<double>(roots_.size());
  const Eigen::Index d = X.cols();
  const auto n_trees = roots_.size();
  detail::for_each_block(X.rows(), kScoreBlock, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    // The block transposed group by group: [group][feature][lane], the last group zero-padded.
    const Eigen::Index groups = (e - b + kLanes - 1) / kLanes;
    thread_local std::vector<double> xt;
    xt.assign(static_cast<std::size_t>(groups * d * kLanes), 0.0);
    for (Eigen::Index i = b; i < e; ++i) {
      const Eigen::Index g = (i - b) / kLanes, l = (i - b) % kLanes;
      double* dst = xt.data() + g * d * kLanes + l;
      const double* row = X.row(i).data();
      for (Eigen::Index f = 0; f < d; ++f) dst[f * kLanes] = row[f];
    }
    alignas(64) double acc[kScoreBlock + kLanes] = {};
    // Tree-major over the block: each tree's nodes stay in L1 while all groups walk it, and every
    // row adds its trees' path lengths in tree order, so the sum does not depend on blocks or threads.
    for (std::size_t t = 0; t < n_trees; ++t) {
      const auto root = static_cast<std::size_t>(roots_[t]);
      const int depth = tree_depth_[t];
      for (Eigen::Index g = 0; g < groups; ++g)
        walk_group(steps + root, leaf_path + root, depth, xt.data() + g * d * kLanes, acc + g * kLanes);
    }
    for (Eigen::Index i = b; i < e; ++i) out[i] = acc[i - b] * inv_trees;
  });
  return out;
}

Eigen::VectorXd IsolationForest::score_samples(MatrixRef X) const {
  Eigen::VectorXd h = mean_path_length(X);
  const double c = average_path_length(static_cast<double>(max_samples_used_));
  // c(1) = 0 (a single training row): every path has length 0 and every score is -1.
  for (Eigen::Index i = 0; i < h.size(); ++i) h[i] = -std::exp2(c > 0 ? -h[i] / c : 0.0);
  return h;
}

double IsolationForest::offset() const {
  detail::require_fitted(fitted_, "IsolationForest::offset");
  return offset_;
}

void IsolationForest::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "IsolationForest::save");
  ModelWriter w(kTag, kSchema);
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
    w.f64(node.value);
    w.i32(node.feature);
    w.i32(node.left);
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
    node.value = r.f64("node.value");
    node.feature = r.i32("node.feature");
    node.left = r.i32("node.left");
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
