// SPDX-License-Identifier: Apache-2.0
// KPrototypes and KModes (Huang 1998): batch iterations over mixed numeric/categorical rows.
#include <crmine/cluster/kprototypes.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "kmeans_impl.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace {

/// Prototypes plus what the dissimilarity needs.
struct Prototypes {
  RowMatrix num;     // k x p
  RowMatrixXi cat;   // k x q
  double gamma = 1;

  double cost(MatrixRef Xn, MatrixXiRef Xc, Eigen::Index i, Eigen::Index j) const {
    double s = Xn.cols() ? detail::squared_distance(Xn.row(i).data(), num.row(j).data(), Xn.cols()) : 0.0;
    int mismatches = 0;
    for (Eigen::Index c = 0; c < Xc.cols(); ++c) mismatches += Xc(i, c) != cat(j, c);
    return s + gamma * mismatches;
  }
};

struct MixedRun {
  Prototypes protos;
  Eigen::VectorXi labels;
  double cost = 0;
  int n_iter = 0;
  bool converged = false;
};

/// Index with probability values[i] / sum(values); sequential scan (seeding is O(k n) anyway).
Eigen::Index draw(const Eigen::VectorXd& values, double total, Random& rng) {
  double target = rng.uniform() * total;
  Eigen::Index last = -1;
  for (Eigen::Index i = 0; i < values.size(); ++i) {
    if (values[i] <= 0) continue;
    last = i;
    if (target < values[i]) return i;
    target -= values[i];
  }
  return last;
}

double chunked_sum(const Eigen::VectorXd& v) {
  double total = 0;
  for (Eigen::Index c = 0; c < detail::chunk_count(v.size()); ++c) {
    const Eigen::Index b = c * detail::kChunkRows;
    total += v.segment(b, std::min(v.size(), b + detail::kChunkRows) - b).sum();
  }
  return total;
}

Prototypes seed(MatrixRef Xn, MatrixXiRef Xc, const Eigen::VectorXd& w, int k, double gamma, KPrototypesInit init,
                Random& rng, int n_threads, const char* where) {
  const Eigen::Index n = w.size();
  Prototypes p{RowMatrix(k, Xn.cols()), RowMatrixXi(k, Xc.cols()), gamma};
  Eigen::VectorXd closest = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
  Eigen::VectorXd values = w;
  for (int j = 0; j < k; ++j) {
    const double total = chunked_sum(values);
    if (!(total > 0))
      detail::throw_invalid(where, "n_clusters", k, " exceeds the number of distinct rows with positive weight (", j, ")");
    const Eigen::Index pick = draw(values, total, rng);
    p.num.row(j) = Xn.row(pick);
    p.cat.row(j) = Xc.row(pick);
    detail::for_each_chunk(n, n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
      for (Eigen::Index i = b; i < e; ++i) {
        closest[i] = std::min(closest[i], p.cost(Xn, Xc, i, j));
        // k-means++: D^2 weighting; random: uniform over rows not yet equal to a prototype.
        values[i] = init == KPrototypesInit::kmeans_plus_plus ? w[i] * closest[i] : (w[i] > 0 && closest[i] > 0 ? 1.0 : 0.0);
      }
    });
  }
  return p;
}

/// Assigns every row; returns whether a label changed; fills per-chunk statistics for the update.
struct Stats {
  Eigen::Index k, p, levels;
  std::vector<double> data;  // per chunk: k x (p numeric sums, 1 weight, levels category weights)
  Eigen::Index stride() const { return k * (p + 1 + levels); }
};

