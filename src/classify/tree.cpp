// SPDX-License-Identifier: Apache-2.0
// CART growth by exact best splits, minimal cost-complexity pruning, prediction and rule export.
#include <crmine/classify/tree.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/serialize.hpp>

#include "io.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
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

double impurity(const Stats& s, CartCriterion c) {
  if (s.w <= 0) return 0.0;
  const double m = s.wy / s.w;
  switch (c) {
    case CartCriterion::gini: return 2.0 * m * (1.0 - m);
    case CartCriterion::entropy: {
      double h = 0.0;
      if (m > 0) h -= m * std::log2(m);
      if (m < 1) h -= (1.0 - m) * std::log2(1.0 - m);
      return h;
    }
    case CartCriterion::squared_error: return std::max(0.0, s.wyy / s.w - m * m);
  }
  return 0.0;
}

struct Split {
  double gain = -std::numeric_limits<double>::infinity();  ///< weighted impurity decrease (un-normalised)
  std::int32_t feature = -1;
  double threshold = 0.0;
  bool missing_left = false;
};

class Builder {
 public:
  Builder(MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXd& w, const CartLimits& limits)
      : X_(X), y_(y), w_(w), lim_(limits), index_(static_cast<std::size_t>(X.rows())) {
    std::iota(index_.begin(), index_.end(), Eigen::Index{0});
    total_weight_ = w.sum();
  }

  CartTree run() {
    CartTree tree;
    tree.n_features = X_.cols();
    tree.importances = Eigen::VectorXd::Zero(X_.cols());
    struct Task {
      std::size_t begin, end;
      int depth;
      std::int32_t node;
    };
    std::vector<Task> stack;
    tree.nodes.push_back(make_node(0, index_.size()));
    stack.push_back({0, index_.size(), 0, 0});
    while (!stack.empty()) {
      const Task t = stack.back();
      stack.pop_back();
      TreeNode& node = tree.nodes[static_cast<std::size_t>(t.node)];
      tree.depth = std::max(tree.depth, t.depth);
      const auto n = static_cast<Eigen::Index>(t.end - t.begin);
      if ((lim_.max_depth >= 0 && t.depth >= lim_.max_depth) || n < lim_.min_samples_split ||
          n < 2 * static_cast<Eigen::Index>(lim_.min_samples_leaf) || node.impurity <= 1e-12)
        continue;
      const Split best = find_split(t.begin, t.end, node);
      if (best.feature < 0) continue;
      const double decrease = best.gain / total_weight_;
      if (decrease < lim_.min_impurity_decrease) continue;
      // Partition rows: left = x <= threshold, or missing when missing goes left.
      const auto mid = std::stable_partition(index_.begin() + static_cast<std::ptrdiff_t>(t.begin),
                                             index_.begin() + static_cast<std::ptrdiff_t>(t.end), [&](Eigen::Index i) {
                                               const double v = X_(i, best.feature);
                                               return std::isnan(v) ? best.missing_left : v <= best.threshold;
                                             });
      const auto m = static_cast<std::size_t>(mid - index_.begin());
      const auto left = static_cast<std::int32_t>(tree.nodes.size());
      TreeNode ln = make_node(t.begin, m), rn = make_node(m, t.end);
      TreeNode& parent = tree.nodes[static_cast<std::size_t>(t.node)];
      parent.feature = best.feature;
      parent.threshold = best.threshold;
      parent.missing_left = best.missing_left;
      parent.left = left;
      parent.right = left + 1;
      tree.importances[best.feature] += best.gain;
      tree.nodes.push_back(ln);
      tree.nodes.push_back(rn);
      stack.push_back({m, t.end, t.depth + 1, left + 1});
      stack.push_back({t.begin, m, t.depth + 1, left});
    }
    return tree;
  }

