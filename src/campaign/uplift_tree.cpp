// SPDX-License-Identifier: Apache-2.0
// Uplift trees and forests: quantile bins, divergence-gain splits on (treated, control) histograms.
#include <crmine/campaign/uplift.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "../classify/io.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crmine {
namespace {

constexpr ModelTag kTreeTag = model_tag("UPTR");
constexpr ModelTag kForestTag = model_tag("UPRF");
constexpr std::uint32_t kSchema = 1;
/// Quantile cuts are taken from at most this many evenly spaced rows: enough for 255 bins.
constexpr Eigen::Index kCutSampleRows = 200000;

/// Quantile bins; bin b of feature j holds values in (cut[b-1], cut[b]]. Feature-major codes.
struct FeatureBins {
  std::vector<std::vector<double>> cuts;
  std::vector<std::uint8_t> code;  // code[j * n + i]
  Eigen::Index n = 0;
  int n_bins(Eigen::Index j) const { return static_cast<int>(cuts[static_cast<std::size_t>(j)].size()) + 1; }
  const std::uint8_t* column(Eigen::Index j) const { return code.data() + static_cast<std::size_t>(j * n); }
};

FeatureBins bin_features(MatrixRef X, int max_bins, int n_threads) {
  FeatureBins fb;
  fb.n = X.rows();
  const Eigen::Index p = X.cols();
  fb.cuts.resize(static_cast<std::size_t>(p));
  fb.code.resize(static_cast<std::size_t>(p * fb.n));
  const Eigen::Index stride = std::max<Eigen::Index>(1, fb.n / kCutSampleRows);
#pragma omp parallel for schedule(dynamic, 1) num_threads(detail::resolve_threads(n_threads))
  for (Eigen::Index j = 0; j < p; ++j) {
    std::vector<double> v;
    v.reserve(static_cast<std::size_t>(fb.n / stride + 1));
    for (Eigen::Index i = 0; i < fb.n; i += stride) v.push_back(X(i, j));
    std::sort(v.begin(), v.end());
    auto& cut = fb.cuts[static_cast<std::size_t>(j)];
    // Candidate cuts at equal-count positions, moved to the midpoint between distinct values.
    const std::size_t m = v.size();
    for (int q = 1; q < max_bins; ++q) {
      const auto pos = static_cast<std::size_t>(static_cast<double>(q) * static_cast<double>(m) / max_bins);
      const auto hi = std::upper_bound(v.begin() + static_cast<std::ptrdiff_t>(pos), v.end(), v[pos]);
      if (hi == v.end()) break;
      const double c = 0.5 * (*(hi - 1) + *hi);
      if (cut.empty() || c > cut.back()) cut.push_back(c);
    }
    std::uint8_t* out = fb.code.data() + static_cast<std::size_t>(j * fb.n);
    for (Eigen::Index i = 0; i < fb.n; ++i)
      out[i] = static_cast<std::uint8_t>(std::lower_bound(cut.begin(), cut.end(), X(i, j)) - cut.begin());
  }
  return fb;
}

/// Weighted counts of one group of rows: treated rows, treated responders, control, control responders.
struct Stats {
  double nt = 0, yt = 0, nc = 0, yc = 0;
  double n() const { return nt + nc; }
  void add(const Stats& o) { nt += o.nt, yt += o.yt, nc += o.nc, yc += o.yc; }
  Stats minus(const Stats& o) const { return {nt - o.nt, yt - o.yt, nc - o.nc, yc - o.yc}; }
};

/// Shrunk response rates of a node: (responders + n_reg * parent rate) / (rows + n_reg).
struct Rates {
  double t = 0, c = 0;
};

Rates rates_of(const Stats& s, const Rates& parent, double n_reg) {
  return {(s.yt + n_reg * parent.t) / (s.nt + n_reg), (s.yc + n_reg * parent.c) / (s.nc + n_reg)};
}

double divergence(UpliftCriterion criterion, const Rates& r) {
  constexpr double eps = 1e-6;
  const double p = r.t, q = std::clamp(r.c, eps, 1 - eps);
  switch (criterion) {
    case UpliftCriterion::kl: {
      double d = 0.0;
      if (p > 0) d += p * std::log(p / q);
      if (p < 1) d += (1 - p) * std::log((1 - p) / (1 - q));
      return d;
    }
    case UpliftCriterion::ed:
      return 2 * (p - r.c) * (p - r.c);
    case UpliftCriterion::chi:
      return (p - q) * (p - q) / q + (p - q) * (p - q) / (1 - q);
    case UpliftCriterion::ddp:
      return p - r.c;
  }
  return 0.0;
}

struct Split {
  double gain = -std::numeric_limits<double>::infinity();
  Eigen::Index feature = -1;
  int bin = -1;
};

/// Grows one tree over the rows listed in `rows` (each with weight w[i], or 1 when w is empty).
class TreeBuilder {
 public:
  TreeBuilder(const FeatureBins& bins, LabelRef y, LabelRef t, const std::vector<double>& w, const UpliftTreeOptions& o,
              Random rng, int n_threads)
      : bins_(bins), y_(y), t_(t), w_(w), o_(o), rng_(rng), n_threads_(n_threads),
        importances_(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(bins.cuts.size()))) {}

