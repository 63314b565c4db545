// SPDX-License-Identifier: Apache-2.0
// Look-alike prospecting: blocked brute-force kNN, the look-alike model, cross-sell look-alikes.
#include <crmine/campaign/lookalike.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace crmine {
namespace {

constexpr ModelTag kTag = model_tag("LKAL");
constexpr std::uint32_t kSchema = 1;

// Query rows per block, reference rows per block: a 256 x 2048 distance tile (4 MiB) per thread.
constexpr Eigen::Index kQueryBlock = 256;
constexpr Eigen::Index kReferenceBlock = 2048;

using Pair = std::pair<double, std::int64_t>;  // (squared distance, reference row); lexicographic order

void check_finite(const char* where, const char* name, MatrixRef X) {
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j)))
        detail::throw_invalid(where, name, "value ", X(i, j), " at row ", i, ", column ", j, " is not finite");
}

}  // namespace

KNeighbors nearest_neighbors(MatrixRef reference, MatrixRef query, int k, bool exclude_self, int n_threads) {
  const char* where = "nearest_neighbors";
  if (reference.rows() == 0) detail::throw_invalid(where, "reference", "has no rows");
  if (query.cols() != reference.cols())
    detail::throw_invalid(where, "query", "has ", query.cols(), " features, reference has ", reference.cols());
  if (exclude_self && query.rows() != reference.rows())
    detail::throw_invalid(where, "exclude_self", "needs the query rows to be the reference rows");
  const Eigen::Index available = reference.rows() - (exclude_self ? 1 : 0);
  if (k < 1 || k > available)
    detail::throw_invalid(where, "k", "is ", k, "; must be in [1, ", available, "] for ", reference.rows(),
                          " reference rows");
  const Eigen::Index nq = query.rows(), nr = reference.rows();
  const Eigen::VectorXd ref_norm = reference.rowwise().squaredNorm();
  KNeighbors out{RowMatrixXl(nq, k), RowMatrix(nq, k)};
  const Eigen::Index blocks = (nq + kQueryBlock - 1) / kQueryBlock;
  const bool parallel = static_cast<double>(nq) * static_cast<double>(nr) > 1e6;
  detail::ExceptionCollector errors;
#pragma omp parallel num_threads(detail::resolve_threads(n_threads)) if (parallel)
  {
    RowMatrix tile;
    std::vector<std::vector<Pair>> heaps;
#pragma omp for schedule(dynamic, 1)
    for (Eigen::Index b = 0; b < blocks; ++b) {
      errors.run([&] {
        const Eigen::Index q0 = b * kQueryBlock, nb = std::min(kQueryBlock, nq - q0);
        const auto Q = query.middleRows(q0, nb);
        const Eigen::VectorXd q_norm = Q.rowwise().squaredNorm();
        heaps.assign(static_cast<std::size_t>(nb), {});
        for (Eigen::Index r0 = 0; r0 < nr; r0 += kReferenceBlock) {
          const Eigen::Index mr = std::min(kReferenceBlock, nr - r0);
          tile.noalias() = Q * reference.middleRows(r0, mr).transpose();
          for (Eigen::Index i = 0; i < nb; ++i) {
            auto& heap = heaps[static_cast<std::size_t>(i)];
            for (Eigen::Index j = 0; j < mr; ++j) {
              const std::int64_t row = r0 + j;
              if (exclude_self && row == q0 + i) continue;
              const Pair p{std::max(0.0, q_norm[i] + ref_norm[row] - 2 * tile(i, j)), row};
              if (static_cast<int>(heap.size()) < k) {
                heap.push_back(p);
                std::push_heap(heap.begin(), heap.end());
              } else if (p < heap.front()) {
                std::pop_heap(heap.begin(), heap.end());
                heap.back() = p;
                std::push_heap(heap.begin(), heap.end());
              }
            }
          }
        }
        for (Eigen::Index i = 0; i < nb; ++i) {
          auto& heap = heaps[static_cast<std::size_t>(i)];
          std::sort_heap(heap.begin(), heap.end());
          for (int j = 0; j < k; ++j) {
            out.indices(q0 + i, j) = heap[j].second;
            out.distances(q0 + i, j) = std::sqrt(heap[j].first);
          }
        }
      });
    }
  }
  errors.rethrow();
  return out;
}

