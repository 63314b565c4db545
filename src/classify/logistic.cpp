// SPDX-License-Identifier: Apache-2.0
// Proximal Newton logistic regression and least-squares linear regression.
#include <crmine/classify/logistic.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>

#include "io.hpp"

#include <Eigen/Cholesky>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace {

constexpr ModelTag kLogisticTag = model_tag("LOGR");
constexpr ModelTag kLinearTag = model_tag("LINR");
constexpr std::uint32_t kLogisticSchema = 2;  // 2 adds options.subsample_warm_start
constexpr std::uint32_t kLinearSchema = 1;

/// Per-row terms of the log-loss at the linear predictors `eta`: the loss log(1 + e^eta) - y eta
/// (summed, weighted by `w`) and, when `prob` is given, the probability sigmoid(eta). Both come
/// from one e = exp(-|eta|), an Eigen AVX packet function over the whole block. The log is libm's
/// scalar one (Eigen 3.4 evaluates a select() coefficient by coefficient, so the log inside the
/// select this replaced was libm's too, and the values stay bit for bit); every other step is
/// materialised as whole arrays so that it runs in packets, and the choices are plain blends.
/// Serves the general pass (a chunk of any length) and the narrow one (fixed 64-row blocks).
template <typename Eta, typename Weight, typename Label, typename Prob>
double log_loss_terms(const Eigen::ArrayBase<Eta>& eta, const Eigen::ArrayBase<Weight>& w, const Eigen::ArrayBase<Label>& yd,
                      Prob* prob) {
  using Plain = typename Eta::PlainObject;
  const Plain e = (-eta.abs()).exp();
  const Plain u = 1.0 + e;
  // log1p(e) = log(u) * e / (u - 1) corrects the rounding of u = 1 + e (Goldberg); e is in [0, 1].
  const Plain log_u = u.unaryExpr([](double v) { return std::log(v); });
  const Plain corrected = log_u * e / (u - 1.0);
  Plain log1p_e = e;
  for (Eigen::Index i = 0; i < e.size(); ++i) log1p_e[i] = u[i] == 1.0 ? e[i] : corrected[i];
  const double s = (w * (eta.max(0.0) + log1p_e - yd * eta)).sum();
  if (prob) {
    const Plain positive = 1.0 / u, negative = e / u;
    *prob = negative;
    for (Eigen::Index i = 0; i < e.size(); ++i) (*prob)[i] = eta[i] >= 0.0 ? positive[i] : negative[i];
  }
  return s;
}

/// Designs (features plus intercept) up to this width take the fused narrow pass; wider ones
/// are dominated by the Hessian's rank-k update, which a blocked GEMM does better.
constexpr Eigen::Index kNarrow = 24;
constexpr Eigen::Index kSub = 64;  ///< rows per block of the narrow pass (z and zs stay in L1)
constexpr int kLanes = 8;          ///< independent partial sums per accumulator (one AVX float register)

/// The data term of the fit in standardised coordinates: column j of the design is
/// (x_j - mean_j) / scale_j, plus a constant column for the intercept when there is one.
struct Design {
  MatrixRef X;
  const Eigen::VectorXd& mean;
  const Eigen::VectorXd& scale;
  const Eigen::VectorXd& weight;
  const LabelRef& y;
  bool intercept;
  int n_threads;

  Eigen::Index n_chunks() const { return (X.rows() + detail::kRowChunk - 1) / detail::kRowChunk; }
  Eigen::Index dim() const { return X.cols() + (intercept ? 1 : 0); }

  /// Rows [begin, begin + rows) in standardised coordinates with the intercept column appended,
  /// written into Z (one buffer per thread: a fresh 2048-row block per chunk cost page faults).
  /// Callers never write Z, so its column of ones (strided stores) is set only when Z is resized.
  void block(Eigen::Index begin, Eigen::Index rows, RowMatrix& Z) const {
    const Eigen::Index p = X.cols();
    if (Z.rows() != rows || Z.cols() != dim()) {
      Z.resize(rows, dim());
      if (intercept) Z.col(p).setOnes();
    }
    Z.leftCols(p) = ((X.middleRows(begin, rows).rowwise() - mean.transpose()).array().rowwise() / scale.transpose().array()).matrix();
  }

