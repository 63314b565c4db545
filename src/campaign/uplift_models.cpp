// SPDX-License-Identifier: Apache-2.0
// Meta-learners over crmine's classifiers: the two-model and the class-transformation approach.
#include <crmine/campaign/uplift.hpp>
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/logistic.hpp>
#include <crmine/classify/scoring.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/serialize.hpp>

#include <array>
#include <algorithm>
#include <cmath>
#include <exception>
#include <sstream>
#include <thread>

namespace crmine {
namespace detail {

void check_uplift_fit(const char* where, MatrixRef X, LabelRef y, LabelRef treatment, bool allow_nan) {
  if (X.rows() == 0) throw_invalid(where, "X", "has no rows");
  if (X.cols() == 0) throw_invalid(where, "X", "has no columns");
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const double v = X(i, j);
      if (std::isfinite(v) || (allow_nan && std::isnan(v))) continue;
      throw_invalid(where, "X", std::isnan(v) ? "NaN" : "infinite value", " at row ", i, ", column ", j);
    }
  check_uplift_labels(where, X, y, treatment);
}

void check_uplift_labels(const char* where, MatrixRef X, LabelRef y, LabelRef treatment) {
  if (X.rows() == 0) throw_invalid(where, "X", "has no rows");
  if (X.cols() == 0) throw_invalid(where, "X", "has no columns");
  if (y.size() != X.rows()) throw_invalid(where, "y", "has ", y.size(), " entries, X has ", X.rows(), " rows");
  if (treatment.size() != X.rows())
    throw_invalid(where, "treatment", "has ", treatment.size(), " entries, X has ", X.rows(), " rows");
  Eigen::Index treated = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (y[i] != 0 && y[i] != 1) throw_invalid(where, "y", "value ", y[i], " at row ", i, "; responses must be 0 or 1");
    if (treatment[i] != 0 && treatment[i] != 1)
      throw_invalid(where, "treatment", "value ", treatment[i], " at row ", i, "; treatment flags must be 0 or 1");
    treated += treatment[i];
  }
  if (treated == 0) throw_invalid(where, "treatment", "has no treated rows (all 0); uplift needs both groups");
  if (treated == X.rows()) throw_invalid(where, "treatment", "has no control rows (all 1); uplift needs both groups");
}

}  // namespace detail