  std::vector<UpliftNode> grow(std::vector<Eigen::Index>& rows) {
    const Stats root = stats_of(rows.data(), rows.data() + rows.size());
    const Rates raw{root.nt > 0 ? root.yt / root.nt : 0.0, root.nc > 0 ? root.yc / root.nc : 0.0};
    node(rows.data(), rows.data() + rows.size(), 0, root, raw);
    return std::move(nodes_);
  }
  const Eigen::VectorXd& importances() const { return importances_; }

 private:
  double weight(Eigen::Index i) const { return w_.empty() ? 1.0 : w_[static_cast<std::size_t>(i)]; }

  Stats stats_of(const Eigen::Index* begin, const Eigen::Index* end) const {
    Stats s;
    for (const Eigen::Index* it = begin; it != end; ++it) {
      const double wi = weight(*it);
      if (t_[*it]) s.nt += wi, s.yt += wi * y_[*it];
      else s.nc += wi, s.yc += wi * y_[*it];
    }
    return s;
  }

  bool leaf_ok(const Stats& s) const {
    return s.n() >= o_.min_samples_leaf && s.nt >= o_.min_samples_treatment && s.nc >= o_.min_samples_treatment;
  }

  /// Gain of splitting `parent` (rates `pr`) into `left` and the rest.
  double gain(const Stats& parent, const Rates& pr, const Stats& left) const {
    const Stats right = parent.minus(left);
    const Rates rl = rates_of(left, pr, o_.n_reg), rr = rates_of(right, pr, o_.n_reg);
    if (o_.criterion == UpliftCriterion::ddp) return std::abs((rl.t - rl.c) - (rr.t - rr.c));
    return left.n() / parent.n() * divergence(o_.criterion, rl) + right.n() / parent.n() * divergence(o_.criterion, rr) -
           divergence(o_.criterion, pr);
  }

  Split best_for_feature(Eigen::Index j, const Eigen::Index* begin, const Eigen::Index* end, const Stats& s,
                         const Rates& r) const {
    const int nb = bins_.n_bins(j);
    std::vector<Stats> hist(static_cast<std::size_t>(nb));
    const std::uint8_t* col = bins_.column(j);
    for (const Eigen::Index* it = begin; it != end; ++it) {
      Stats& h = hist[col[*it]];
      const double wi = weight(*it);
      if (t_[*it]) h.nt += wi, h.yt += wi * y_[*it];
      else h.nc += wi, h.yc += wi * y_[*it];
    }
    Split best;
    Stats left;
    for (int b = 0; b + 1 < nb; ++b) {
      left.add(hist[static_cast<std::size_t>(b)]);
      if (!leaf_ok(left) || !leaf_ok(s.minus(left))) continue;
      const double g = gain(s, r, left);
      if (g > best.gain) best = {g, j, b};
    }
    return best;
  }