MixedRun iterate(MatrixRef Xn, MatrixXiRef Xc, const Eigen::VectorXd& w, Prototypes protos,
                 const std::vector<std::int32_t>& n_cat, const KPrototypesOptions& o) {
  const Eigen::Index n = w.size(), p = Xn.cols(), q = Xc.cols(), k = protos.num.rows();
  std::vector<Eigen::Index> offset(static_cast<std::size_t>(q) + 1, 0);
  for (Eigen::Index c = 0; c < q; ++c) offset[c + 1] = offset[c] + n_cat[c];
  const Eigen::Index n_chunks = detail::chunk_count(n);
  Stats st{k, p, offset[q], {}};
  st.data.assign(static_cast<std::size_t>(n_chunks * st.stride()), 0.0);
  std::vector<double> chunk_cost(static_cast<std::size_t>(n_chunks));
  std::vector<char> chunk_changed(static_cast<std::size_t>(n_chunks));
  MixedRun run;
  run.labels = Eigen::VectorXi::Constant(n, -1);

  auto assign = [&]() {
    std::fill(st.data.begin(), st.data.end(), 0.0);
    std::fill(chunk_changed.begin(), chunk_changed.end(), 0);
    detail::for_each_chunk(n, o.n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double* acc = st.data.data() + c * st.stride();
      double cost = 0;
      for (Eigen::Index i = b; i < e; ++i) {
        int best = 0;
        double best_cost = std::numeric_limits<double>::infinity();
        for (Eigen::Index j = 0; j < k; ++j) {
          const double cj = protos.cost(Xn, Xc, i, j);
          if (cj < best_cost) best_cost = cj, best = static_cast<int>(j);
        }
        if (run.labels[i] != best) chunk_changed[c] = 1, run.labels[i] = best;
        cost += w[i] * best_cost;
        double* slot = acc + best * (p + 1 + st.levels);
        for (Eigen::Index f = 0; f < p; ++f) slot[f] += w[i] * Xn(i, f);
        slot[p] += w[i];
        for (Eigen::Index f = 0; f < q; ++f) slot[p + 1 + offset[f] + Xc(i, f)] += w[i];
      }
      chunk_cost[c] = cost;
    });
    run.cost = 0;
    for (double v : chunk_cost) run.cost += v;
    return std::find(chunk_changed.begin(), chunk_changed.end(), 1) != chunk_changed.end();
  };
  auto update = [&]() {
    std::vector<double> total(static_cast<std::size_t>(st.stride()), 0.0);
    for (Eigen::Index c = 0; c < n_chunks; ++c)
      for (Eigen::Index t = 0; t < st.stride(); ++t) total[t] += st.data[c * st.stride() + t];
    for (Eigen::Index j = 0; j < k; ++j) {
      const double* slot = total.data() + j * (p + 1 + st.levels);
      if (!(slot[p] > 0)) continue;  // an empty cluster keeps its prototype
      for (Eigen::Index f = 0; f < p; ++f) protos.num(j, f) = slot[f] / slot[p];
      for (Eigen::Index f = 0; f < q; ++f) {
        const double* counts = slot + p + 1 + offset[f];
        std::int32_t mode = 0;
        for (std::int32_t v = 1; v < n_cat[f]; ++v)
          if (counts[v] > counts[mode]) mode = v;  // ties go to the lowest code
        protos.cat(j, f) = mode;
      }
    }
  };
  assign();
  for (int it = 1; it <= o.max_iter; ++it) {
    update();
    run.n_iter = it;
    if (!assign()) {
      run.converged = true;
      break;
    }
  }
  run.protos = std::move(protos);
  return run;
}

}  // namespace

void validate(const KPrototypesOptions& o) {
  constexpr const char* where = "KPrototypes";
  if (o.n_clusters < 1) detail::throw_invalid(where, "n_clusters", "must be >= 1, got ", o.n_clusters);
  if (!std::isfinite(o.gamma)) detail::throw_invalid(where, "gamma", "must be finite (negative = estimate), got ", o.gamma);
  if (o.n_init < 1) detail::throw_invalid(where, "n_init", "must be >= 1, got ", o.n_init);
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "must be >= 1, got ", o.max_iter);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
  if (static_cast<int>(o.init) > 1) detail::throw_invalid(where, "init", "unknown value ", static_cast<int>(o.init));
}

KPrototypes::KPrototypes(KPrototypesOptions options) : options_(options) {}

KPrototypes& KPrototypes::fit(MatrixRef X_num, MatrixXiRef X_cat, VectorRef sample_weight) {
  return fit_impl(X_num, X_cat, sample_weight, "KPrototypes::fit", false);
}