 private:
  TreeNode make_node(std::size_t begin, std::size_t end) const {
    Stats s;
    for (std::size_t k = begin; k < end; ++k) s.add(w_[index_[k]], y_[index_[k]]);
    TreeNode node;
    node.weight = s.w;
    node.n_samples = s.n;
    node.value = s.w > 0 ? s.wy / s.w : 0.0;
    node.impurity = impurity(s, lim_.criterion);
    return node;
  }

  /// Best split of one feature over rows index_[begin, end).
  Split best_for_feature(std::size_t begin, std::size_t end, Eigen::Index j, const Stats& total,
                         std::vector<std::pair<double, Eigen::Index>>& buf) const {
    buf.clear();
    Stats missing;
    for (std::size_t k = begin; k < end; ++k) {
      const Eigen::Index i = index_[k];
      const double v = X_(i, j);
      if (std::isnan(v)) missing.add(w_[i], y_[i]);
      else buf.emplace_back(v, i);
    }
    Split best;
    if (buf.size() < 2) return best;
    std::sort(buf.begin(), buf.end());
    if (buf.front().first == buf.back().first) return best;
    const double parent = total.w * impurity(total, lim_.criterion);
    const Eigen::Index min_leaf = lim_.min_samples_leaf;
    Stats left;
    for (std::size_t k = 0; k + 1 < buf.size(); ++k) {
      const Eigen::Index i = buf[k].second;
      left.add(w_[i], y_[i]);
      if (buf[k].first == buf[k + 1].first) continue;
      for (int side = 0; side < (missing.n > 0 ? 2 : 1); ++side) {
        const Stats l = side ? left + missing : left;
        const Stats r = total - l;
        if (l.n < min_leaf || r.n < min_leaf || l.w <= 0 || r.w <= 0) continue;
        const double gain = parent - l.w * impurity(l, lim_.criterion) - r.w * impurity(r, lim_.criterion);
        if (gain > best.gain) {
          best.gain = gain;
          best.feature = static_cast<std::int32_t>(j);
          double thr = 0.5 * (buf[k].first + buf[k + 1].first);
          if (!(thr < buf[k + 1].first)) thr = buf[k].first;
          best.threshold = thr;
          best.missing_left = side == 1 || (missing.n == 0 && l.w >= r.w);
        }
      }
    }
    return best;
  }

  Split find_split(std::size_t begin, std::size_t end, const TreeNode&) const {
    Stats total;
    for (std::size_t k = begin; k < end; ++k) total.add(w_[index_[k]], y_[index_[k]]);
    const Eigen::Index p = X_.cols();
    std::vector<Split> per_feature(static_cast<std::size_t>(p));
    const bool parallel = (end - begin) * static_cast<std::size_t>(p) >= 200000;
    ExceptionCollector errors;
#pragma omp parallel num_threads(parallel ? resolve_threads(lim_.n_threads) : 1)
    {
      std::vector<std::pair<double, Eigen::Index>> buf;
#pragma omp for schedule(dynamic, 1)
      for (Eigen::Index j = 0; j < p; ++j)
        errors.run([&] { per_feature[static_cast<std::size_t>(j)] = best_for_feature(begin, end, j, total, buf); });
    }
    errors.rethrow();
    Split best;
    for (const Split& s : per_feature)  // strict '>' keeps the lowest feature on ties
      if (s.feature >= 0 && s.gain > best.gain) best = s;
    // Gains within rounding of zero are no split (pure or constant data).
    if (best.feature >= 0 && !(best.gain > 1e-12 * std::max(1.0, total.w))) best.feature = -1;
    return best;
  }

  MatrixRef X_;
  const Eigen::VectorXd& y_;
  const Eigen::VectorXd& w_;
  CartLimits lim_;
  std::vector<Eigen::Index> index_;
  double total_weight_ = 0.0;
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
  tree.saw_missing = X.array().isNaN().any();
  if (limits.ccp_alpha > 0) prune(tree, limits.ccp_alpha);
  const double s = tree.importances.sum();
  if (s > 0) tree.importances /= s;
  return tree;
}