  std::int32_t node(Eigen::Index* begin, Eigen::Index* end, int depth, const Stats& s, const Rates& parent) {
    const Rates r = rates_of(s, parent, o_.n_reg);
    const auto id = static_cast<std::int32_t>(nodes_.size());
    UpliftNode nd;
    nd.p_treated = r.t;
    nd.p_control = r.c;
    nd.uplift = r.t - r.c;
    nd.n_treated = s.nt;
    nd.n_control = s.nc;
    nodes_.push_back(nd);
    if (depth >= o_.max_depth || s.n() < 2.0 * o_.min_samples_leaf || s.nt < 2.0 * o_.min_samples_treatment ||
        s.nc < 2.0 * o_.min_samples_treatment)
      return id;
    const Eigen::Index p = static_cast<Eigen::Index>(bins_.cuts.size());
    std::vector<Eigen::Index> features(static_cast<std::size_t>(p));
    std::iota(features.begin(), features.end(), Eigen::Index{0});
    if (o_.max_features < 1.0) {
      const auto k = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::lround(o_.max_features * static_cast<double>(p))));
      for (Eigen::Index a = 0; a < k; ++a)  // partial Fisher-Yates
        std::swap(features[static_cast<std::size_t>(a)],
                  features[static_cast<std::size_t>(a) + rng_.below(static_cast<std::uint64_t>(p - a))]);
      features.resize(static_cast<std::size_t>(k));
      std::sort(features.begin(), features.end());
    }
    std::vector<Split> found(features.size());
    const bool parallel = n_threads_ != 1 && (end - begin) * static_cast<Eigen::Index>(features.size()) > 200000;
#pragma omp parallel for schedule(dynamic, 1) num_threads(parallel ? detail::resolve_threads(n_threads_) : 1)
    for (std::size_t f = 0; f < features.size(); ++f) found[f] = best_for_feature(features[f], begin, end, s, r);
    Split best;
    for (const Split& sp : found)  // in feature order, strict >: ties keep the lowest feature
      if (sp.gain > best.gain) best = sp;
    if (best.feature < 0 || !(best.gain > o_.min_gain)) return id;
    const std::uint8_t* col = bins_.column(best.feature);
    Eigen::Index* mid = std::stable_partition(begin, end, [&](Eigen::Index i) { return col[i] <= best.bin; });
    const Stats left = stats_of(begin, mid);
    importances_[best.feature] += best.gain * s.n();
    const std::int32_t l = node(begin, mid, depth + 1, left, r);
    const std::int32_t rt = node(mid, end, depth + 1, s.minus(left), r);
    UpliftNode& me = nodes_[static_cast<std::size_t>(id)];
    me.feature = static_cast<std::int32_t>(best.feature);
    me.threshold = bins_.cuts[static_cast<std::size_t>(best.feature)][static_cast<std::size_t>(best.bin)];
    me.left = l;
    me.right = rt;
    me.gain = best.gain;
    return id;
  }

  const FeatureBins& bins_;
  LabelRef y_, t_;
  const std::vector<double>& w_;
  const UpliftTreeOptions& o_;
  Random rng_;
  int n_threads_;
  std::vector<UpliftNode> nodes_;
  Eigen::VectorXd importances_;
};

std::int32_t leaf_index(const std::vector<UpliftNode>& nodes, MatrixRef X, Eigen::Index i) {
  std::int32_t k = 0;
  while (nodes[static_cast<std::size_t>(k)].feature >= 0) {
    const UpliftNode& nd = nodes[static_cast<std::size_t>(k)];
    k = X(i, nd.feature) <= nd.threshold ? nd.left : nd.right;
  }
  return k;
}

void check_predict_X(const char* where, MatrixRef X, Eigen::Index n_features) {
  if (X.cols() != n_features) detail::throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", n_features);
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j))) detail::throw_invalid(where, "X", "non-finite value ", X(i, j), " at row ", i, ", column ", j);
}

Eigen::VectorXd normalised(Eigen::VectorXd v) {
  const double total = v.sum();
  if (total > 0) v /= total;
  return v;
}

void write_nodes(ModelWriter& w, const std::vector<UpliftNode>& nodes) {
  w.u64(nodes.size());
  for (const UpliftNode& n : nodes) {
    w.i32(n.feature);
    w.f64(n.threshold);
    w.i32(n.left);
    w.i32(n.right);
    w.f64(n.uplift);
    w.f64(n.p_treated);
    w.f64(n.p_control);
    w.f64(n.n_treated);
    w.f64(n.n_control);
    w.f64(n.gain);
  }
}