  /// Weighted log-loss sum at beta, in one pass over the rows; with `grad` also its gradient and
  /// with `hess` (needs `grad`) its Hessian. Per-chunk parts are summed in chunk order, so the
  /// result does not depend on the thread count. A `single` precision Hessian (each chunk's
  /// rank-k update in float, twice the SIMD width, summed in double) only slows Newton's
  /// convergence to a linear rate near 1e-6, and the fixed point depends on the gradient alone.
  double evaluate(const Eigen::VectorXd& beta, Eigen::VectorXd* grad, Eigen::MatrixXd* hess, bool single = false) const {
    if (dim() <= kNarrow) {
      return single ? evaluate_narrow<float>(beta, grad, hess) : evaluate_narrow<double>(beta, grad, hess);
    }
    const Eigen::Index nc = n_chunks(), d = dim();
    std::vector<double> loss_part(static_cast<std::size_t>(nc), 0.0);
    std::vector<Eigen::VectorXd> grad_part(grad ? static_cast<std::size_t>(nc) : 0);
    std::vector<Eigen::MatrixXd> hess_part(hess ? static_cast<std::size_t>(nc) : 0);
#pragma omp parallel num_threads(detail::resolve_threads(n_threads))
    {
      RowMatrix Z, Zs;
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Zf;
      Eigen::MatrixXf hf;
      Eigen::ArrayXd prob;
#pragma omp for schedule(dynamic, 1)
      for (Eigen::Index c = 0; c < nc; ++c) {
        const Eigen::Index begin = c * detail::kRowChunk, rows = std::min(detail::kRowChunk, X.rows() - begin);
        block(begin, rows, Z);
        const Eigen::VectorXd eta = Z * beta;
        const auto w = weight.segment(begin, rows).array();
        const auto k = static_cast<std::size_t>(c);
        const Eigen::ArrayXd yd = y.segment(begin, rows).array().cast<double>();
        loss_part[k] = log_loss_terms(eta.array(), w, yd, grad ? &prob : nullptr);
        if (!grad) continue;
        const Eigen::VectorXd r = (w * (prob - yd)).matrix();
        grad_part[k].noalias() = Z.transpose() * r;
        if (!hess) continue;
        const Eigen::ArrayXd root = (w * prob * (1.0 - prob)).sqrt();
        if (single) {
          Zf = (Z.array().colwise() * root).cast<float>().matrix();
          hf = Eigen::MatrixXf::Zero(d, d);
          hf.selfadjointView<Eigen::Lower>().rankUpdate(Zf.transpose());
          hess_part[k] = hf.cast<double>();
        } else {
          Zs = (Z.array().colwise() * root).matrix();
          hess_part[k] = Eigen::MatrixXd::Zero(d, d);
          hess_part[k].selfadjointView<Eigen::Lower>().rankUpdate(Zs.transpose());
        }
      }
    }
    double total = 0.0;
    for (double s : loss_part) total += s;
    if (grad) {
      *grad = Eigen::VectorXd::Zero(d);
      for (const auto& part : grad_part) *grad += part;
    }
    if (hess) {
      Eigen::MatrixXd lower = Eigen::MatrixXd::Zero(d, d);
      for (const auto& part : hess_part) lower.triangularView<Eigen::Lower>() += part;
      *hess = lower.selfadjointView<Eigen::Lower>();
    }
    return total;
  }