void validate(const LookAlikeOptions& o) {
  if (o.n_neighbors < 1) detail::throw_invalid("LookAlikeOptions", "n_neighbors", "is ", o.n_neighbors, "; must be >= 1");
}

LookAlike::LookAlike(LookAlikeOptions options) : options_(options) {}

LookAlike& LookAlike::fit(MatrixRef X, LabelRef best, VectorRef value) {
  const char* where = "LookAlike::fit";
  validate(options_);
  if (X.rows() == 0 || X.cols() == 0) detail::throw_invalid(where, "X", "is empty (", X.rows(), " x ", X.cols(), ")");
  check_finite(where, "X", X);
  if (best.size() != X.rows()) detail::throw_invalid(where, "best", "has ", best.size(), " labels for ", X.rows(), " rows");
  if (value.size() != 0 && value.size() != X.rows())
    detail::throw_invalid(where, "value", "has ", value.size(), " entries for ", X.rows(), " rows");
  Eigen::Index n_best = 0;
  for (Eigen::Index i = 0; i < best.size(); ++i) {
    if (best[i] != 0 && best[i] != 1) detail::throw_invalid(where, "best", "label ", best[i], " at row ", i, " is not 0 or 1");
    n_best += best[i];
  }
  if (n_best == 0 || n_best == X.rows())
    detail::throw_invalid(where, "best", n_best == 0 ? "has no best customer" : "has only best customers",
                          "; both groups are needed");
  for (Eigen::Index i = 0; i < value.size(); ++i)
    if (!std::isfinite(value[i])) detail::throw_invalid(where, "value", "entry ", value[i], " at row ", i, " is not finite");
  if (options_.n_neighbors > X.rows())
    detail::throw_invalid(where, "n_neighbors", "is ", options_.n_neighbors, " but only ", X.rows(), " customers were given");

  mean_ = Eigen::VectorXd::Zero(X.cols());
  scale_ = Eigen::VectorXd::Ones(X.cols());
  if (options_.standardize) {
    mean_ = X.colwise().mean().transpose();
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const double sd = std::sqrt((X.col(j).array() - mean_[j]).square().mean());
      scale_[j] = sd > 0 ? sd : 1.0;  // a constant feature carries no distance; keep it unscaled
    }
  }
  fitted_ = true;  // prepare() below needs the scaling
  reference_ = prepare(X, where);
  best_.assign(best.data(), best.data() + best.size());
  value_.assign(static_cast<std::size_t>(X.rows()), 1.0);
  for (Eigen::Index i = 0; i < value.size(); ++i) value_[static_cast<std::size_t>(i)] = value[i];
  rebuild_best();
  return *this;
}

void LookAlike::rebuild_best() {
  std::vector<Eigen::Index> rows;
  for (std::size_t i = 0; i < best_.size(); ++i)
    if (best_[i]) rows.push_back(static_cast<Eigen::Index>(i));
  best_rows_.resize(static_cast<Eigen::Index>(rows.size()), reference_.cols());
  best_value_.clear();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    best_rows_.row(static_cast<Eigen::Index>(r)) = reference_.row(rows[r]);
    best_value_.push_back(value_[static_cast<std::size_t>(rows[r])]);
  }
}

RowMatrix LookAlike::prepare(MatrixRef X, const char* where) const {
  if (!fitted_) throw NotFittedError(detail::concat(where, ": this LookAlike is not fitted yet; call fit first"));
  if (X.cols() != mean_.size())
    detail::throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", mean_.size());
  check_finite(where, "X", X);
  RowMatrix Z = (X.rowwise() - mean_.transpose()).array().rowwise() / scale_.transpose().array();
  return Z;
}

KNeighbors LookAlike::kneighbors(MatrixRef prospects, int k) const {
  const RowMatrix Z = prepare(prospects, "LookAlike::kneighbors");
  return nearest_neighbors(reference_, Z, k, false, options_.n_threads);
}