std::vector<UpliftNode> read_nodes(ModelReader& r, Eigen::Index n_features) {
  const std::uint64_t count = r.u64("n_nodes");
  if (count == 0) r.fail("n_nodes", "a tree has at least its root");
  std::vector<UpliftNode> nodes;
  for (std::uint64_t k = 0; k < count; ++k) {
    UpliftNode n;
    n.feature = r.i32("node.feature");
    n.threshold = r.f64("node.threshold");
    n.left = r.i32("node.left");
    n.right = r.i32("node.right");
    n.uplift = r.f64("node.uplift");
    n.p_treated = r.f64("node.p_treated");
    n.p_control = r.f64("node.p_control");
    n.n_treated = r.f64("node.n_treated");
    n.n_control = r.f64("node.n_control");
    n.gain = r.f64("node.gain");
    if (n.feature >= n_features || n.feature < -1) r.fail("node.feature", "out of range");
    // Children always follow their parent, so traversal terminates.
    const auto self = static_cast<std::int32_t>(k), size = static_cast<std::int32_t>(count);
    if (n.feature >= 0 && (n.left <= self || n.right <= self || n.left >= size || n.right >= size))
      r.fail("node.left", "child index out of range");
    nodes.push_back(n);
  }
  return nodes;
}

/// The tree options a forest grows each tree with.
UpliftTreeOptions tree_options(const UpliftForestOptions& f) {
  UpliftTreeOptions o;
  o.criterion = f.criterion;
  o.max_depth = f.max_depth;
  o.min_samples_leaf = f.min_samples_leaf;
  o.min_samples_treatment = f.min_samples_treatment;
  o.n_reg = f.n_reg;
  o.min_gain = f.min_gain;
  o.max_bins = f.max_bins;
  o.max_features = f.max_features;
  o.seed = f.seed;
  o.n_threads = 1;
  return o;
}

void write_tree_options(ModelWriter& w, const UpliftTreeOptions& o) {
  w.u8(static_cast<std::uint8_t>(o.criterion));
  w.i32(o.max_depth);
  w.i32(o.min_samples_leaf);
  w.i32(o.min_samples_treatment);
  w.f64(o.n_reg);
  w.f64(o.min_gain);
  w.i32(o.max_bins);
  w.f64(o.max_features);
  w.u64(o.seed);
  w.i32(o.n_threads);
}

UpliftTreeOptions read_tree_options(ModelReader& r) {
  UpliftTreeOptions o;
  const std::uint8_t c = r.u8("criterion");
  if (c > 3) r.fail("criterion", "unknown value");
  o.criterion = static_cast<UpliftCriterion>(c);
  o.max_depth = r.i32("max_depth");
  o.min_samples_leaf = r.i32("min_samples_leaf");
  o.min_samples_treatment = r.i32("min_samples_treatment");
  o.n_reg = r.f64("n_reg");
  o.min_gain = r.f64("min_gain");
  o.max_bins = r.i32("max_bins");
  o.max_features = r.f64("max_features");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  return o;
}

}  // namespace

void validate(const UpliftTreeOptions& o) {
  constexpr const char* w = "UpliftTreeOptions";
  if (o.max_depth < 1) detail::throw_invalid(w, "max_depth", "is ", o.max_depth, "; must be >= 1");
  if (o.min_samples_leaf < 1) detail::throw_invalid(w, "min_samples_leaf", "is ", o.min_samples_leaf, "; must be >= 1");
  if (o.min_samples_treatment < 1)
    detail::throw_invalid(w, "min_samples_treatment", "is ", o.min_samples_treatment, "; must be >= 1");
  if (!(std::isfinite(o.n_reg) && o.n_reg >= 0)) detail::throw_invalid(w, "n_reg", "is ", o.n_reg, "; must be finite and >= 0");
  if (!(std::isfinite(o.min_gain) && o.min_gain >= 0))
    detail::throw_invalid(w, "min_gain", "is ", o.min_gain, "; must be finite and >= 0");
  if (o.max_bins < 2 || o.max_bins > 255) detail::throw_invalid(w, "max_bins", "is ", o.max_bins, "; must be in [2, 255]");
  if (!(o.max_features > 0 && o.max_features <= 1))
    detail::throw_invalid(w, "max_features", "is ", o.max_features, "; must be a share in (0, 1]");
  if (static_cast<std::uint8_t>(o.criterion) > 3) detail::throw_invalid(w, "criterion", "unknown value");
}

