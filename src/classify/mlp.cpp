// SPDX-License-Identifier: Apache-2.0
// Multi-layer perceptron: Glorot initialisation, mini-batch Adam, early stopping, thread-invariant sums.
#include <crmine/classify/mlp.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "io.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <numeric>
#include <ostream>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace crmine {
namespace {

constexpr ModelTag kClassifierTag = model_tag("MLPC");
constexpr ModelTag kRegressorTag = model_tag("MLPR");
constexpr std::uint32_t kSchema = 1;

// Independent random streams of the seed: initial weights, validation split, one per epoch shuffle.
constexpr std::uint64_t kInitStream = 0, kSplitStream = 1, kShuffleStream = 2;

/// A mini-batch of `rows` rows is cut into chunks by its size alone (never by the thread count):
/// one chunk per kStepWork (rows x parameters, about a millisecond of work), each at least
/// kMinChunkRows rows. The gradient is the chunk sums added in chunk order, so its rounding depends
/// on the batch and the network only. Chunks are what threads share out, so a small step runs on
/// one thread: waking a thread the OS has descheduled (a loaded machine) costs more than it saves.
constexpr Eigen::Index kStepWork = Eigen::Index{1} << 20;
constexpr Eigen::Index kMinChunkRows = 32;
/// Rows scored together at prediction time (rows are independent there).
constexpr Eigen::Index kPredictChunk = 1024;
/// Parameters updated together by one task of the Adam step.
constexpr Eigen::Index kParamBlock = 4096;

/// Eigen splits a large product over threads by itself unless it already runs inside a team of
/// more than one thread. Limiting this task's nested teams to one thread keeps every product on
/// one thread, so a single-thread fit rounds exactly like a multi-thread one. The setting belongs
/// to the calling implicit task and ends with the enclosing parallel region.
inline void one_thread_per_product() {
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}

using ConstMap = Eigen::Map<const RowMatrix>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXd>;

/// Views of every layer's weights and biases, from a fitted network or the flat training vector.
struct Weights {
  std::vector<ConstMap> W;
  std::vector<ConstVecMap> b;
};

Weights views_of(const detail::MLPNetwork& net) {
  Weights w;
  for (std::size_t l = 0; l < net.coefs.size(); ++l) {
    w.W.emplace_back(net.coefs[l].data(), net.coefs[l].rows(), net.coefs[l].cols());
    w.b.emplace_back(net.intercepts[l].data(), net.intercepts[l].size());
  }
  return w;
}

/// Where each layer lives in the flat parameter vector: W_0, b_0, W_1, b_1, ...
struct Layout {
  std::vector<Eigen::Index> units;  // inputs, hidden layers..., outputs
  std::vector<Eigen::Index> w_offset, b_offset;
  Eigen::Index size = 0;