Eigen::VectorXi CartTree::apply(MatrixRef X, int n_threads) const {
  Eigen::VectorXi leaf(X.rows());
#pragma omp parallel for schedule(static) num_threads(resolve_threads(n_threads)) if (X.rows() > 10000)
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    std::int32_t k = 0;
    for (;;) {
      const TreeNode& t = nodes[static_cast<std::size_t>(k)];
      if (t.feature < 0) break;
      const double v = X(i, t.feature);
      k = (std::isnan(v) ? t.missing_left : v <= t.threshold) ? t.left : t.right;
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

std::string cart_rules(const CartTree& tree, const std::vector<std::string>& given, bool classifier, int precision) {
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
    right.push_back(condition(name, t.threshold, false, tree.saw_missing && !t.missing_left, precision));
    terms.push_back(condition(name, t.threshold, true, tree.saw_missing && t.missing_left, precision));
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
  }
  write_vector(w, t.importances);
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
    // Children must point forward so that prediction always terminates.
    if (x.feature >= 0 && (x.feature >= t.n_features || x.left <= static_cast<std::int64_t>(k) || x.right <= static_cast<std::int64_t>(k) ||
                           static_cast<std::uint64_t>(x.left) >= n || static_cast<std::uint64_t>(x.right) >= n))
      r.fail("nodes", concat("node ", k, " has an invalid split"));
    t.nodes.push_back(x);
  }
  t.importances = read_vector(r, "feature_importances");
  if (t.importances.size() != t.n_features) r.fail("feature_importances", "one per feature expected");
  return t;
}

constexpr ModelTag kClassifierTag = model_tag("DTRC");
constexpr ModelTag kRegressorTag = model_tag("DTRR");
constexpr std::uint32_t kSchema = 1;

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
                         options_.min_impurity_decrease, options_.ccp_alpha, options_.n_threads};
  tree_ = detail::build_cart(X, y.cast<double>(), w, lim);
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

RowMatrix DecisionTreeClassifier::predict_proba(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::predict_proba");
  detail::check_predict("DecisionTreeClassifier::predict_proba", X, tree_.n_features, true);
  return detail::two_column_proba(tree_.predict(X, options_.n_threads));
}

Eigen::VectorXi DecisionTreeClassifier::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::predict");
  return (predict_proba(X).col(1).array() > 0.5).cast<int>();
}

Eigen::VectorXi DecisionTreeClassifier::apply(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::apply");
  detail::check_predict("DecisionTreeClassifier::apply", X, tree_.n_features, true);
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
std::string DecisionTreeClassifier::export_rules(const std::vector<std::string>& names, int precision) const {
  detail::require_fitted(fitted_, "DecisionTreeClassifier::export_rules");
  detail::check_feature_names("DecisionTreeClassifier::export_rules", names, tree_.n_features);
  return detail::cart_rules(tree_, names.empty() ? feature_names_ : names, true, precision);
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
                         options_.min_impurity_decrease, options_.ccp_alpha, options_.n_threads};
  tree_ = detail::build_cart(X, Eigen::VectorXd(y), w, lim);
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd DecisionTreeRegressor::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::predict");
  detail::check_predict("DecisionTreeRegressor::predict", X, tree_.n_features, true);
  return tree_.predict(X, options_.n_threads);
}
Eigen::VectorXi DecisionTreeRegressor::apply(MatrixRef X) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::apply");
  detail::check_predict("DecisionTreeRegressor::apply", X, tree_.n_features, true);
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
std::string DecisionTreeRegressor::export_rules(const std::vector<std::string>& names, int precision) const {
  detail::require_fitted(fitted_, "DecisionTreeRegressor::export_rules");
  detail::check_feature_names("DecisionTreeRegressor::export_rules", names, tree_.n_features);
  return detail::cart_rules(tree_, names.empty() ? feature_names_ : names, false, precision);
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
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.tree_.n_features)
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