void validate(const UpliftForestOptions& o) {
  if (o.n_estimators < 1) detail::throw_invalid("UpliftForestOptions", "n_estimators", "is ", o.n_estimators, "; must be >= 1");
  if (!(o.max_samples > 0 && o.max_samples <= 1))
    detail::throw_invalid("UpliftForestOptions", "max_samples", "is ", o.max_samples, "; must be a share in (0, 1]");
  validate(tree_options(o));
}

UpliftTree::UpliftTree(UpliftTreeOptions options) : options_(options) {}

UpliftTree& UpliftTree::fit(MatrixRef X, LabelRef y, LabelRef treatment) {
  validate(options_);
  detail::check_uplift_fit("UpliftTree::fit", X, y, treatment, false);
  const FeatureBins bins = bin_features(X, options_.max_bins, options_.n_threads);
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(X.rows()));
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  const std::vector<double> unit;
  TreeBuilder builder(bins, y, treatment, unit, options_, Random(options_.seed, 0), options_.n_threads);
  nodes_ = builder.grow(rows);
  importances_ = normalised(builder.importances());
  n_features_ = X.cols();
  fitted_ = true;
  return *this;
}

Eigen::VectorXi UpliftTree::apply(MatrixRef X) const {
  detail::require_fitted(fitted_, "UpliftTree::apply");
  check_predict_X("UpliftTree::apply", X, n_features_);
  Eigen::VectorXi leaf(X.rows());
#pragma omp parallel for schedule(static) num_threads(detail::resolve_threads(options_.n_threads))
  for (Eigen::Index i = 0; i < X.rows(); ++i) leaf[i] = leaf_index(nodes_, X, i);
  return leaf;
}

Eigen::VectorXd UpliftTree::predict(MatrixRef X) const {
  const Eigen::VectorXi leaf = apply(X);
  Eigen::VectorXd out(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) out[i] = nodes_[static_cast<std::size_t>(leaf[i])].uplift;
  return out;
}

const std::vector<UpliftNode>& UpliftTree::nodes() const {
  detail::require_fitted(fitted_, "UpliftTree::nodes");
  return nodes_;
}

const Eigen::VectorXd& UpliftTree::feature_importances() const {
  detail::require_fitted(fitted_, "UpliftTree::feature_importances");
  return importances_;
}

int UpliftTree::n_leaves() const {
  return static_cast<int>(std::count_if(nodes().begin(), nodes().end(), [](const UpliftNode& n) { return n.feature < 0; }));
}

void UpliftTree::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "UpliftTree::save");
  ModelWriter w(kTreeTag, kSchema);
  write_tree_options(w, options_);
  w.i64(n_features_);
  write_nodes(w, nodes_);
  detail::write_vector(w, importances_);
  w.finish(out);
}

UpliftTree UpliftTree::load(std::istream& in) {
  ModelReader r(in, kTreeTag, kSchema);
  UpliftTree m(read_tree_options(r));
  try {
    validate(m.options_);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  m.n_features_ = r.i64("n_features");
  if (m.n_features_ <= 0) r.fail("n_features", "must be positive");
  m.nodes_ = read_nodes(r, m.n_features_);
  m.importances_ = detail::read_vector(r, "feature_importances");
  if (m.importances_.size() != m.n_features_) r.fail("feature_importances", "one per feature expected");
  r.expect_end();
  m.fitted_ = true;
  return m;
}

UpliftForest::UpliftForest(UpliftForestOptions options) : options_(options) {}

UpliftForest& UpliftForest::fit(MatrixRef X, LabelRef y, LabelRef treatment) {
  validate(options_);
  detail::check_uplift_fit("UpliftForest::fit", X, y, treatment, false);
  const FeatureBins bins = bin_features(X, options_.max_bins, options_.n_threads);
  const UpliftTreeOptions to = tree_options(options_);
  const Eigen::Index n = X.rows();
  const auto m = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::lround(options_.max_samples * static_cast<double>(n))));
  std::vector<std::vector<UpliftNode>> trees(static_cast<std::size_t>(options_.n_estimators));
  std::vector<Eigen::VectorXd> importance(trees.size());
  detail::ExceptionCollector errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(detail::resolve_threads(options_.n_threads))
  for (int t = 0; t < options_.n_estimators; ++t) {
    errors.run([&] {
      Random rng(options_.seed, static_cast<std::uint64_t>(t));
      std::vector<double> weight(static_cast<std::size_t>(n), 0.0);
      if (options_.bootstrap) {
        for (Eigen::Index k = 0; k < m; ++k) weight[rng.below(static_cast<std::uint64_t>(n))] += 1.0;
      } else {  // Floyd's sampling of m distinct rows
        for (Eigen::Index k = n - m; k < n; ++k) {
          const auto r = static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(k + 1)));
          weight[weight[r] > 0 ? static_cast<std::size_t>(k) : r] = 1.0;
        }
      }
      std::vector<Eigen::Index> rows;
      rows.reserve(static_cast<std::size_t>(m));
      for (Eigen::Index i = 0; i < n; ++i)
        if (weight[static_cast<std::size_t>(i)] > 0) rows.push_back(i);
      TreeBuilder builder(bins, y, treatment, weight, to, Random(derive_seed(options_.seed, static_cast<std::uint64_t>(t)), 1), 1);
      trees[static_cast<std::size_t>(t)] = builder.grow(rows);
      importance[static_cast<std::size_t>(t)] = builder.importances();
    });
  }
  errors.rethrow();
  importances_ = Eigen::VectorXd::Zero(X.cols());
  for (const auto& v : importance) importances_ += v;  // in tree order, so thread-independent
  importances_ = normalised(importances_);
  trees_ = std::move(trees);
  n_features_ = X.cols();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd UpliftForest::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "UpliftForest::predict");
  check_predict_X("UpliftForest::predict", X, n_features_);
  Eigen::VectorXd out(X.rows());