  explicit Layout(std::vector<Eigen::Index> u) : units(std::move(u)) {
    for (std::size_t l = 0; l + 1 < units.size(); ++l) {
      w_offset.push_back(size);
      size += units[l] * units[l + 1];
      b_offset.push_back(size);
      size += units[l + 1];
    }
  }
  std::size_t n_layers() const { return w_offset.size(); }
  Weights views(const Eigen::VectorXd& theta) const {
    Weights w;
    for (std::size_t l = 0; l < n_layers(); ++l) {
      w.W.emplace_back(theta.data() + w_offset[l], units[l], units[l + 1]);
      w.b.emplace_back(theta.data() + b_offset[l], units[l + 1]);
    }
    return w;
  }
};

void activate(MLPActivation a, RowMatrix& Z) {
  switch (a) {
    case MLPActivation::identity: return;
    case MLPActivation::logistic: Z = (1.0 + (-Z.array()).exp()).inverse().matrix(); return;
    case MLPActivation::tanh: Z = Z.array().tanh().matrix(); return;
    case MLPActivation::relu: Z = Z.cwiseMax(0.0); return;
  }
}

/// D *= f'(.) written in terms of the activation's output A (as scikit-learn does).
void backpropagate_activation(MLPActivation a, const RowMatrix& A, RowMatrix& D) {
  switch (a) {
    case MLPActivation::identity: return;
    case MLPActivation::logistic: D.array() *= A.array() * (1.0 - A.array()); return;
    case MLPActivation::tanh: D.array() *= 1.0 - A.array().square(); return;
    case MLPActivation::relu: D = (A.array() > 0.0).select(D, 0.0); return;
  }
}

void activate_output(detail::MLPOutput out, RowMatrix& Z) {
  switch (out) {
    case detail::MLPOutput::identity: return;
    case detail::MLPOutput::logistic: activate(MLPActivation::logistic, Z); return;
    case detail::MLPOutput::softmax: {
      const Eigen::VectorXd top = Z.rowwise().maxCoeff();
      Z.array().colwise() -= top.array();
      Z = Z.array().exp().matrix();
      const Eigen::VectorXd total = Z.rowwise().sum();
      Z.array().colwise() /= total.array();
      return;
    }
  }
}

/// Runs standardised rows A through every layer; on return A holds the output activations.
void propagate(const Weights& w, MLPActivation act, detail::MLPOutput out, RowMatrix& A, RowMatrix& Z) {
  const std::size_t L = w.W.size();
  for (std::size_t l = 0; l < L; ++l) {
    Z.resize(A.rows(), w.W[l].cols());
    Z.noalias() = A * w.W[l];
    Z.rowwise() += w.b[l].transpose();
    if (l + 1 < L) activate(act, Z);
    else activate_output(out, Z);
    A.swap(Z);
  }
}

/// Output activations of rows of X, in parallel chunks of rows; with `mean` and `scale` the rows
/// are raw and standardised chunk by chunk, otherwise they are standardised already.
RowMatrix forward_rows(const Weights& w, MLPActivation act, detail::MLPOutput out, MatrixRef X, const Eigen::VectorXd* mean,
                       const Eigen::VectorXd* scale, int n_threads) {
  const Eigen::Index n = X.rows(), nc = (n + kPredictChunk - 1) / kPredictChunk;
  RowMatrix result(n, w.W.back().cols());
  const int threads = static_cast<int>(std::min<Eigen::Index>(detail::resolve_threads(n_threads), std::max<Eigen::Index>(nc, 1)));
#pragma omp parallel num_threads(threads)
  {
    one_thread_per_product();
    RowMatrix A, Z;
#pragma omp for schedule(dynamic, 1)
    for (Eigen::Index c = 0; c < nc; ++c) {
      const Eigen::Index begin = c * kPredictChunk, rows = std::min(kPredictChunk, n - begin);
      if (mean) A = ((X.middleRows(begin, rows).rowwise() - mean->transpose()).array().rowwise() / scale->transpose().array()).matrix();
      else A = X.middleRows(begin, rows);
      propagate(w, act, out, A, Z);
      result.middleRows(begin, rows) = A;
    }
  }
  return result;
}

/// Per-row loss of one output row against its target row (scikit-learn's clipped log-loss).
double row_loss(detail::MLPOutput out, const double* p, const double* t, Eigen::Index k) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  switch (out) {
    case detail::MLPOutput::identity: {
      const double d = p[0] - t[0];
      return 0.5 * d * d;
    }
    case detail::MLPOutput::logistic: {
      const double q = std::clamp(p[0], eps, 1.0 - eps);
      return -(t[0] * std::log(q) + (1.0 - t[0]) * std::log(1.0 - q));
    }
    case detail::MLPOutput::softmax: {
      double s = 0.0;
      for (Eigen::Index j = 0; j < k; ++j)
        if (t[j] != 0.0) s -= t[j] * std::log(std::clamp(p[j], eps, 1.0 - eps));
      return s;
    }
  }
  return 0.0;
}

/// Classes from output activations: P(y=1) > 0.5 for one logistic unit, else the first largest.
Eigen::VectorXi classes_of(const RowMatrix& P) {
  Eigen::VectorXi label(P.rows());
  for (Eigen::Index i = 0; i < P.rows(); ++i) {
    if (P.cols() == 1) {
      label[i] = P(i, 0) > 0.5 ? 1 : 0;
    } else {
      Eigen::Index best = 0;
      P.row(i).maxCoeff(&best);
      label[i] = static_cast<int>(best);
    }
  }
  return label;
}

/// Weighted accuracy (classifiers) or R^2 (regressors), the early-stopping scores of scikit-learn.
double validation_score(detail::MLPOutput out, const RowMatrix& P, const RowMatrix& T, const Eigen::VectorXd& w) {
  const Eigen::Index n = P.rows();
  auto weight = [&](Eigen::Index i) { return w.size() ? w[i] : 1.0; };
  if (out == detail::MLPOutput::identity) {
    double total = 0.0, mean = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      total += weight(i);
      mean += weight(i) * T(i, 0);
    }
    mean /= total;
    double res = 0.0, tot = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      res += weight(i) * (T(i, 0) - P(i, 0)) * (T(i, 0) - P(i, 0));
      tot += weight(i) * (T(i, 0) - mean) * (T(i, 0) - mean);
    }
    if (tot == 0.0) return res == 0.0 ? 1.0 : 0.0;
    return 1.0 - res / tot;
  }
  const Eigen::VectorXi predicted = classes_of(P), truth = classes_of(T);
  double right = 0.0, total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    total += weight(i);
    if (predicted[i] == truth[i]) right += weight(i);
  }
  return right / total;
}