Eigen::VectorXd LookAlike::similar_value(MatrixRef prospects) const {
  const RowMatrix Z = prepare(prospects, "LookAlike::similar_value");
  const int k = static_cast<int>(std::min<Eigen::Index>(options_.n_neighbors, best_rows_.rows()));
  const auto nb = nearest_neighbors(best_rows_, Z, k, false, options_.n_threads);
  Eigen::VectorXd out(Z.rows());
  for (Eigen::Index i = 0; i < Z.rows(); ++i) {
    double s = 0;
    for (int j = 0; j < k; ++j) s += best_value_[static_cast<std::size_t>(nb.indices(i, j))];
    out[i] = s / k;
  }
  return out;
}

LookAlikeScores LookAlike::score(MatrixRef prospects) const {
  const RowMatrix Z = prepare(prospects, "LookAlike::score");
  const int k = options_.n_neighbors;
  const auto nb = nearest_neighbors(reference_, Z, k, false, options_.n_threads);
  LookAlikeScores out;
  out.p_best.resize(Z.rows());
  for (Eigen::Index i = 0; i < Z.rows(); ++i) {
    int hits = 0;
    for (int j = 0; j < k; ++j) hits += best_[static_cast<std::size_t>(nb.indices(i, j))];
    out.p_best[i] = static_cast<double>(hits) / k;
  }
  out.similar_value = similar_value(prospects);
  out.expected_value = out.p_best.cwiseProduct(out.similar_value);
  return out;
}

void LookAlike::save(std::ostream& out) const {
  if (!fitted_) throw NotFittedError("LookAlike::save: this LookAlike is not fitted yet; call fit first");
  ModelWriter w(kTag, kSchema);
  w.i32(options_.n_neighbors);
  w.boolean(options_.standardize);
  w.i32(options_.n_threads);
  w.f64_vector({mean_.data(), mean_.data() + mean_.size()});
  w.f64_vector({scale_.data(), scale_.data() + scale_.size()});
  w.matrix(reference_);
  w.i32_vector(best_);
  w.f64_vector(value_);
  w.finish(out);
}

LookAlike LookAlike::load(std::istream& in) {
  ModelReader r(in, kTag, kSchema);
  LookAlikeOptions o;
  o.n_neighbors = r.i32("n_neighbors");
  o.standardize = r.boolean("standardize");
  o.n_threads = r.i32("n_threads");
  LookAlike m(o);
  const auto mean = r.f64_vector("mean");
  const auto scale = r.f64_vector("scale");
  m.reference_ = r.matrix("reference");
  m.best_ = r.i32_vector("best");
  m.value_ = r.f64_vector("value");
  r.expect_end();
  const auto n = static_cast<std::size_t>(m.reference_.rows());
  if (mean.size() != static_cast<std::size_t>(m.reference_.cols()) || scale.size() != mean.size())
    r.fail("scale", "feature counts disagree");
  if (m.best_.size() != n || m.value_.size() != n) r.fail("best", "customer counts disagree");
  if (o.n_neighbors < 1 || static_cast<std::size_t>(o.n_neighbors) > n) r.fail("n_neighbors", "out of range");
  std::size_t n_best = 0;
  for (auto b : m.best_) {
    if (b != 0 && b != 1) r.fail("best", "labels must be 0 or 1");
    n_best += static_cast<std::size_t>(b);
  }
  if (n_best == 0) r.fail("best", "no best customer");
  for (double s : scale)
    if (!(s > 0) || !std::isfinite(s)) r.fail("scale", "must be finite and > 0");
  m.mean_ = Eigen::Map<const Eigen::VectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
  m.scale_ = Eigen::Map<const Eigen::VectorXd>(scale.data(), static_cast<Eigen::Index>(scale.size()));
  m.fitted_ = true;
  m.rebuild_best();
  return m;
}