  /// evaluate() for designs of at most kNarrow columns, the usual response or uplift model on a
  /// handful of RFM-like features. There the general pass is dominated by the overheads of its
  /// building blocks (a packed GEMM for an 11 x 11 Hessian, chunk-sized temporaries), so this
  /// pass fuses everything per kSub-row block held in L1: standardise, linear predictor, loss,
  /// gradient and the Hessian's lower triangle. Sums run in kLanes independent lanes (vectorised
  /// without reassociating) that are added in a fixed order, so results do not depend on the
  /// thread count. Rows past the end of a chunk are zero-weight padding that adds exact zeros.
  template <typename HessScalar>
  double evaluate_narrow(const Eigen::VectorXd& beta, Eigen::VectorXd* grad, Eigen::MatrixXd* hess) const {
    const Eigen::Index nc = n_chunks(), d = dim(), p = X.cols();
    const Eigen::Index n_pairs = d * (d + 1) / 2;
    std::vector<double> loss_part(static_cast<std::size_t>(nc), 0.0);
    std::vector<double> grad_part(grad ? static_cast<std::size_t>(nc * d) : 0);
    std::vector<double> hess_part(hess ? static_cast<std::size_t>(nc * n_pairs) : 0);
    const Eigen::VectorXd inv_scale = scale.cwiseInverse();
#pragma omp parallel num_threads(detail::resolve_threads(n_threads))
    {
      using Column = Eigen::Array<double, kSub, 1>;
      Eigen::Array<double, kSub, kNarrow> z;  // column j holds feature j of the block's rows
      Eigen::Array<HessScalar, kSub, kNarrow> zs;
      Column eta, w, yd, prob, r;
      std::vector<double> gacc(static_cast<std::size_t>(kNarrow * kLanes));
      std::vector<HessScalar> hacc(static_cast<std::size_t>(n_pairs * kLanes));
#pragma omp for schedule(dynamic, 1)
      for (Eigen::Index c = 0; c < nc; ++c) {
        const Eigen::Index chunk_begin = c * detail::kRowChunk;
        const Eigen::Index chunk_end = std::min(chunk_begin + detail::kRowChunk, X.rows());
        std::fill(gacc.begin(), gacc.end(), 0.0);
        std::fill(hacc.begin(), hacc.end(), HessScalar(0));
        double loss = 0.0;
        for (Eigen::Index begin = chunk_begin; begin < chunk_end; begin += kSub) {
          const Eigen::Index rows = std::min(kSub, chunk_end - begin);
          // Column by column: strided loads from the row-major block (in L1) are cheap, while
          // row by row the stores into z scatter, and that was half of the pass.
          const double* block = X.data() + begin * X.outerStride();
          for (Eigen::Index j = 0; j < p; ++j) {
            const double m = mean[j], f = inv_scale[j];
            for (Eigen::Index i = 0; i < rows; ++i) z(i, j) = (block[i * X.outerStride() + j] - m) * f;
          }
          for (Eigen::Index i = 0; i < rows; ++i) {
            w[i] = weight[begin + i];
            yd[i] = y[begin + i];
          }
          for (Eigen::Index i = rows; i < kSub; ++i) {
            z.row(i).setZero();
            w[i] = 0.0;
            yd[i] = 0.0;
          }
          if (intercept) z.col(p).setOnes();
          eta.setZero();
          for (Eigen::Index j = 0; j < d; ++j) eta += z.col(j) * beta[j];
          loss += log_loss_terms(eta, w, yd, grad ? &prob : nullptr);
          if (!grad) continue;
          r = w * (prob - yd);
          for (Eigen::Index j = 0; j < d; ++j) {
            double* acc = gacc.data() + j * kLanes;
            for (Eigen::Index i = 0; i < kSub; i += kLanes)
              for (int l = 0; l < kLanes; ++l) acc[l] += z(i + l, j) * r[i + l];
          }
          if (!hess) continue;
          const Column root = (w * prob * (1.0 - prob)).sqrt();
          for (Eigen::Index j = 0; j < d; ++j) zs.col(j) = (z.col(j) * root).template cast<HessScalar>();
          HessScalar* acc = hacc.data();
          for (Eigen::Index j = 0; j < d; ++j) {
            for (Eigen::Index k = 0; k <= j; ++k, acc += kLanes) {
              for (Eigen::Index i = 0; i < kSub; i += kLanes)
                for (int l = 0; l < kLanes; ++l) acc[l] += zs(i + l, j) * zs(i + l, k);
            }
          }
        }
        const auto k = static_cast<std::size_t>(c);
        loss_part[k] = loss;
        for (Eigen::Index j = 0; grad && j < d; ++j) {
          double s = 0.0;
          for (int l = 0; l < kLanes; ++l) s += gacc[static_cast<std::size_t>(j * kLanes + l)];
          grad_part[k * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] = s;
        }
        for (Eigen::Index q = 0; hess && q < n_pairs; ++q) {
          double s = 0.0;
          for (int l = 0; l < kLanes; ++l) s += static_cast<double>(hacc[static_cast<std::size_t>(q * kLanes + l)]);
          hess_part[k * static_cast<std::size_t>(n_pairs) + static_cast<std::size_t>(q)] = s;
        }
      }
    }
    double total = 0.0;
    for (double s : loss_part) total += s;
    if (grad) {
      *grad = Eigen::VectorXd::Zero(d);
      for (Eigen::Index c = 0; c < nc; ++c) *grad += Eigen::Map<const Eigen::VectorXd>(grad_part.data() + c * d, d);
    }
    if (hess) {
      Eigen::VectorXd packed = Eigen::VectorXd::Zero(n_pairs);
      for (Eigen::Index c = 0; c < nc; ++c) packed += Eigen::Map<const Eigen::VectorXd>(hess_part.data() + c * n_pairs, n_pairs);
      hess->resize(d, d);
      for (Eigen::Index j = 0, q = 0; j < d; ++j)
        for (Eigen::Index k = 0; k <= j; ++k, ++q) (*hess)(j, k) = (*hess)(k, j) = packed[q];
    }
    return total;
  }
};

}  // namespace

void validate(const LogisticRegressionOptions& o) {
  constexpr const char* where = "LogisticRegressionOptions";
  if (!(o.C > 0)) detail::throw_invalid(where, "C", "is ", o.C, "; must be > 0 (use +inf for no penalty)");
  if (!(o.l1_ratio >= 0 && o.l1_ratio <= 1)) detail::throw_invalid(where, "l1_ratio", "is ", o.l1_ratio, "; must be in [0, 1]");
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "is ", o.max_iter, "; must be >= 1");
  if (!(o.tol > 0)) detail::throw_invalid(where, "tol", "is ", o.tol, "; must be > 0");
  detail::check_class_weight(where, o.class_weight);
}