/// Held-out rows for early stopping: ceil(fraction x n) of them, stratified by `strata` when given
/// (largest-remainder allocation over classes), each class's rows drawn by a seeded shuffle.
std::vector<bool> validation_rows(Eigen::Index n, const Eigen::VectorXi* strata, double fraction, std::uint64_t seed) {
  const auto n_val = static_cast<Eigen::Index>(std::ceil(fraction * static_cast<double>(n)));
  int k = 1;
  if (strata) k = strata->maxCoeff() + 1;
  std::vector<std::vector<Eigen::Index>> members(static_cast<std::size_t>(k));
  for (Eigen::Index i = 0; i < n; ++i) members[static_cast<std::size_t>(strata ? (*strata)[i] : 0)].push_back(i);
  std::vector<Eigen::Index> take(static_cast<std::size_t>(k));
  std::vector<std::pair<double, int>> remainder;
  Eigen::Index given = 0;
  for (int c = 0; c < k; ++c) {
    const double exact = static_cast<double>(n_val) * static_cast<double>(members[static_cast<std::size_t>(c)].size()) / static_cast<double>(n);
    take[static_cast<std::size_t>(c)] = static_cast<Eigen::Index>(std::floor(exact));
    given += take[static_cast<std::size_t>(c)];
    remainder.emplace_back(-(exact - std::floor(exact)), c);
  }
  std::sort(remainder.begin(), remainder.end());
  for (std::size_t r = 0; given < n_val && r < remainder.size(); ++r, ++given) ++take[static_cast<std::size_t>(remainder[r].second)];
  std::vector<bool> held(static_cast<std::size_t>(n), false);
  Random rng(seed, kSplitStream);
  for (int c = 0; c < k; ++c) {
    auto& rows = members[static_cast<std::size_t>(c)];
    const auto m = static_cast<Eigen::Index>(rows.size());
    for (Eigen::Index i = 0; i < take[static_cast<std::size_t>(c)] && i < m; ++i) {  // partial Fisher-Yates
      const auto j = i + static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(m - i)));
      std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
      held[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])] = true;
    }
  }
  return held;
}

/// Buffers of one chunk of a mini-batch: activations per layer, deltas, its gradient sum.
struct ChunkWork {
  std::vector<RowMatrix> A;
  RowMatrix D, D_prev;
  Eigen::VectorXd grad;
  double loss = 0.0, weight = 0.0;
};

/// scikit-learn's stochastic fit with Adam, on standardised rows.
class Trainer {
 public:
  Trainer(const MLPOptions& o, detail::MLPOutput out, const Layout& layout, const RowMatrix& Z, const RowMatrix& T,
          const Eigen::VectorXd& w)
      : o_(o), out_(out), layout_(layout), Z_(Z), T_(T), w_(w), threads_(detail::resolve_threads(o.n_threads)) {
    theta_ = Eigen::VectorXd::Zero(layout.size);
    decay_ = Eigen::VectorXd::Zero(layout.size);
    Random rng(o.seed, kInitStream);
    const double factor = o.activation == MLPActivation::logistic ? 2.0 : 6.0;
    for (std::size_t l = 0; l < layout.n_layers(); ++l) {
      const Eigen::Index fan_in = layout.units[l], fan_out = layout.units[l + 1];
      const double bound = std::sqrt(factor / static_cast<double>(fan_in + fan_out));
      for (Eigen::Index j = 0; j < fan_in * fan_out + fan_out; ++j) theta_[layout.w_offset[l] + j] = bound * (2.0 * rng.uniform() - 1.0);
      decay_.segment(layout.w_offset[l], fan_in * fan_out).setConstant(o.alpha);
    }
    m_ = Eigen::VectorXd::Zero(layout.size);
    v_ = Eigen::VectorXd::Zero(layout.size);
  }

  const Eigen::VectorXd& theta() const { return theta_; }
  Eigen::VectorXd& theta() { return theta_; }