CrossSellScores cross_sell_scores(const RowMatrixXl& neighbors, std::span<const std::int64_t> indptr,
                                  std::span<const std::int64_t> items, std::int64_t n_items, int top_n,
                                  double min_score, int n_threads) {
  const char* where = "cross_sell_scores";
  const auto n = static_cast<std::int64_t>(neighbors.rows());
  if (static_cast<std::int64_t>(indptr.size()) != n + 1)
    detail::throw_invalid(where, "indptr", "has ", indptr.size(), " entries for ", n, " customers (needs n + 1)");
  if (indptr[0] != 0 || indptr[n] != static_cast<std::int64_t>(items.size()))
    detail::throw_invalid(where, "indptr", "must start at 0 and end at the number of items (", items.size(), ")");
  for (std::int64_t r = 0; r < n; ++r)
    if (indptr[r + 1] < indptr[r]) detail::throw_invalid(where, "indptr", "decreases at customer ", r);
  if (n_items < 1) detail::throw_invalid(where, "n_items", "is ", n_items, "; must be >= 1");
  for (std::size_t j = 0; j < items.size(); ++j)
    if (items[j] < 0 || items[j] >= n_items)
      detail::throw_invalid(where, "items", "code ", items[j], " at position ", j, " is outside [0, ", n_items, ")");
  for (Eigen::Index i = 0; i < neighbors.size(); ++i)
    if (neighbors.data()[i] < 0 || neighbors.data()[i] >= n)
      detail::throw_invalid(where, "neighbors", "row index ", neighbors.data()[i], " is outside [0, ", n, ")");
  if (top_n < 1) detail::throw_invalid(where, "top_n", "is ", top_n, "; must be >= 1");
  if (!(min_score >= 0 && min_score <= 1)) detail::throw_invalid(where, "min_score", "is ", min_score, "; must be in [0, 1]");
  const auto k = static_cast<double>(neighbors.cols());

  constexpr std::int64_t kChunk = 1024;
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<CrossSellScores> local(static_cast<std::size_t>(chunks));
#pragma omp parallel num_threads(detail::resolve_threads(n_threads)) if (n * neighbors.cols() > 100000)
  {
    std::vector<std::int32_t> count(static_cast<std::size_t>(n_items), 0);
    std::vector<std::uint8_t> owned(static_cast<std::size_t>(n_items), 0);
    std::vector<std::int64_t> touched;
    std::vector<std::pair<double, std::int64_t>> ranked;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t ch = 0; ch < chunks; ++ch) {
      auto& out = local[static_cast<std::size_t>(ch)];
      for (std::int64_t r = ch * kChunk; r < std::min(n, (ch + 1) * kChunk); ++r) {
        for (auto j = indptr[r]; j < indptr[r + 1]; ++j) owned[items[j]] = 1;
        touched.clear();
        for (Eigen::Index m = 0; m < neighbors.cols(); ++m) {
          const auto nbr = neighbors(r, m);
          // A neighbour counts once per item however often it bought it.
          for (auto j = indptr[nbr]; j < indptr[nbr + 1]; ++j) {
            const auto it = items[j];
            if (owned[it] == 1) continue;
            if (owned[it] == 0 && count[it] == 0) touched.push_back(it);
            if (owned[it] != 2) {
              ++count[it];
              owned[it] = 2;  // seen for this neighbour
            }
          }
          for (auto j = indptr[nbr]; j < indptr[nbr + 1]; ++j)
            if (owned[items[j]] == 2) owned[items[j]] = 0;
        }
        ranked.clear();
        for (auto it : touched) {
          const double s = count[it] / k;
          if (s >= min_score) ranked.emplace_back(-s, it);
          count[it] = 0;
        }
        const auto keep = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(top_n));
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end());
        for (std::size_t t = 0; t < keep; ++t) {
          out.customer.push_back(r);
          out.item.push_back(ranked[t].second);
          out.score.push_back(-ranked[t].first);
        }
        for (auto j = indptr[r]; j < indptr[r + 1]; ++j) owned[items[j]] = 0;
      }
    }
  }
  CrossSellScores all;
  for (auto& l : local) {
    all.customer.insert(all.customer.end(), l.customer.begin(), l.customer.end());
    all.item.insert(all.item.end(), l.item.begin(), l.item.end());
    all.score.insert(all.score.end(), l.score.begin(), l.score.end());
  }
  return all;
}

}  // namespace crmine