LogisticRegression::LogisticRegression(LogisticRegressionOptions options) : options_(options) {}

LogisticRegression& LogisticRegression::fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) {
  return fit(X, y, Eigen::VectorXd());
}

LogisticRegression& LogisticRegression::fit(MatrixRef X, LabelRef y, VectorRef sample_weight) {
  return fit_impl("LogisticRegression::fit", X, y, sample_weight, nullptr, X.rows());
}

LogisticRegression& LogisticRegression::fit_rows(MatrixRef X, LabelRef y, VectorRef sample_weight, std::span<const Eigen::Index> rows) {
  constexpr const char* where = "LogisticRegression::fit_rows";
  detail::check_row_selection(where, rows, X.rows());
  return fit_impl(where, X, y, sample_weight, rows.data(), static_cast<Eigen::Index>(rows.size()));
}

namespace {

/// Column sums and sums of squares of x - shift over the design rows, one chunk of kRowChunk
/// rows per task in parallel, the chunks' sums added in chunk order: bit for bit the sequential
/// pass. With `rows`, each chunk of the selected rows is first copied into `gathered` (the
/// contiguous design the fit then reads: passes over rows scattered across X would read all
/// of X's cache lines every time); without `moments`, the pass only gathers.
void gather_moments(MatrixRef X, const Eigen::Index* rows, Eigen::Index n, const Eigen::VectorXd& shift, bool moments, int n_threads,
                    RowMatrix& gathered, Eigen::VectorXd& sum, Eigen::VectorXd& sumsq) {
  const Eigen::Index p = X.cols(), n_chunks = (n + detail::kRowChunk - 1) / detail::kRowChunk;
  if (rows) gathered.resize(n, p);
  // Each chunk's sums go to a vector of their own: Eigen splits a row-major colwise sum between
  // packets and scalars by the destination's alignment, so a column of a matrix could round differently.
  std::vector<Eigen::VectorXd> part_sum(moments ? static_cast<std::size_t>(n_chunks) : 0), part_sumsq(part_sum.size());
#pragma omp parallel num_threads(detail::resolve_threads(n_threads))
  {
    RowMatrix centred;
#pragma omp for schedule(static)
    for (Eigen::Index c = 0; c < n_chunks; ++c) {
      const Eigen::Index begin = c * detail::kRowChunk, len = std::min(detail::kRowChunk, n - begin);
      if (rows)
        for (Eigen::Index i = begin; i < begin + len; ++i) gathered.row(i) = X.row(rows[i]);
      if (!moments) continue;
      centred = (rows ? MatrixRef(gathered) : X).middleRows(begin, len).rowwise() - shift.transpose();
      const auto k = static_cast<std::size_t>(c);
      part_sum[k] = centred.colwise().sum().transpose();
      part_sumsq[k] = centred.array().square().colwise().sum().matrix().transpose();
    }
  }
  for (std::size_t k = 0; k < part_sum.size(); ++k) {
    sum += part_sum[k];
    sumsq += part_sumsq[k];
  }
}

/// The penalty  lam1 |w|_1 + lam2 / 2 |w|_2^2  on the coefficients w (all entries of beta but
/// the intercept, which is last when there is one).
struct Penalty {
  double lam1, lam2;
  double operator()(const Eigen::VectorXd& b, Eigen::Index p) const {
    const auto w = b.head(p);
    return lam1 * w.lpNorm<1>() + 0.5 * lam2 * w.squaredNorm();
  }
};

/// Proximal Newton iterations on `design` from `beta` (updated in place) until a step moves no
/// coefficient by more than tol x (1 + largest coefficient), or max_iter iterations.
FitReport newton(const Design& design, const Penalty& pen, double tol, int max_iter, Eigen::VectorXd& beta) {
  const Eigen::Index d = design.dim(), p = design.X.cols();
  const double lam1 = pen.lam1, lam2 = pen.lam2;
  auto penalty = [&](const Eigen::VectorXd& b) { return pen(b, p); };
  // grad/hess are the data term's derivatives at beta. A full step is evaluated with loss,
  // gradient and Hessian in one pass, so when it is accepted (nearly always) the next iteration
  // starts without another pass over the rows; backtracking falls back to loss-only passes.
  Eigen::VectorXd grad, cand_grad;
  Eigen::MatrixXd hess, cand_hess;
  double loss = design.evaluate(beta, &grad, &hess, true);
  double previous_step = std::numeric_limits<double>::infinity();
  FitReport report;
  double objective = 0.0;
  for (int iter = 1; iter <= max_iter; ++iter) {
    objective = loss + penalty(beta);
    Eigen::VectorXd g = grad;
    Eigen::MatrixXd h = hess;
    for (Eigen::Index j = 0; j < p; ++j) {
      g[j] += lam2 * beta[j];
      h(j, j) += lam2;
    }
    // A tiny ridge keeps the unpenalised, collinear (e.g. full one-hot) case solvable.
    const double jitter = 1e-12 * std::max(1.0, h.diagonal().maxCoeff());
    Eigen::VectorXd step(d);
    if (lam1 == 0.0) {
      h.diagonal().array() += jitter;
      step = -h.ldlt().solve(g);
    } else {
      // Coordinate descent on  g'd + d'Hd/2 + lam1 |w + d|_1  (the intercept has no L1 term).
      step.setZero();
      Eigen::VectorXd hd = Eigen::VectorXd::Zero(d);
      for (int sweep = 0; sweep < 1000; ++sweep) {
        double largest = 0.0;
        for (Eigen::Index j = 0; j < d; ++j) {
          const double a = h(j, j) + jitter;
          const double c = g[j] + hd[j] - h(j, j) * step[j];
          const double z = beta[j] - c / a;
          double u = z;
          if (j < p) u = std::copysign(std::max(std::abs(z) - lam1 / a, 0.0), z);
          const double delta = (u - beta[j]) - step[j];
          if (delta != 0.0) {
            step[j] += delta;
            hd += h.col(j) * delta;
            largest = std::max(largest, std::abs(delta));
          }
        }
        if (largest <= 1e-13 * (1.0 + beta.cwiseAbs().maxCoeff())) break;
      }
    }
    // Armijo backtracking on the penalised objective.
    const double l1_now = lam1 * beta.head(p).lpNorm<1>();
    const double predicted = g.dot(step) + lam1 * (beta.head(p) + step.head(p)).lpNorm<1>() - l1_now;
    double t = 1.0;
    Eigen::VectorXd candidate = beta + step;
    // Near the optimum the predicted decrease drops below the rounding noise of the objective;
    // there the quadratic model is exact enough to take the full step without a test.
    const bool tiny = -predicted <= 1e-11 * (1.0 + std::abs(objective));
    // A full step this small ends the fit, so its Hessian would never be used.
    const bool last = step.cwiseAbs().maxCoeff() <= tol * (1.0 + candidate.cwiseAbs().maxCoeff());
    // Once steps are this small the Hessian barely changes, and the old one still gives
    // (nearly quadratic) convergence: the rank-k update, the costliest part of a pass, is skipped.
    // Steps that stop shrinking fast mean the (float) Hessian is too inexact for this problem's
    // conditioning: then a double one is computed.
    const double step_size = step.cwiseAbs().maxCoeff();
    const bool small = step_size <= 1e-3 * (1.0 + candidate.cwiseAbs().maxCoeff());
    const bool shrinking = step_size <= 0.1 * previous_step;
    const bool keep_hess = small && shrinking;
    previous_step = step_size;
    if (last && tiny) {
      // This step ends the fit and is taken without a test, so its loss would only be reported:
      // the quadratic model gives it to within the rounding noise `tiny` stands for, and the
      // pass over all rows it would cost is saved.
      beta = candidate;
      objective += predicted + 0.5 * step.dot(h * step);
      report.n_iter = iter;
      report.converged = true;
      break;
    }
    bool have_grad = !last;
    double cand_loss = design.evaluate(candidate, have_grad ? &cand_grad : nullptr, have_grad && !keep_hess ? &cand_hess : nullptr, !small);
    double cand_obj = cand_loss + penalty(candidate);
    if (tiny) cand_obj = std::min(cand_obj, objective);
    while (!tiny && cand_obj > objective + 1e-4 * t * predicted && t > 1e-10) {
      t *= 0.5;
      candidate = beta + t * step;
      cand_loss = design.evaluate(candidate, nullptr, nullptr);
      cand_obj = cand_loss + penalty(candidate);
      have_grad = false;
    }
    const double moved = (t * step).cwiseAbs().maxCoeff();
    report.n_iter = iter;
    bool moved_beta = false;
    if (tiny || cand_obj <= objective) {
      beta = candidate;
      objective = cand_obj;
      moved_beta = true;
    }
    if (moved <= tol * (1.0 + beta.cwiseAbs().maxCoeff()) || t <= 1e-10) {
      report.converged = moved <= tol * (1.0 + beta.cwiseAbs().maxCoeff()) || predicted > -1e-14 * (1.0 + std::abs(objective));
      break;
    }
    if (moved_beta && have_grad) {
      loss = cand_loss;
      grad.swap(cand_grad);
      if (!keep_hess) hess.swap(cand_hess);
    } else if (moved_beta) {  // after backtracking: the step was far from the quadratic model
      loss = design.evaluate(beta, &grad, &hess, true);
    }
  }
  report.objective = objective;
  return report;
}

/// Fits on fewer rows start from the base rate. The warm start pays when the rows saved by
/// starting the full-data iterations near the optimum outweigh the subsample's own iterations,
/// and when the subsample (n / kWarmStartStride rows) is large enough for its optimum to lie
/// within Newton's quadratic reach of the full-data one (statistical error ~ 1 / sqrt(rows)).
constexpr Eigen::Index kWarmStartMinRows = 100000;
constexpr Eigen::Index kWarmStartStride = 8;  ///< one subsample row per block of this many rows
/// The subsample's optimum differs from the full-data one by far more than this anyway.
constexpr double kWarmStartTol = 1e-4;

/// Moves `beta` to the optimum of the same objective on a subsample: one row from each block of
/// kWarmStartStride rows, at a position drawn from a fixed hash of the block index, so that neither
/// sorted input (the blocks span all rows) nor a period in the rows (e.g. alternating groups)
/// biases it. The subsample's weights are scaled to the full total, so its data term balances
/// the penalty as the full one does. `beta` is left alone when the subsample holds one class
/// only or its fit does not converge (e.g. it is separable and the full data is not).
void warm_start(const Design& full, const Penalty& penalty, const LogisticRegressionOptions& options, Eigen::VectorXd& beta) {
  const Eigen::Index m = full.X.rows() / kWarmStartStride, p = full.X.cols();
  RowMatrix Xs(m, p);
  Eigen::VectorXi ys(m);
  Eigen::VectorXd ws(m);
#pragma omp parallel for num_threads(detail::resolve_threads(options.n_threads)) schedule(static)
  for (Eigen::Index b = 0; b < m; ++b) {
    const auto offset = static_cast<Eigen::Index>(mix64(static_cast<std::uint64_t>(b)) % kWarmStartStride);
    const Eigen::Index i = b * kWarmStartStride + offset;
    Xs.row(b) = full.X.row(i);
    ys[b] = full.y[i];
    ws[b] = full.weight[i];
  }
  const double sub_total = ws.sum(), sub_positive = ws.dot(ys.cast<double>());
  if (!(sub_positive > 0.0 && sub_positive < sub_total)) return;
  ws *= full.weight.sum() / sub_total;
  const LabelRef ys_ref(ys);
  const Design subsample{Xs, full.mean, full.scale, ws, ys_ref, full.intercept, full.n_threads};
  Eigen::VectorXd start = beta;
  const FitReport report = newton(subsample, penalty, kWarmStartTol, options.max_iter, start);
  if (report.converged && start.allFinite()) beta = start;
}

}  // namespace