namespace {

constexpr ModelTag kTwoModelTag = model_tag("UP2M");
constexpr ModelTag kClassTransformationTag = model_tag("UPCT");
constexpr std::uint32_t kSchema = 1;

/// The rows of X (and y) whose treatment flag equals `group`.
void take_group(MatrixRef X, LabelRef y, LabelRef treatment, int group, RowMatrix& Xg, Eigen::VectorXi& yg) {
  const Eigen::Index m = group == 1 ? treatment.sum() : X.rows() - treatment.sum();
  Xg.resize(m, X.cols());
  yg.resize(m);
  Eigen::Index r = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    if (treatment[i] == group) {
      Xg.row(r) = X.row(i);
      yg[r++] = y[i];
    }
}

std::string bytes_of(const Classifier& model) {
  std::ostringstream out;
  model.save(out);
  return out.str();
}

std::unique_ptr<Classifier> classifier_from(const std::string& bytes) {
  std::istringstream in(bytes);
  return load_classifier(in);
}

void check_models(const char* where, const char* name, const std::unique_ptr<Classifier>& m) {
  if (!m) detail::throw_invalid(where, name, "is null; pass a classifier such as LogisticRegression");
}

Eigen::VectorXd positive_proba(const Classifier& m, MatrixRef X) { return m.predict_proba(X).col(1); }

/// The logistic regressions of a two-model learner, or null when either side is another classifier.
std::array<LogisticRegression*, 2> as_logistic(const std::unique_ptr<Classifier>& treated, const std::unique_ptr<Classifier>& control) {
  auto* t = dynamic_cast<LogisticRegression*>(treated.get());
  auto* c = dynamic_cast<LogisticRegression*>(control.get());
  if (!t || !c) return {nullptr, nullptr};
  return {t, c};
}

/// One pass over X's row chunks, in parallel: with `control`, P(treated) - P(control), else
/// 2 P(model) - 1. Each chunk's log-odds come from the same matrix-vector product as
/// LogisticRegression::decision_function on the chunk's rows, and the probabilities from its
/// sigmoid, so the values equal those of predict_proba. A non-finite log-odds (a NaN or
/// infinity in X, or an overflow) sends X through the classifiers' input check afterwards.
Eigen::VectorXd logistic_uplift(const char* where, const LogisticRegression& model, const LogisticRegression* control, MatrixRef X) {
  detail::require_fitted(model.is_fitted() && (!control || control->is_fitted()), where);
  const Eigen::Index n_features = model.n_features();
  if (control && control->n_features() != n_features)
    detail::throw_invalid(where, "control", "has ", control->n_features(), " features, the treated model ", n_features);
  if (X.cols() != n_features) detail::throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", n_features);
  const Eigen::Index n = X.rows(), n_chunks = (n + detail::kRowChunk - 1) / detail::kRowChunk;
  Eigen::VectorXd out(n);
  int nonfinite = 0;
#pragma omp parallel num_threads(detail::resolve_threads(model.options().n_threads)) reduction(| : nonfinite)
  {
    Eigen::VectorXd eta, eta_control;
#pragma omp for schedule(static)
    for (Eigen::Index c = 0; c < n_chunks; ++c) {
      const Eigen::Index begin = c * detail::kRowChunk, rows = std::min(detail::kRowChunk, n - begin);
      const auto block = X.middleRows(begin, rows);
      eta = (block * model.coef()).array() + model.intercept();
      nonfinite |= !eta.allFinite();
      if (control) {
        eta_control = (block * control->coef()).array() + control->intercept();
        for (Eigen::Index i = 0; i < rows; ++i) out[begin + i] = detail::sigmoid(eta[i]) - detail::sigmoid(eta_control[i]);
      } else {
        for (Eigen::Index i = 0; i < rows; ++i) out[begin + i] = 2.0 * detail::sigmoid(eta[i]) - 1.0;
      }
    }
  }
  if (nonfinite) detail::check_predict(where, X, n_features, false);
  return out;
}

void fit_two_logistic(const char* where, LogisticRegression& treated, LogisticRegression& control, MatrixRef X, LabelRef y,
                      LabelRef treatment) {
  detail::check_uplift_labels(where, X, y, treatment);
  std::array<std::vector<Eigen::Index>, 2> rows;
  const auto n_treated = static_cast<std::size_t>(treatment.sum());
  rows[1].reserve(n_treated);
  rows[0].reserve(static_cast<std::size_t>(X.rows()) - n_treated);
  for (Eigen::Index i = 0; i < X.rows(); ++i) rows[static_cast<std::size_t>(treatment[i])].push_back(i);
  const Eigen::VectorXd no_weights;
  treated.fit_rows(X, y, no_weights, rows[1]);
  control.fit_rows(X, y, no_weights, rows[0]);
}

/// Sets a model's n_threads for one fit and puts the user's setting back afterwards, also on errors.
class ThreadShare {
 public:
  ThreadShare(GradientBoostingClassifier& model, int n_threads) : model_(model), saved_(model.options().n_threads) {
    model_.set_n_threads(n_threads);
  }
  ~ThreadShare() { model_.set_n_threads(saved_); }
  ThreadShare(const ThreadShare&) = delete;
  ThreadShare& operator=(const ThreadShare&) = delete;