  /// One Adam step on rows idx[0..rows); returns the batch loss (with the L2 term).
  double step(const Eigen::Index* idx, Eigen::Index rows) {
    const Eigen::Index P = layout_.size;
    const Eigen::Index nc = std::max<Eigen::Index>(1, std::min(rows / kMinChunkRows, rows * P / kStepWork));
    if (static_cast<Eigen::Index>(work_.size()) < nc) work_.resize(static_cast<std::size_t>(nc));
    const Eigen::Index nb = (P + kParamBlock - 1) / kParamBlock;
    sq_part_.assign(static_cast<std::size_t>(nb), 0.0);
    ++t_;
    const double lr = o_.learning_rate_init * std::sqrt(1.0 - std::pow(o_.beta_2, static_cast<double>(t_))) /
                      (1.0 - std::pow(o_.beta_1, static_cast<double>(t_)));
    const Weights w = layout_.views(theta_);
    const int threads = static_cast<int>(std::min(Eigen::Index{threads_}, nc));
#pragma omp parallel num_threads(threads)
    {
      one_thread_per_product();
#pragma omp for schedule(static)
      for (Eigen::Index c = 0; c < nc; ++c) chunk(w, idx, rows * c / nc, rows * (c + 1) / nc, work_[static_cast<std::size_t>(c)]);
      double wsum = 0.0;  // every thread adds the same parts in the same order
      for (Eigen::Index c = 0; c < nc; ++c) wsum += work_[static_cast<std::size_t>(c)].weight;
#pragma omp for schedule(static)
      for (Eigen::Index b = 0; b < nb; ++b) {
        const Eigen::Index j0 = b * kParamBlock, j1 = std::min(P, j0 + kParamBlock);
        double sq = 0.0;
        for (Eigen::Index j = j0; j < j1; ++j) {
          if (decay_[j] != 0.0) sq += theta_[j] * theta_[j];
          double g = work_[0].grad[j];
          for (Eigen::Index c = 1; c < nc; ++c) g += work_[static_cast<std::size_t>(c)].grad[j];
          g = (g + decay_[j] * theta_[j]) / wsum;
          m_[j] = o_.beta_1 * m_[j] + (1.0 - o_.beta_1) * g;
          v_[j] = o_.beta_2 * v_[j] + (1.0 - o_.beta_2) * g * g;
          theta_[j] += -lr * m_[j] / (std::sqrt(v_[j]) + o_.epsilon);
        }
        sq_part_[static_cast<std::size_t>(b)] = sq;
      }
    }
    double loss = 0.0, wsum = 0.0, sq = 0.0;
    for (Eigen::Index c = 0; c < nc; ++c) {
      loss += work_[static_cast<std::size_t>(c)].loss;
      wsum += work_[static_cast<std::size_t>(c)].weight;
    }
    for (double s : sq_part_) sq += s;
    return loss / wsum + 0.5 * o_.alpha * sq / wsum;
  }

 private:
  /// Forward and backward pass of rows idx[begin..end) into `cw` (gradient sums, not means).
  void chunk(const Weights& w, const Eigen::Index* idx, Eigen::Index begin, Eigen::Index end, ChunkWork& cw) const {
    const std::size_t L = layout_.n_layers();
    const Eigen::Index rows = end - begin, k = T_.cols();
    cw.A.resize(L + 1);
    cw.A[0].resize(rows, Z_.cols());
    for (Eigen::Index r = 0; r < rows; ++r) cw.A[0].row(r) = Z_.row(idx[begin + r]);
    for (std::size_t l = 0; l < L; ++l) {
      RowMatrix& Zl = cw.A[l + 1];
      Zl.resize(rows, w.W[l].cols());
      Zl.noalias() = cw.A[l] * w.W[l];
      Zl.rowwise() += w.b[l].transpose();
      if (l + 1 < L) activate(o_.activation, Zl);
      else activate_output(out_, Zl);
    }
    const RowMatrix& out = cw.A[L];
    cw.D.resize(rows, k);
    cw.loss = 0.0;
    cw.weight = 0.0;
    for (Eigen::Index r = 0; r < rows; ++r) {
      const Eigen::Index i = idx[begin + r];
      const double s = w_.size() ? w_[i] : 1.0;
      cw.loss += s * row_loss(out_, &out(r, 0), &T_(i, 0), k);
      cw.weight += s;
      for (Eigen::Index j = 0; j < k; ++j) cw.D(r, j) = s * (out(r, j) - T_(i, j));
    }
    cw.grad.resize(layout_.size);
    for (std::size_t l = L; l-- > 0;) {
      Eigen::Map<RowMatrix> gW(cw.grad.data() + layout_.w_offset[l], layout_.units[l], layout_.units[l + 1]);
      gW.noalias() = cw.A[l].transpose() * cw.D;
      cw.grad.segment(layout_.b_offset[l], layout_.units[l + 1]) = cw.D.colwise().sum().transpose();
      if (l > 0) {
        cw.D_prev.resize(rows, layout_.units[l]);
        cw.D_prev.noalias() = cw.D * w.W[l].transpose();
        backpropagate_activation(o_.activation, cw.A[l], cw.D_prev);
        cw.D.swap(cw.D_prev);
      }
    }
  }

  const MLPOptions& o_;
  detail::MLPOutput out_;
  const Layout& layout_;
  const RowMatrix& Z_;
  const RowMatrix& T_;
  const Eigen::VectorXd& w_;
  int threads_;
  Eigen::VectorXd theta_, decay_, m_, v_;
  std::vector<ChunkWork> work_;
  std::vector<double> sq_part_;
  long long t_ = 0;
};

RowMatrix gather_rows(const RowMatrix& M, const std::vector<Eigen::Index>& rows) {
  RowMatrix out(static_cast<Eigen::Index>(rows.size()), M.cols());
  for (std::size_t r = 0; r < rows.size(); ++r) out.row(static_cast<Eigen::Index>(r)) = M.row(rows[r]);
  return out;
}

