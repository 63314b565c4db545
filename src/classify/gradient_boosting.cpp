// SPDX-License-Identifier: Apache-2.0
// Histogram gradient boosting: binning, leaf-wise tree growth on gradient histograms, early stopping.
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/metrics.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "io.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("GBMC");
constexpr std::uint32_t kSchema = 1;

inline double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

/// Quantile bins of every feature; bin b of feature j holds values in (cut[b-1], cut[b]], the last
/// value bin everything above, and bin n_bins(j) the NaNs.
struct Binned {
  std::vector<std::vector<double>> cuts;  // per feature, ascending
  std::vector<std::uint8_t> bins;         // feature-major: bins[j * n + i]
  Eigen::Index n = 0;
  int n_bins(Eigen::Index j) const { return static_cast<int>(cuts[static_cast<std::size_t>(j)].size()) + 1; }
};

Binned make_bins(MatrixRef X, const std::vector<Eigen::Index>& rows, int max_bins, int n_threads) {
  const Eigen::Index p = X.cols();
  Binned b;
  b.n = X.rows();
  b.cuts.resize(static_cast<std::size_t>(p));
  b.bins.resize(static_cast<std::size_t>(p * X.rows()));
#pragma omp parallel for schedule(dynamic, 1) num_threads(detail::resolve_threads(n_threads))
  for (Eigen::Index j = 0; j < p; ++j) {
    std::vector<double> v;
    v.reserve(rows.size());
    for (const Eigen::Index i : rows)
      if (!std::isnan(X(i, j))) v.push_back(X(i, j));
    std::sort(v.begin(), v.end());
    std::vector<double> distinct;
    for (const double x : v)
      if (distinct.empty() || x != distinct.back()) distinct.push_back(x);
    auto& cut = b.cuts[static_cast<std::size_t>(j)];
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
    const auto missing = static_cast<std::uint8_t>(cut.size() + 1);
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      const double x = X(i, j);
      b.bins[static_cast<std::size_t>(j * X.rows() + i)] =
          std::isnan(x) ? missing : static_cast<std::uint8_t>(std::lower_bound(cut.begin(), cut.end(), x) - cut.begin());
    }
  }
  return b;
}

struct Bin {
  double g = 0, h = 0;
  std::int64_t n = 0;
};
using Histogram = std::vector<std::vector<Bin>>;  // per feature, n_bins + 1 (missing last)

struct Candidate {
  double gain = 0;
  std::int32_t feature = -1;
  int bin = 0;  // left = value bins <= bin
  bool missing_left = false;
  Bin left, right;
};

class TreeGrower {
 public:
  TreeGrower(const Binned& data, const std::vector<double>& g, const std::vector<double>& h, const GradientBoostingOptions& o,
             const std::vector<std::int32_t>& features)
      : d_(data), g_(g), h_(h), o_(o), features_(features) {}

  /// Grows one tree on `rows`; returns nodes with leaf values already shrunk; adds gains to `importance`.
  std::vector<TreeNode> grow(std::vector<Eigen::Index> rows, Eigen::VectorXd& importance) {
    struct Leaf {
      std::vector<Eigen::Index> rows;
      Histogram hist;
      Bin total;
      Candidate best;
      std::int32_t node;
      int depth;
    };
    std::vector<TreeNode> nodes(1);
    std::vector<Leaf> open;
    {
      Leaf root{std::move(rows), {}, {}, {}, 0, 0};
      root.hist = histogram(root.rows);
      root.total = sum_of(root.hist);
      root.best = best_split(root.hist, root.total, 0);
      open.push_back(std::move(root));
    }
    std::vector<Leaf> done;
    int n_leaves = 1;
    while (n_leaves < o_.num_leaves) {
      // Best-first: the open leaf with the largest gain (lowest node index on ties).
      std::size_t pick = open.size();
      for (std::size_t k = 0; k < open.size(); ++k)
        if (open[k].best.feature >= 0 && (pick == open.size() || open[k].best.gain > open[pick].best.gain)) pick = k;
      if (pick == open.size()) break;
      Leaf leaf = std::move(open[pick]);
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
      const Candidate& c = leaf.best;
      const std::uint8_t missing_bin = static_cast<std::uint8_t>(d_.n_bins(c.feature));
      const std::uint8_t* col = d_.bins.data() + static_cast<std::size_t>(c.feature) * static_cast<std::size_t>(d_.n);
      std::vector<Eigen::Index> lrows, rrows;
      for (const Eigen::Index i : leaf.rows) {
        const std::uint8_t b = col[i];
        const bool left = b == missing_bin ? c.missing_left : b <= c.bin;
        (left ? lrows : rrows).push_back(i);
      }
      TreeNode& parent = nodes[static_cast<std::size_t>(leaf.node)];
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
      // Histogram of the smaller child; the larger one is the parent minus it.
      const bool left_small = lrows.size() <= rrows.size();
      Histogram small = histogram(left_small ? lrows : rrows);
      Histogram large = std::move(leaf.hist);
      for (std::size_t f = 0; f < large.size(); ++f)
        for (std::size_t b = 0; b < large[f].size(); ++b) {
          large[f][b].g -= small[f][b].g;
          large[f][b].h -= small[f][b].h;
          large[f][b].n -= small[f][b].n;
        }
      Leaf l{std::move(lrows), left_small ? std::move(small) : std::move(large), c.left, {}, lnode, leaf.depth + 1};
      Leaf r{std::move(rrows), left_small ? std::move(large) : std::move(small), c.right, {}, rnode, leaf.depth + 1};
      for (Leaf* x : {&l, &r}) {
        if (o_.max_depth < 0 || x->depth < o_.max_depth) x->best = best_split(x->hist, x->total, x->depth);
        open.push_back(std::move(*x));
      }
      ++n_leaves;
    }
    for (const Leaf& leaf : open) {
      TreeNode& t = nodes[static_cast<std::size_t>(leaf.node)];
      t.value = -o_.learning_rate * leaf.total.g / (leaf.total.h + o_.reg_lambda);
      t.weight = leaf.total.h;
      t.n_samples = leaf.total.n;
    }
    return nodes;
  }

