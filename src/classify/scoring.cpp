// SPDX-License-Identifier: Apache-2.0
// Campaign scoring and the classifier factory.
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/logistic.hpp>
#include <crmine/classify/mlp.hpp>
#include <crmine/classify/naive_bayes.hpp>
#include <crmine/classify/scoring.hpp>
#include <crmine/classify/tree.hpp>
#include <crmine/core/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <istream>
#include <numeric>
#include <string>

namespace crmine {

std::vector<std::int64_t> rank_by_score(VectorRef score) {
  for (Eigen::Index i = 0; i < score.size(); ++i)
    if (std::isnan(score[i])) detail::throw_invalid("rank_by_score", "score", "NaN at row ", i);
  std::vector<std::int64_t> order(static_cast<std::size_t>(score.size()));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return score[a] > score[b]; });
  return order;
}

Selection select_top(const Classifier& model, MatrixRef X, const std::vector<std::int64_t>& ids, std::int64_t n) {
  if (n < 0) detail::throw_invalid("select_top", "n", "is ", n, "; must be >= 0");
  if (!ids.empty() && static_cast<Eigen::Index>(ids.size()) != X.rows())
    detail::throw_invalid("select_top", "ids", "has ", ids.size(), " entries, X has ", X.rows(), " rows");
  const Eigen::VectorXd score = model.predict_proba(X).col(1);
  const auto order = rank_by_score(score);
  const auto k = static_cast<std::size_t>(std::min<std::int64_t>(n, static_cast<std::int64_t>(order.size())));
  Selection s;
  for (std::size_t r = 0; r < k; ++r) {
    const std::int64_t i = order[r];
    s.rows.push_back(i);
    s.ids.push_back(ids.empty() ? i : ids[static_cast<std::size_t>(i)]);
    s.scores.push_back(score[i]);
  }
  return s;
}

ProfitCurve profit_curve(VectorRef proba, double value, double cost) {
  if (!(value >= 0) || std::isinf(value)) detail::throw_invalid("profit_curve", "value_per_response", "is ", value, "; must be finite and >= 0");
  if (!(cost >= 0) || std::isinf(cost)) detail::throw_invalid("profit_curve", "cost_per_contact", "is ", cost, "; must be finite and >= 0");
  for (Eigen::Index i = 0; i < proba.size(); ++i)
    if (!(proba[i] >= 0 && proba[i] <= 1)) detail::throw_invalid("profit_curve", "proba", "value ", proba[i], " at row ", i, " is not in [0, 1]");
  const auto order = rank_by_score(proba);
  ProfitCurve c;
  c.profit.reserve(order.size() + 1);
  c.profit.push_back(0.0);
  double running = 0.0;
  for (const std::int64_t i : order) {
    running += proba[i] * value - cost;
    c.profit.push_back(running);
    if (running > c.best_profit) {
      c.best_profit = running;
      c.best_n = static_cast<std::int64_t>(c.profit.size()) - 1;
    }
  }
  return c;
}

std::unique_ptr<Classifier> load_classifier(std::istream& in) {
  const ModelTag tag = peek_model_tag(in);
  if (tag == model_tag("LOGR")) return std::make_unique<LogisticRegression>(LogisticRegression::load(in));
  if (tag == model_tag("DTRC")) return std::make_unique<DecisionTreeClassifier>(DecisionTreeClassifier::load(in));
  if (tag == model_tag("GBMC")) return std::make_unique<GradientBoostingClassifier>(GradientBoostingClassifier::load(in));
  if (tag == model_tag("NBAY")) return std::make_unique<NaiveBayes>(NaiveBayes::load(in));
  if (tag == model_tag("MLPC")) return std::make_unique<MLPClassifier>(MLPClassifier::load(in));
  throw ModelFormatError("load_classifier: the file holds a '" + std::string(tag.data(), tag.size()) + "' model, not a classifier");
}

}  // namespace crmine