KPrototypes& KPrototypes::fit_impl(MatrixRef Xn, MatrixXiRef Xc, VectorRef sample_weight, const char* where, bool modes_only) {
  validate(options_);
  if (Xn.cols() == 0 && Xc.cols() == 0) detail::throw_invalid(where, "X", "has no numeric and no categorical columns");
  const Eigen::Index n = Xn.cols() ? Xn.rows() : Xc.rows();
  if (n == 0) detail::throw_invalid(where, "X", "is empty (0 rows)");
  if (Xn.cols() && Xc.cols() && Xn.rows() != Xc.rows())
    detail::throw_invalid(where, "X_cat", "has ", Xc.rows(), " rows, X_num has ", Xn.rows());
  if (Xn.cols()) detail::check_data(where, "X_num", Xn);
  std::vector<std::int32_t> n_cat(static_cast<std::size_t>(Xc.cols()), 0);
  for (Eigen::Index i = 0; i < Xc.rows(); ++i)
    for (Eigen::Index c = 0; c < Xc.cols(); ++c) {
      const std::int32_t v = Xc(i, c);
      if (v < 0) detail::throw_invalid(where, "X_cat", "has a negative (missing?) code ", v, " at row ", i, ", column ", c);
      n_cat[c] = std::max(n_cat[c], v + 1);
    }
  const Eigen::VectorXd w = detail::checked_weights(where, sample_weight, n);
  if (options_.n_clusters > n) detail::throw_invalid(where, "n_clusters", options_.n_clusters, " exceeds the number of rows (", n, ")");
  // Empty views of the right height keep the kernels branch-free.
  const RowMatrix no_num(n, 0);
  const RowMatrixXi no_cat(n, 0);
  const MatrixRef xn = Xn.cols() ? Xn : MatrixRef(no_num);
  const MatrixXiRef xc = Xc.cols() ? Xc : MatrixXiRef(no_cat);

  double gamma = 1.0;
  if (!modes_only && xn.cols() && xc.cols()) {
    if (options_.gamma >= 0) {
      gamma = options_.gamma;
    } else {
      const double total = w.sum();
      double sd_sum = 0;
      for (Eigen::Index f = 0; f < xn.cols(); ++f) {
        const double mean = w.dot(xn.col(f)) / total;
        sd_sum += std::sqrt(w.dot((xn.col(f).array() - mean).square().matrix()) / total);
      }
      gamma = 0.5 * sd_sum / static_cast<double>(xn.cols());
      if (!(gamma > 0)) gamma = 1.0;  // constant numeric columns: only categories separate rows
    }
  }
  MixedRun best;
  best.cost = std::numeric_limits<double>::infinity();
  for (int r = 0; r < options_.n_init; ++r) {
    Random rng(options_.seed, static_cast<std::uint64_t>(r));
    Prototypes start = seed(xn, xc, w, options_.n_clusters, gamma, options_.init, rng, options_.n_threads, where);
    MixedRun run = iterate(xn, xc, w, std::move(start), n_cat, options_);
    if (run.cost < best.cost) {
      best = std::move(run);
      report_.best_init = r;
    }
  }
  num_centroids_ = std::move(best.protos.num);
  cat_centroids_ = std::move(best.protos.cat);
  n_categories_ = std::move(n_cat);
  gamma_ = gamma;
  labels_ = std::move(best.labels);
  report_.n_iter = best.n_iter;
  report_.converged = best.converged;
  report_.objective = best.cost;
  fitted_ = true;
  return *this;
}

namespace {
void check_predict_input(const char* where, MatrixRef Xn, MatrixXiRef Xc, const KPrototypes& m) {
  if (Xn.cols() != m.numeric_centroids().cols())
    detail::throw_invalid(where, "X_num", "has ", Xn.cols(), " columns, the model was fitted with ", m.numeric_centroids().cols());
  if (Xc.cols() != m.categorical_centroids().cols())
    detail::throw_invalid(where, "X_cat", "has ", Xc.cols(), " columns, the model was fitted with ", m.categorical_centroids().cols());
  if (Xn.cols() && Xc.cols() && Xn.rows() != Xc.rows())
    detail::throw_invalid(where, "X_cat", "has ", Xc.rows(), " rows, X_num has ", Xn.rows());
  if (Xn.cols()) detail::check_features(where, Xn, Xn.cols());
}
}  // namespace

RowMatrix KPrototypes::transform(MatrixRef X_num, MatrixXiRef X_cat) const {
  detail::require_fitted(fitted_, "KPrototypes::transform");
  check_predict_input("KPrototypes::transform", X_num, X_cat, *this);
  const Eigen::Index n = X_num.cols() ? X_num.rows() : X_cat.rows();
  const RowMatrix no_num(n, 0);
  const RowMatrixXi no_cat(n, 0);
  const MatrixRef xn = X_num.cols() ? X_num : MatrixRef(no_num);
  const MatrixXiRef xc = X_cat.cols() ? X_cat : MatrixXiRef(no_cat);
  const Prototypes p{num_centroids_, cat_centroids_, gamma_};
  RowMatrix out(n, options_.n_clusters);
  detail::for_each_chunk(n, options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i)
      for (Eigen::Index j = 0; j < out.cols(); ++j) out(i, j) = p.cost(xn, xc, i, j);
  });
  return out;
}

Eigen::VectorXi KPrototypes::predict(MatrixRef X_num, MatrixXiRef X_cat) const {
  const RowMatrix d = transform(X_num, X_cat);
  Eigen::VectorXi labels(d.rows());
  for (Eigen::Index i = 0; i < d.rows(); ++i) d.row(i).minCoeff(&labels[i]);
  return labels;
}

double KPrototypes::cost_of(MatrixRef X_num, MatrixXiRef X_cat, VectorRef sample_weight) const {
  const RowMatrix d = transform(X_num, X_cat);
  const Eigen::VectorXd w = detail::checked_weights("KPrototypes::cost_of", sample_weight, d.rows());
  double total = 0;
  for (Eigen::Index i = 0; i < d.rows(); ++i) total += w[i] * d.row(i).minCoeff();
  return total;
}