Eigen::VectorXd gather(const Eigen::VectorXd& v, const std::vector<Eigen::Index>& rows) {
  if (v.size() == 0) return v;
  Eigen::VectorXd out(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) out[static_cast<Eigen::Index>(r)] = v[rows[r]];
  return out;
}

/// True when `net` (a fitted network) has the shapes a fit of X to `n_out` outputs with `o` builds.
bool shapes_fit(const detail::MLPNetwork& net, const MLPOptions& o, Eigen::Index n_features, Eigen::Index n_out) {
  if (net.n_features() != n_features || net.n_outputs() != n_out || net.coefs.size() != o.hidden_layer_sizes.size() + 1) return false;
  for (std::size_t l = 0; l < o.hidden_layer_sizes.size(); ++l)
    if (net.coefs[l].cols() != o.hidden_layer_sizes[l]) return false;
  return net.activation == o.activation;
}

/// Fits `net` to targets T (one row per row of X; one-hot for softmax). `strata` stratifies the
/// early-stopping split (classifiers). With `warm`, training starts from net's weights and keeps
/// its standardisation (scikit-learn's warm_start: a fresh Adam state, a new loss curve).
void train(detail::MLPNetwork& net, const MLPOptions& o, detail::MLPOutput out, MatrixRef X, const RowMatrix& T,
           VectorRef sample_weight, const Eigen::VectorXi* strata, bool warm, const char* where) {
  const Eigen::Index n = X.rows(), p = X.cols();
  detail::MLPNetwork start;
  if (warm) std::swap(start, net);
  net = detail::MLPNetwork{};
  net.activation = o.activation;
  net.output = out;

  // Moments over all rows, as a StandardScaler in front of the network would compute them.
  net.mean = Eigen::VectorXd::Zero(p);
  net.scale = Eigen::VectorXd::Ones(p);
  if (warm) {
    net.mean = start.mean;
    net.scale = start.scale;
  } else if (o.standardize) {
    net.mean = X.colwise().mean().transpose();
    for (Eigen::Index j = 0; j < p; ++j) {
      const double var = (X.col(j).array() - net.mean[j]).square().mean();
      const double sd = std::sqrt(var);
      net.scale[j] = sd < 10 * std::numeric_limits<double>::epsilon() ? 1.0 : sd;  // constant column: leave it centred
    }
  }
  const RowMatrix Z = ((X.rowwise() - net.mean.transpose()).array().rowwise() / net.scale.transpose().array()).matrix();
  const Eigen::VectorXd w_all = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd();

  std::vector<Eigen::Index> train_rows, val_rows;
  if (o.early_stopping) {
    const auto held = validation_rows(n, strata, o.validation_fraction, o.seed);
    for (Eigen::Index i = 0; i < n; ++i) (held[static_cast<std::size_t>(i)] ? val_rows : train_rows).push_back(i);
    if (val_rows.size() < 2 || train_rows.empty())
      detail::throw_invalid(where, "validation_fraction", o.validation_fraction, " of ", n, " rows leaves ", val_rows.size(),
                            " validation and ", train_rows.size(), " training rows; early stopping needs at least 2 and 1");
  }
  RowMatrix Z_train, T_train, Z_val, T_val;
  Eigen::VectorXd w_train, w_val;
  const bool split = o.early_stopping;
  if (split) {
    Z_train = gather_rows(Z, train_rows);
    T_train = gather_rows(T, train_rows);
    w_train = gather(w_all, train_rows);
    Z_val = gather_rows(Z, val_rows);
    T_val = gather_rows(T, val_rows);
    w_val = gather(w_all, val_rows);
    if (w_train.size() && !(w_train.sum() > 0))
      detail::throw_invalid(where, "sample_weight", "the training part of the early-stopping split has zero total weight");
  }
  const RowMatrix& Zt = split ? Z_train : Z;
  const RowMatrix& Tt = split ? T_train : T;
  const Eigen::VectorXd& wt = split ? w_train : w_all;
  const Eigen::Index n_train = Zt.rows();

  std::vector<Eigen::Index> units{p};
  for (int h : o.hidden_layer_sizes) units.push_back(h);
  units.push_back(T.cols());
  const Layout layout(units);
  Trainer trainer(o, out, layout, Zt, Tt, wt);
  if (warm)
    for (std::size_t l = 0; l < layout.n_layers(); ++l) {
      Eigen::Map<RowMatrix>(trainer.theta().data() + layout.w_offset[l], units[l], units[l + 1]) = start.coefs[l];
      trainer.theta().segment(layout.b_offset[l], units[l + 1]) = start.intercepts[l];
    }
  const Eigen::Index batch = o.batch_size == 0 ? std::min<Eigen::Index>(200, n_train) : std::min<Eigen::Index>(o.batch_size, n_train);

  std::vector<Eigen::Index> order(static_cast<std::size_t>(n_train));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  Eigen::VectorXd best_theta = trainer.theta();
  int no_improvement = 0;
  for (int epoch = 0; epoch < o.max_iter; ++epoch) {
    if (o.shuffle) {
      Random rng(o.seed, kShuffleStream + static_cast<std::uint64_t>(epoch));
      for (Eigen::Index i = n_train - 1; i > 0; --i)
        std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(i + 1)))]);
    }
    double accumulated = 0.0;
    for (Eigen::Index first = 0; first < n_train; first += batch) {
      const Eigen::Index rows = std::min(batch, n_train - first);
      accumulated += trainer.step(order.data() + first, rows) * static_cast<double>(rows);
    }
    const double loss = accumulated / static_cast<double>(n_train);
    if (!std::isfinite(loss))
      throw Error(detail::concat(where, ": the training loss became ", loss, " at epoch ", epoch + 1,
                         "; lower learning_rate_init or check the scale of y"));
    net.loss_curve.push_back(loss);
    net.report.n_iter = epoch + 1;
    if (o.early_stopping) {
      const RowMatrix P = forward_rows(layout.views(trainer.theta()), o.activation, out, Z_val, nullptr, nullptr, o.n_threads);
      const double score = validation_score(out, P, T_val, w_val);
      net.validation_scores.push_back(score);
      no_improvement = score < net.best_validation_score + o.tol ? no_improvement + 1 : 0;
      if (score > net.best_validation_score) {
        net.best_validation_score = score;
        best_theta = trainer.theta();
      }
    } else {
      no_improvement = loss > net.best_loss - o.tol ? no_improvement + 1 : 0;
      net.best_loss = std::min(net.best_loss, loss);
    }
    if (no_improvement > o.n_iter_no_change) {
      net.report.converged = true;
      break;
    }
  }
  if (o.early_stopping) trainer.theta() = best_theta;
  net.report.objective = net.loss_curve.back();

  const Weights w = layout.views(trainer.theta());
  for (std::size_t l = 0; l < layout.n_layers(); ++l) {
    net.coefs.emplace_back(w.W[l]);
    net.intercepts.emplace_back(w.b[l]);
  }
}