#pragma omp parallel for schedule(static) num_threads(detail::resolve_threads(options_.n_threads))
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    double sum = 0.0;
    for (const auto& tree : trees_) sum += tree[static_cast<std::size_t>(leaf_index(tree, X, i))].uplift;
    out[i] = sum / static_cast<double>(trees_.size());
  }
  return out;
}

const std::vector<UpliftNode>& UpliftForest::tree(int t) const {
  detail::require_fitted(fitted_, "UpliftForest::tree");
  if (t < 0 || t >= n_trees()) throw std::out_of_range(detail::concat("UpliftForest::tree: t: ", t, " is not in [0, ", n_trees(), ")"));
  return trees_[static_cast<std::size_t>(t)];
}

const Eigen::VectorXd& UpliftForest::feature_importances() const {
  detail::require_fitted(fitted_, "UpliftForest::feature_importances");
  return importances_;
}

void UpliftForest::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "UpliftForest::save");
  ModelWriter w(kForestTag, kSchema);
  w.i32(options_.n_estimators);
  write_tree_options(w, tree_options(options_));
  w.f64(options_.max_samples);
  w.boolean(options_.bootstrap);
  w.i32(options_.n_threads);
  w.i64(n_features_);
  w.u64(trees_.size());
  for (const auto& tree : trees_) write_nodes(w, tree);
  detail::write_vector(w, importances_);
  w.finish(out);
}

UpliftForest UpliftForest::load(std::istream& in) {
  ModelReader r(in, kForestTag, kSchema);
  UpliftForestOptions o;
  o.n_estimators = r.i32("n_estimators");
  const UpliftTreeOptions to = read_tree_options(r);
  o.criterion = to.criterion;
  o.max_depth = to.max_depth;
  o.min_samples_leaf = to.min_samples_leaf;
  o.min_samples_treatment = to.min_samples_treatment;
  o.n_reg = to.n_reg;
  o.min_gain = to.min_gain;
  o.max_bins = to.max_bins;
  o.max_features = to.max_features;
  o.seed = to.seed;
  o.max_samples = r.f64("max_samples");
  o.bootstrap = r.boolean("bootstrap");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  UpliftForest m(o);
  m.n_features_ = r.i64("n_features");
  if (m.n_features_ <= 0) r.fail("n_features", "must be positive");
  const std::uint64_t n_trees = r.u64("n_trees");
  if (n_trees != static_cast<std::uint64_t>(o.n_estimators)) r.fail("n_trees", "differs from n_estimators");
  for (std::uint64_t t = 0; t < n_trees; ++t) m.trees_.push_back(read_nodes(r, m.n_features_));
  m.importances_ = detail::read_vector(r, "feature_importances");
  if (m.importances_.size() != m.n_features_) r.fail("feature_importances", "one per feature expected");
  r.expect_end();
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