 private:
  GradientBoostingClassifier& model_;
  int saved_;
};

void fit_two_boosting(const char* where, GradientBoostingClassifier& treated, GradientBoostingClassifier& control, MatrixRef X, LabelRef y,
                      LabelRef treatment) {
  detail::check_uplift_labels(where, X, y, treatment);
  std::array<std::vector<Eigen::Index>, 2> rows;
  for (Eigen::Index i = 0; i < X.rows(); ++i) rows[static_cast<std::size_t>(treatment[i])].push_back(i);
  const Eigen::VectorXd no_weights;
  const int threads = detail::resolve_threads(treated.options().n_threads);
  const auto n = static_cast<double>(X.rows()), n_treated = static_cast<double>(rows[1].size());
  if (threads < 2 || 4 * std::min(rows[0].size(), rows[1].size()) < static_cast<std::size_t>(X.rows())) {
    treated.fit_rows(X, y, no_weights, rows[1]);
    control.fit_rows(X, y, no_weights, rows[0]);
    return;
  }
  const int share = std::clamp(static_cast<int>(std::lround(threads * n_treated / n)), 1, threads - 1);
  ThreadShare treated_share(treated, share), control_share(control, threads - share);
  // The control fit on a thread of its own (a fresh OpenMP initial thread, so its parallel regions are
  // not nested in this one's), the treated fit here.
  std::exception_ptr control_error, treated_error;
  std::thread worker([&] {
    try {
      control.fit_rows(X, y, no_weights, rows[0]);
    } catch (...) {
      control_error = std::current_exception();
    }
  });
  try {
    treated.fit_rows(X, y, no_weights, rows[1]);
  } catch (...) {
    treated_error = std::current_exception();
  }
  worker.join();
  if (treated_error) std::rethrow_exception(treated_error);
  if (control_error) std::rethrow_exception(control_error);
}

void fit_transformed_logistic(const char* where, LogisticRegression& model, MatrixRef X, LabelRef y, LabelRef treatment) {
  detail::check_uplift_labels(where, X, y, treatment);
  const Eigen::VectorXi z = (y.array() == treatment.array()).cast<int>();
  if (z.sum() == 0 || z.sum() == z.size())
    detail::throw_invalid(where, "y", "the transformed class z = (y == treatment) has one value only");
  model.fit(X, z, Eigen::VectorXd());
}

}  // namespace

void fit_two_model_logistic(LogisticRegression& treated, LogisticRegression& control, MatrixRef X, LabelRef y, LabelRef treatment) {
  fit_two_logistic("fit_two_model_logistic", treated, control, X, y, treatment);
}

void fit_two_model_boosting(GradientBoostingClassifier& treated, GradientBoostingClassifier& control, MatrixRef X, LabelRef y,
                            LabelRef treatment) {
  fit_two_boosting("fit_two_model_boosting", treated, control, X, y, treatment);
}

Eigen::VectorXd two_model_logistic_uplift(const LogisticRegression& treated, const LogisticRegression& control, MatrixRef X) {
  return logistic_uplift("two_model_logistic_uplift", treated, &control, X);
}

void fit_class_transformation_logistic(LogisticRegression& model, MatrixRef X, LabelRef y, LabelRef treatment) {
  fit_transformed_logistic("fit_class_transformation_logistic", model, X, y, treatment);
}

Eigen::VectorXd class_transformation_logistic_uplift(const LogisticRegression& model, MatrixRef X) {
  return logistic_uplift("class_transformation_logistic_uplift", model, nullptr, X);
}

TwoModelUplift::TwoModelUplift(std::unique_ptr<Classifier> treated_model, std::unique_ptr<Classifier> control_model)
    : treated_(std::move(treated_model)), control_(std::move(control_model)) {
  check_models("TwoModelUplift", "treated_model", treated_);
  check_models("TwoModelUplift", "control_model", control_);
}