LogisticRegression& LogisticRegression::fit_impl(const char* where, MatrixRef X, LabelRef y_all, VectorRef sample_weight,
                                                 const Eigen::Index* rows, Eigen::Index n) {
  validate(options_);
  detail::check_binary_fit_rows(where, X, y_all, sample_weight, rows, n);
  const Eigen::Index p = X.cols();
  // A subset fit works on gathered labels, weights and rows of X (gather_moments).
  Eigen::VectorXi y_rows;
  Eigen::VectorXd w_rows;
  if (rows) {
    y_rows.resize(n);
    for (Eigen::Index r = 0; r < n; ++r) y_rows[r] = y_all[rows[r]];
    if (sample_weight.size()) {
      w_rows.resize(n);
      for (Eigen::Index r = 0; r < n; ++r) w_rows[r] = sample_weight[rows[r]];
    }
  }
  const LabelRef y = rows ? LabelRef(y_rows) : y_all;
  const Eigen::VectorXd weight = detail::combined_weights(y, rows ? VectorRef(w_rows) : sample_weight, options_.class_weight);

  // Unweighted moments, as a StandardScaler in front of the model would compute them; shifted
  // sums keep the variance accurate.
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(p), scale = Eigen::VectorXd::Ones(p);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(p), sumsq = Eigen::VectorXd::Zero(p);
  const Eigen::VectorXd shift = X.row(rows ? rows[0] : 0).transpose();
  RowMatrix gathered;
  if (rows || options_.standardize)
    gather_moments(X, rows, n, shift, options_.standardize, options_.n_threads, gathered, sum, sumsq);
  // A NaN or infinity anywhere makes a sum non-finite, so the moments' pass is also the input check.
  if (!options_.standardize || !sum.allFinite() || !sumsq.allFinite()) detail::throw_first_nonfinite(where, X, false, rows, n);
  const MatrixRef Xd = rows ? MatrixRef(gathered) : X;
  if (options_.standardize) {
    const double dn = static_cast<double>(n);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double m = sum[j] / dn, var = std::max(0.0, sumsq[j] / dn - m * m);
      if (options_.fit_intercept) mean[j] = shift[j] + m;
      const double sd = std::sqrt(var);
      scale[j] = sd > 1e-12 * std::max(1.0, std::abs(shift[j] + m)) ? sd : 1.0;
    }
  }

  const Design design{Xd, mean, scale, weight, y, options_.fit_intercept, options_.n_threads};
  const Eigen::Index d = design.dim();
  const double alpha = std::isinf(options_.C) ? 0.0 : 1.0 / options_.C;
  const Penalty penalty_terms{alpha * options_.l1_ratio, alpha * (1.0 - options_.l1_ratio)};

  Eigen::VectorXd beta = Eigen::VectorXd::Zero(d);
  if (options_.fit_intercept) {  // start from the weighted base rate
    const double pos = (weight.array() * y.cast<double>().array()).sum(), tot = weight.sum();
    beta[p] = std::log(pos / (tot - pos));
  }
  if (options_.subsample_warm_start && n >= kWarmStartMinRows) warm_start(design, penalty_terms, options_, beta);
  report_ = newton(design, penalty_terms, options_.tol, options_.max_iter, beta);

  coef_std_ = beta.head(p);
  coef_ = (coef_std_.array() / scale.array()).matrix();
  intercept_ = options_.fit_intercept ? beta[p] - coef_.dot(mean) : 0.0;
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd LogisticRegression::decision_function(MatrixRef X) const {
  detail::require_fitted(fitted_, "LogisticRegression::decision_function");
  detail::check_predict("LogisticRegression::decision_function", X, coef_.size(), false);
  return (X * coef_).array() + intercept_;
}