const FitReport& KPrototypes::report() const {
  detail::require_fitted(fitted_, "KPrototypes::report");
  return report_;
}
const RowMatrix& KPrototypes::numeric_centroids() const {
  detail::require_fitted(fitted_, "KPrototypes::numeric_centroids");
  return num_centroids_;
}
const RowMatrixXi& KPrototypes::categorical_centroids() const {
  detail::require_fitted(fitted_, "KPrototypes::categorical_centroids");
  return cat_centroids_;
}
const std::vector<std::int32_t>& KPrototypes::n_categories() const {
  detail::require_fitted(fitted_, "KPrototypes::n_categories");
  return n_categories_;
}
double KPrototypes::gamma() const {
  detail::require_fitted(fitted_, "KPrototypes::gamma");
  return gamma_;
}
const Eigen::VectorXi& KPrototypes::labels() const {
  detail::require_fitted(fitted_, "KPrototypes::labels");
  return labels_;
}

namespace {
constexpr std::uint32_t kSchema = 1;
}  // namespace

void KPrototypes::save_tagged(std::ostream& out, const char (&tag)[5]) const {
  ModelWriter w(model_tag(tag), kSchema);
  w.i32(options_.n_clusters);
  w.f64(options_.gamma);
  w.u8(static_cast<std::uint8_t>(options_.init));
  w.i32(options_.n_init);
  w.i32(options_.max_iter);
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  w.f64(gamma_);
  w.i32_vector(n_categories_);
  detail::write_fit_report(w, report_);
  w.matrix(num_centroids_);
  w.u64(static_cast<std::uint64_t>(cat_centroids_.rows()));
  w.u64(static_cast<std::uint64_t>(cat_centroids_.cols()));
  w.i32_vector(std::vector<std::int32_t>(cat_centroids_.data(), cat_centroids_.data() + cat_centroids_.size()));
  w.finish(out);
}

KPrototypes KPrototypes::load_tagged(std::istream& in, const char (&tag)[5]) {
  ModelReader r(in, model_tag(tag), kSchema);
  KPrototypesOptions o;
  o.n_clusters = r.i32("n_clusters");
  o.gamma = r.f64("gamma");
  o.init = static_cast<KPrototypesInit>(r.u8("init"));
  o.n_init = r.i32("n_init");
  o.max_iter = r.i32("max_iter");
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  KPrototypes m(o);
  m.gamma_ = r.f64("gamma_used");
  m.n_categories_ = r.i32_vector("n_categories");
  m.report_ = detail::read_report(r);
  m.num_centroids_ = r.matrix("numeric_centroids");
  const auto rows = r.u64("categorical_centroids.rows");
  const auto cols = r.u64("categorical_centroids.cols");
  const auto values = r.i32_vector("categorical_centroids");
  r.expect_end();
  if (rows != static_cast<std::uint64_t>(o.n_clusters) || cols != m.n_categories_.size() || values.size() != rows * cols ||
      m.num_centroids_.rows() != o.n_clusters || (cols == 0 && m.num_centroids_.cols() == 0))
    r.fail("centroids", "shapes do not match n_clusters and n_categories");
  m.cat_centroids_ = Eigen::Map<const RowMatrixXi>(values.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  m.fitted_ = true;
  return m;
}

void KPrototypes::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "KPrototypes::save");
  save_tagged(out, "KPRO");
}
KPrototypes KPrototypes::load(std::istream& in) { return load_tagged(in, "KPRO"); }

KModes::KModes(KPrototypesOptions options) : model_(options) {}

KModes& KModes::fit(MatrixXiRef X, VectorRef sample_weight) {
  const RowMatrix none(X.rows(), 0);
  model_.fit_impl(none, X, sample_weight, "KModes::fit", true);
  return *this;
}
Eigen::VectorXi KModes::predict(MatrixXiRef X) const {
  detail::require_fitted(model_.is_fitted(), "KModes::predict");
  return model_.predict(RowMatrix(X.rows(), 0), X);
}
RowMatrix KModes::transform(MatrixXiRef X) const {
  detail::require_fitted(model_.is_fitted(), "KModes::transform");
  return model_.transform(RowMatrix(X.rows(), 0), X);
}
void KModes::save(std::ostream& out) const {
  detail::require_fitted(model_.is_fitted(), "KModes::save");
  model_.save_tagged(out, "KMOD");
}
KModes KModes::load(std::istream& in) {
  KModes m;
  m.model_ = KPrototypes::load_tagged(in, "KMOD");
  return m;
}

}  // namespace crmine