void write_options(ModelWriter& w, const MLPOptions& o) {
  w.i32_vector(std::vector<std::int32_t>(o.hidden_layer_sizes.begin(), o.hidden_layer_sizes.end()));
  w.u8(static_cast<std::uint8_t>(o.activation));
  w.f64(o.alpha);
  w.i32(o.batch_size);
  w.f64(o.learning_rate_init);
  w.i32(o.max_iter);
  w.f64(o.tol);
  w.i32(o.n_iter_no_change);
  w.boolean(o.early_stopping);
  w.f64(o.validation_fraction);
  w.f64(o.beta_1);
  w.f64(o.beta_2);
  w.f64(o.epsilon);
  w.boolean(o.shuffle);
  w.boolean(o.standardize);
  w.boolean(o.warm_start);
  w.u64(o.seed);
  // n_threads is not stored: it belongs to the machine that scores, and leaving it out makes
  // files of the same fit at different thread counts byte-identical.
}

MLPOptions read_options(ModelReader& r) {
  MLPOptions o;
  const auto sizes = r.i32_vector("hidden_layer_sizes");
  o.hidden_layer_sizes.assign(sizes.begin(), sizes.end());
  const std::uint8_t act = r.u8("activation");
  if (act > static_cast<std::uint8_t>(MLPActivation::relu)) r.fail("activation", "unknown activation code");
  o.activation = static_cast<MLPActivation>(act);
  o.alpha = r.f64("alpha");
  o.batch_size = r.i32("batch_size");
  o.learning_rate_init = r.f64("learning_rate_init");
  o.max_iter = r.i32("max_iter");
  o.tol = r.f64("tol");
  o.n_iter_no_change = r.i32("n_iter_no_change");
  o.early_stopping = r.boolean("early_stopping");
  o.validation_fraction = r.f64("validation_fraction");
  o.beta_1 = r.f64("beta_1");
  o.beta_2 = r.f64("beta_2");
  o.epsilon = r.f64("epsilon");
  o.shuffle = r.boolean("shuffle");
  o.standardize = r.boolean("standardize");
  o.warm_start = r.boolean("warm_start");
  o.seed = r.u64("seed");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  return o;
}

void write_network(ModelWriter& w, const detail::MLPNetwork& net) {
  detail::write_vector(w, net.mean);
  detail::write_vector(w, net.scale);
  w.u64(net.coefs.size());
  for (std::size_t l = 0; l < net.coefs.size(); ++l) {
    w.matrix(net.coefs[l]);
    detail::write_vector(w, net.intercepts[l]);
  }
  w.f64_vector(net.loss_curve);
  w.f64_vector(net.validation_scores);
  w.f64(net.best_loss);
  w.f64(net.best_validation_score);
  w.i32(net.report.n_iter);
  w.boolean(net.report.converged);
  w.f64(net.report.objective);
  detail::write_strings(w, net.feature_names);
}