RowMatrix LogisticRegression::predict_proba(MatrixRef X) const {
  detail::require_fitted(fitted_, "LogisticRegression::predict_proba");
  Eigen::VectorXd eta = decision_function(X);
  for (Eigen::Index i = 0; i < eta.size(); ++i) eta[i] = detail::sigmoid(eta[i]);
  return detail::two_column_proba(eta);
}

Eigen::VectorXi LogisticRegression::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "LogisticRegression::predict");
  return (decision_function(X).array() > 0).cast<int>();
}

const Eigen::VectorXd& LogisticRegression::coef() const {
  detail::require_fitted(fitted_, "LogisticRegression::coef");
  return coef_;
}
const Eigen::VectorXd& LogisticRegression::coef_standardized() const {
  detail::require_fitted(fitted_, "LogisticRegression::coef_standardized");
  return coef_std_;
}
double LogisticRegression::intercept() const {
  detail::require_fitted(fitted_, "LogisticRegression::intercept");
  return intercept_;
}
const FitReport& LogisticRegression::report() const {
  detail::require_fitted(fitted_, "LogisticRegression::report");
  return report_;
}

void LogisticRegression::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "LogisticRegression::set_feature_names");
  detail::check_feature_names("LogisticRegression::set_feature_names", names, coef_.size());
  feature_names_ = std::move(names);
}