TwoModelUplift& TwoModelUplift::fit(MatrixRef X, LabelRef y, LabelRef treatment) {
  constexpr const char* where = "TwoModelUplift::fit";
  if (const auto logistic = as_logistic(treated_, control_); logistic[0]) {
    fit_two_logistic(where, *logistic[0], *logistic[1], X, y, treatment);
    fitted_ = true;
    return *this;
  }
  auto* boosted_treated = dynamic_cast<GradientBoostingClassifier*>(treated_.get());
  auto* boosted_control = dynamic_cast<GradientBoostingClassifier*>(control_.get());
  if (boosted_treated && boosted_control) {
    fit_two_boosting(where, *boosted_treated, *boosted_control, X, y, treatment);
    fitted_ = true;
    return *this;
  }
  detail::check_uplift_fit(where, X, y, treatment, true);
  RowMatrix Xg;
  Eigen::VectorXi yg;
  take_group(X, y, treatment, 1, Xg, yg);
  treated_->fit(Xg, yg);
  take_group(X, y, treatment, 0, Xg, yg);
  control_->fit(Xg, yg);
  fitted_ = true;
  return *this;
}

Eigen::VectorXd TwoModelUplift::predict_treated(MatrixRef X) const {
  detail::require_fitted(fitted_, "TwoModelUplift::predict_treated");
  return positive_proba(*treated_, X);
}

Eigen::VectorXd TwoModelUplift::predict_control(MatrixRef X) const {
  detail::require_fitted(fitted_, "TwoModelUplift::predict_control");
  return positive_proba(*control_, X);
}

Eigen::VectorXd TwoModelUplift::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "TwoModelUplift::predict");
  if (const auto logistic = as_logistic(treated_, control_); logistic[0]) return two_model_logistic_uplift(*logistic[0], *logistic[1], X);
  return positive_proba(*treated_, X) - positive_proba(*control_, X);
}

void TwoModelUplift::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "TwoModelUplift::save");
  ModelWriter w(kTwoModelTag, kSchema);
  w.string(bytes_of(*treated_));
  w.string(bytes_of(*control_));
  w.finish(out);
}

TwoModelUplift TwoModelUplift::load(std::istream& in) {
  ModelReader r(in, kTwoModelTag, kSchema);
  const std::string treated = r.string("treated_model");
  const std::string control = r.string("control_model");
  r.expect_end();
  TwoModelUplift m(classifier_from(treated), classifier_from(control));
  m.fitted_ = true;
  return m;
}

ClassTransformationUplift::ClassTransformationUplift(std::unique_ptr<Classifier> model) : model_(std::move(model)) {
  check_models("ClassTransformationUplift", "model", model_);
}

ClassTransformationUplift& ClassTransformationUplift::fit(MatrixRef X, LabelRef y, LabelRef treatment) {
  constexpr const char* where = "ClassTransformationUplift::fit";
  if (auto* logistic = dynamic_cast<LogisticRegression*>(model_.get())) {
    fit_transformed_logistic(where, *logistic, X, y, treatment);
    fitted_ = true;
    return *this;
  }
  detail::check_uplift_fit(where, X, y, treatment, true);
  const Eigen::VectorXi z = (y.array() == treatment.array()).cast<int>();
  if (z.sum() == 0 || z.sum() == z.size())
    detail::throw_invalid(where, "y", "the transformed class z = (y == treatment) has one value only");
  model_->fit(X, z);
  fitted_ = true;
  return *this;
}

Eigen::VectorXd ClassTransformationUplift::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "ClassTransformationUplift::predict");
  if (const auto* logistic = dynamic_cast<const LogisticRegression*>(model_.get())) return class_transformation_logistic_uplift(*logistic, X);
  return (2.0 * positive_proba(*model_, X).array() - 1.0).matrix();
}

void ClassTransformationUplift::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "ClassTransformationUplift::save");
  ModelWriter w(kClassTransformationTag, kSchema);
  w.string(bytes_of(*model_));
  w.finish(out);
}

ClassTransformationUplift ClassTransformationUplift::load(std::istream& in) {
  ModelReader r(in, kClassTransformationTag, kSchema);
  const std::string bytes = r.string("model");
  r.expect_end();
  ClassTransformationUplift m(classifier_from(bytes));
  m.fitted_ = true;
  return m;
}

}  // namespace crmine