 private:
  Histogram histogram(const std::vector<Eigen::Index>& rows) const {
    const Eigen::Index p = static_cast<Eigen::Index>(d_.cuts.size());
    Histogram hist(static_cast<std::size_t>(p));
#pragma omp parallel for schedule(dynamic, 1) num_threads(detail::resolve_threads(o_.n_threads)) if (rows.size() > 2000)
    for (std::size_t k = 0; k < features_.size(); ++k) {
      const std::int32_t j = features_[k];
      auto& hj = hist[static_cast<std::size_t>(j)];
      hj.assign(static_cast<std::size_t>(d_.n_bins(j) + 1), Bin{});
      const std::uint8_t* col = d_.bins.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(d_.n);
      for (const Eigen::Index i : rows) {
        Bin& b = hj[col[i]];
        b.g += g_[static_cast<std::size_t>(i)];
        b.h += h_[static_cast<std::size_t>(i)];
        ++b.n;
      }
    }
    return hist;
  }

  Bin sum_of(const Histogram& hist) const {
    Bin t;
    for (const Bin& b : hist[static_cast<std::size_t>(features_[0])]) {
      t.g += b.g;
      t.h += b.h;
      t.n += b.n;
    }
    return t;
  }

  double score(const Bin& b) const { return b.g * b.g / (b.h + o_.reg_lambda); }

  Candidate best_split(const Histogram& hist, const Bin& total, int) const {
    Candidate best;
    const double parent = score(total);
    for (const std::int32_t j : features_) {
      const auto& hj = hist[static_cast<std::size_t>(j)];
      const int nb = d_.n_bins(j);
      const Bin miss = hj[static_cast<std::size_t>(nb)];
      Bin left;
      for (int b = 0; b + 1 < nb; ++b) {
        const Bin& x = hj[static_cast<std::size_t>(b)];
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
          if (gain > best.gain && gain > o_.min_split_gain) {
            best = Candidate{gain, j, b, side == 1, l, r};
          }
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
};

double predict_tree(const std::vector<TreeNode>& nodes, MatrixRef X, Eigen::Index i) {
  std::int32_t k = 0;
  for (;;) {
    const TreeNode& t = nodes[static_cast<std::size_t>(k)];
    if (t.feature < 0) return t.value;
    const double v = X(i, t.feature);
    k = (std::isnan(v) ? t.missing_left : v <= t.threshold) ? t.left : t.right;
  }
}

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

  std::vector<Eigen::Index> train, valid;
  if (options_.validation_fraction > 0) {
    const auto is_valid = stratified_split(y, options_.validation_fraction, derive_seed(options_.seed, 0xEA51));
    for (Eigen::Index i = 0; i < n; ++i) (is_valid[static_cast<std::size_t>(i)] ? valid : train).push_back(i);
  } else {
    train.resize(static_cast<std::size_t>(n));
    std::iota(train.begin(), train.end(), Eigen::Index{0});
  }
  const Binned data = make_bins(X, train, options_.max_bins, options_.n_threads);

  double wpos = 0, wall = 0;
  for (const Eigen::Index i : train) {
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

  for (int round = 0; round < options_.n_estimators; ++round) {
    for (const Eigen::Index i : train) {
      const double q = sigmoid(raw[static_cast<std::size_t>(i)]);
      g[static_cast<std::size_t>(i)] = w[i] * (q - y[i]);
      h[static_cast<std::size_t>(i)] = w[i] * q * (1.0 - q);
    }
    std::vector<Eigen::Index> rows = train;
    if (options_.subsample < 1.0) {
      Random rng(options_.seed, 2 * static_cast<std::uint64_t>(round) + 1);
      std::vector<Eigen::Index> kept;
      for (const Eigen::Index i : rows)
        if (rng.uniform() < options_.subsample) kept.push_back(i);
      if (kept.size() >= 2) rows = std::move(kept);
    }
    std::vector<std::int32_t> features = all_features;
    if (options_.colsample_bytree < 1.0) {
      Random rng(options_.seed, 2 * static_cast<std::uint64_t>(round) + 2);
      for (std::size_t k = features.size(); k > 1; --k) std::swap(features[k - 1], features[rng.below(k)]);
      features.resize(std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(options_.colsample_bytree * static_cast<double>(p)))));
      std::sort(features.begin(), features.end());
    }
    TreeGrower grower(data, g, h, options_, features);
    trees_.push_back(grower.grow(std::move(rows), importances_));
    const auto& tree = trees_.back();
#pragma omp parallel for schedule(static) num_threads(detail::resolve_threads(options_.n_threads)) if (n > 20000)
    for (Eigen::Index i = 0; i < n; ++i) raw[static_cast<std::size_t>(i)] += predict_tree(tree, X, i);
    if (!valid.empty()) {
      double loss = 0, wv = 0;
      for (const Eigen::Index i : valid) {
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
  Eigen::VectorXd raw(X.rows());
#pragma omp parallel for schedule(static) num_threads(detail::resolve_threads(options_.n_threads)) if (X.rows() > 5000)
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    double z = init_score_;
    for (const auto& tree : trees_) z += predict_tree(tree, X, i);
    raw[i] = z;
  }
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