void LogisticRegression::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "LogisticRegression::save");
  ModelWriter w(kLogisticTag, kLogisticSchema);
  w.f64(options_.C);
  w.f64(options_.l1_ratio);
  w.boolean(options_.fit_intercept);
  w.boolean(options_.standardize);
  w.f64(options_.class_weight[0]);
  w.f64(options_.class_weight[1]);
  w.i32(options_.max_iter);
  w.f64(options_.tol);
  w.i32(options_.n_threads);
  w.boolean(options_.subsample_warm_start);
  detail::write_vector(w, coef_);
  detail::write_vector(w, coef_std_);
  w.f64(intercept_);
  w.i32(report_.n_iter);
  w.boolean(report_.converged);
  w.f64(report_.objective);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

LogisticRegression LogisticRegression::load(std::istream& in) {
  ModelReader r(in, kLogisticTag, kLogisticSchema);
  LogisticRegressionOptions o;
  o.C = r.f64("C");
  o.l1_ratio = r.f64("l1_ratio");
  o.fit_intercept = r.boolean("fit_intercept");
  o.standardize = r.boolean("standardize");
  o.class_weight[0] = r.f64("class_weight");
  o.class_weight[1] = r.f64("class_weight");
  o.max_iter = r.i32("max_iter");
  o.tol = r.f64("tol");
  o.n_threads = r.i32("n_threads");
  if (r.schema() >= 2) o.subsample_warm_start = r.boolean("subsample_warm_start");  // schema 1 files keep the default
  LogisticRegression m(o);
  m.coef_ = detail::read_vector(r, "coef");
  m.coef_std_ = detail::read_vector(r, "coef_standardized");
  m.intercept_ = r.f64("intercept");
  m.report_.n_iter = r.i32("n_iter");
  m.report_.converged = r.boolean("converged");
  m.report_.objective = r.f64("objective");
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (m.coef_.size() == 0 || m.coef_std_.size() != m.coef_.size()) r.fail("coef", "inconsistent coefficient counts");
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.coef_.size())
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