/// Reads a network and checks that its shapes chain from the inputs through `hidden` to `n_out` units.
detail::MLPNetwork read_network(ModelReader& r, const MLPOptions& o, detail::MLPOutput out, Eigen::Index n_out) {
  detail::MLPNetwork net;
  net.activation = o.activation;
  net.output = out;
  net.mean = detail::read_vector(r, "mean");
  net.scale = detail::read_vector(r, "scale");
  const std::uint64_t layers = r.u64("n_layers");
  if (layers != o.hidden_layer_sizes.size() + 1) r.fail("n_layers", "does not match hidden_layer_sizes");
  Eigen::Index units = net.mean.size();
  if (units == 0 || net.scale.size() != units) r.fail("scale", "one mean and one scale per feature expected");
  if (!(net.scale.array() > 0).all() || !net.scale.allFinite() || !net.mean.allFinite()) r.fail("scale", "must be finite and > 0");
  for (std::uint64_t l = 0; l < layers; ++l) {
    net.coefs.push_back(r.matrix("coefs"));
    net.intercepts.push_back(detail::read_vector(r, "intercepts"));
    const Eigen::Index next = l + 1 < layers ? o.hidden_layer_sizes[l] : n_out;
    if (net.coefs.back().rows() != units || net.coefs.back().cols() != next || net.intercepts.back().size() != next)
      r.fail("coefs", "layer shapes do not chain from the inputs to the outputs");
    if (!net.coefs.back().allFinite() || !net.intercepts.back().allFinite()) r.fail("coefs", "non-finite weight");
    units = next;
  }
  net.loss_curve = r.f64_vector("loss_curve");
  net.validation_scores = r.f64_vector("validation_scores");
  net.best_loss = r.f64("best_loss");
  net.best_validation_score = r.f64("best_validation_score");
  net.report.n_iter = r.i32("n_iter");
  net.report.converged = r.boolean("converged");
  net.report.objective = r.f64("objective");
  net.feature_names = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (!net.feature_names.empty() && static_cast<Eigen::Index>(net.feature_names.size()) != net.mean.size())
    r.fail("feature_names", "one name per feature expected");
  return net;
}

}  // namespace

void validate(const MLPOptions& o) {
  constexpr const char* where = "MLPOptions";
  if (o.hidden_layer_sizes.empty()) detail::throw_invalid(where, "hidden_layer_sizes", "is empty; give at least one hidden layer");
  for (std::size_t l = 0; l < o.hidden_layer_sizes.size(); ++l)
    if (o.hidden_layer_sizes[l] < 1)
      detail::throw_invalid(where, "hidden_layer_sizes", "layer ", l, " has ", o.hidden_layer_sizes[l], " units; must be >= 1");
  if (!(o.alpha >= 0) || std::isinf(o.alpha)) detail::throw_invalid(where, "alpha", "is ", o.alpha, "; must be finite and >= 0");
  if (o.batch_size < 0) detail::throw_invalid(where, "batch_size", "is ", o.batch_size, "; must be >= 1, or 0 for min(200, n_samples)");
  if (!(o.learning_rate_init > 0) || std::isinf(o.learning_rate_init))
    detail::throw_invalid(where, "learning_rate_init", "is ", o.learning_rate_init, "; must be finite and > 0");
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "is ", o.max_iter, "; must be >= 1");
  if (!(o.tol >= 0) || std::isinf(o.tol)) detail::throw_invalid(where, "tol", "is ", o.tol, "; must be finite and >= 0");
  if (o.n_iter_no_change < 1) detail::throw_invalid(where, "n_iter_no_change", "is ", o.n_iter_no_change, "; must be >= 1");
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1) || (o.early_stopping && o.validation_fraction == 0))
    detail::throw_invalid(where, "validation_fraction", "is ", o.validation_fraction, "; must be in (0, 1)");
  if (!(o.beta_1 >= 0 && o.beta_1 < 1)) detail::throw_invalid(where, "beta_1", "is ", o.beta_1, "; must be in [0, 1)");
  if (!(o.beta_2 >= 0 && o.beta_2 < 1)) detail::throw_invalid(where, "beta_2", "is ", o.beta_2, "; must be in [0, 1)");
  if (!(o.epsilon > 0) || std::isinf(o.epsilon)) detail::throw_invalid(where, "epsilon", "is ", o.epsilon, "; must be finite and > 0");
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "is ", o.n_threads, "; must be >= 0");
}

RowMatrix detail::MLPNetwork::forward(MatrixRef X, int n_threads) const {
  return forward_rows(views_of(*this), activation, output, X, &mean, &scale, n_threads);
}