// ---------------------------------------------------------------- LinearRegression

void validate(const LinearRegressionOptions& o) {
  if (!(o.alpha >= 0) || std::isinf(o.alpha)) detail::throw_invalid("LinearRegressionOptions", "alpha", "is ", o.alpha, "; must be finite and >= 0");
}

LinearRegression::LinearRegression(LinearRegressionOptions options) : options_(options) {}

LinearRegression& LinearRegression::fit(MatrixRef X, VectorRef y) { return fit(X, y, Eigen::VectorXd()); }

LinearRegression& LinearRegression::fit(MatrixRef X, VectorRef y, VectorRef sample_weight) {
  validate(options_);
  detail::check_regression_fit("LinearRegression::fit", X, y, sample_weight, false);
  const Eigen::Index n = X.rows(), p = X.cols();
  const Eigen::VectorXd w = sample_weight.size() ? Eigen::VectorXd(sample_weight) : Eigen::VectorXd::Ones(n);
  const double total = w.sum();
  Eigen::VectorXd xmean = Eigen::VectorXd::Zero(p);
  double ymean = 0.0;
  if (options_.fit_intercept) {
    xmean = (X.transpose() * w) / total;
    ymean = w.dot(y) / total;
  }
  const Eigen::VectorXd sw = w.cwiseSqrt();
  RowMatrix Xc = ((X.rowwise() - xmean.transpose()).array().colwise() * sw.array()).matrix();
  const Eigen::VectorXd yc = ((y.array() - ymean) * sw.array()).matrix();
  if (options_.alpha > 0) {
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(Xc.transpose());
    gram.diagonal().array() += options_.alpha;
    coef_ = gram.selfadjointView<Eigen::Lower>().llt().solve(Xc.transpose() * yc);
    rank_ = p;
  } else {
    Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(Eigen::MatrixXd(std::move(Xc)));
    coef_ = cod.solve(yc);
    rank_ = cod.rank();
  }
  intercept_ = options_.fit_intercept ? ymean - xmean.dot(coef_) : 0.0;
  feature_names_.clear();
  fitted_ = true;
  return *this;
}

Eigen::VectorXd LinearRegression::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "LinearRegression::predict");
  detail::check_predict("LinearRegression::predict", X, coef_.size(), false);
  return (X * coef_).array() + intercept_;
}

const Eigen::VectorXd& LinearRegression::coef() const {
  detail::require_fitted(fitted_, "LinearRegression::coef");
  return coef_;
}
double LinearRegression::intercept() const {
  detail::require_fitted(fitted_, "LinearRegression::intercept");
  return intercept_;
}
void LinearRegression::set_feature_names(std::vector<std::string> names) {
  detail::require_fitted(fitted_, "LinearRegression::set_feature_names");
  detail::check_feature_names("LinearRegression::set_feature_names", names, coef_.size());
  feature_names_ = std::move(names);
}

void LinearRegression::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "LinearRegression::save");
  ModelWriter w(kLinearTag, kLinearSchema);
  w.f64(options_.alpha);
  w.boolean(options_.fit_intercept);
  detail::write_vector(w, coef_);
  w.f64(intercept_);
  w.i64(rank_);
  detail::write_strings(w, feature_names_);
  w.finish(out);
}

LinearRegression LinearRegression::load(std::istream& in) {
  ModelReader r(in, kLinearTag, kLinearSchema);
  LinearRegressionOptions o;
  o.alpha = r.f64("alpha");
  o.fit_intercept = r.boolean("fit_intercept");
  LinearRegression m(o);
  m.coef_ = detail::read_vector(r, "coef");
  m.intercept_ = r.f64("intercept");
  m.rank_ = r.i64("rank");
  m.feature_names_ = detail::read_strings(r, "feature_names");
  r.expect_end();
  if (m.coef_.size() == 0) r.fail("coef", "no coefficients");
  if (!m.feature_names_.empty() && static_cast<Eigen::Index>(m.feature_names_.size()) != m.coef_.size())
    r.fail("feature_names", "one name per feature expected");
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