const detail::MLPNetwork& detail::MLPBase::network() const {
  require_fitted(fitted_, concat(name_, "::network").c_str());
  return net_;
}

const FitReport& detail::MLPBase::report() const {
  require_fitted(fitted_, concat(name_, "::report").c_str());
  return net_.report;
}

void detail::MLPBase::set_feature_names(std::vector<std::string> names) {
  const std::string where = concat(name_, "::set_feature_names");
  require_fitted(fitted_, where.c_str());
  check_feature_names(where.c_str(), names, net_.n_features());
  net_.feature_names = std::move(names);
}

// ---------------------------------------------------------------- MLPClassifier

MLPClassifier::MLPClassifier(MLPOptions options) : MLPBase(std::move(options), "MLPClassifier") {}

MLPClassifier& MLPClassifier::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) { return fit(X, y, Eigen::VectorXd()); }

MLPClassifier& MLPClassifier::fit(MatrixRef X, LabelRef y, VectorRef sample_weight) {
  constexpr const char* where = "MLPClassifier::fit";
  validate(options_);
  const int k = detail::check_multiclass_fit(where, X, y, sample_weight, false);
  const Eigen::Index n = X.rows();
  const detail::MLPOutput out = k == 2 ? detail::MLPOutput::logistic : detail::MLPOutput::softmax;
  RowMatrix T = RowMatrix::Zero(n, k == 2 ? 1 : k);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (k == 2) T(i, 0) = y[i];
    else T(i, y[i]) = 1.0;
  }
  const Eigen::VectorXi strata = y;
  const bool warm = options_.warm_start && fitted_ && n_classes_ == k && shapes_fit(net_, options_, X.cols(), T.cols());
  fitted_ = false;
  train(net_, options_, out, X, T, sample_weight, &strata, warm, where);
  n_classes_ = k;
  fitted_ = true;
  return *this;
}

RowMatrix MLPClassifier::predict_proba(MatrixRef X) const {
  detail::require_fitted(fitted_, "MLPClassifier::predict_proba");
  detail::check_predict("MLPClassifier::predict_proba", X, net_.n_features(), false);
  RowMatrix P = net_.forward(X, options_.n_threads);
  if (n_classes_ == 2) return detail::two_column_proba(P.col(0));
  return P;
}

Eigen::VectorXi MLPClassifier::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "MLPClassifier::predict");
  detail::check_predict("MLPClassifier::predict", X, net_.n_features(), false);
  return classes_of(net_.forward(X, options_.n_threads));
}

void MLPClassifier::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "MLPClassifier::save");
  ModelWriter w(kClassifierTag, kSchema);
  write_options(w, options_);
  w.i32(n_classes_);
  write_network(w, net_);
  w.finish(out);
}

MLPClassifier MLPClassifier::load(std::istream& in) {
  ModelReader r(in, kClassifierTag, kSchema);
  MLPClassifier m(read_options(r));
  m.n_classes_ = r.i32("n_classes");
  if (m.n_classes_ < 2) r.fail("n_classes", "must be >= 2");
  const auto out = m.n_classes_ == 2 ? detail::MLPOutput::logistic : detail::MLPOutput::softmax;
  m.net_ = read_network(r, m.options_, out, m.n_classes_ == 2 ? 1 : m.n_classes_);
  m.fitted_ = true;
  return m;
}

// ---------------------------------------------------------------- MLPRegressor

MLPRegressor::MLPRegressor(MLPOptions options) : MLPBase(std::move(options), "MLPRegressor") {}

MLPRegressor& MLPRegressor::fit(MatrixRef X, VectorRef y) { return fit(X, y, Eigen::VectorXd()); }

MLPRegressor& MLPRegressor::fit(MatrixRef X, VectorRef y, VectorRef sample_weight) {
  constexpr const char* where = "MLPRegressor::fit";
  validate(options_);
  detail::check_regression_fit(where, X, y, sample_weight, false);
  const RowMatrix T = y;
  const bool warm = options_.warm_start && fitted_ && shapes_fit(net_, options_, X.cols(), 1);
  fitted_ = false;
  train(net_, options_, detail::MLPOutput::identity, X, T, sample_weight, nullptr, warm, where);
  fitted_ = true;
  return *this;
}

Eigen::VectorXd MLPRegressor::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "MLPRegressor::predict");
  detail::check_predict("MLPRegressor::predict", X, net_.n_features(), false);
  return net_.forward(X, options_.n_threads).col(0);
}

void MLPRegressor::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "MLPRegressor::save");
  ModelWriter w(kRegressorTag, kSchema);
  write_options(w, options_);
  write_network(w, net_);
  w.finish(out);
}

MLPRegressor MLPRegressor::load(std::istream& in) {
  ModelReader r(in, kRegressorTag, kSchema);
  MLPRegressor m(read_options(r));
  m.net_ = read_network(r, m.options_, detail::MLPOutput::identity, 1);
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
