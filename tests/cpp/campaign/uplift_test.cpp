// SPDX-License-Identifier: Apache-2.0
// Tests of the uplift area: curves against scikit-uplift's numbers, meta-learners, trees, forests.
#include <crmine/campaign/uplift.hpp>
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

namespace crmine {
namespace {

/// A randomised campaign with a known effect: features uniform on [0, 1]; the control response
/// is logistic in x0, x1 and treatment adds 2 x0 - 0.5 to the log-odds, so customers with large
/// x0 are persuadable and those with small x0 are put off.
struct Campaign {
  RowMatrix X;
  Eigen::VectorXi y, t;
  Eigen::VectorXd true_uplift;
};

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

Campaign make_campaign(Eigen::Index n, std::uint64_t seed) {
  Random rng(seed);
  Campaign c{RowMatrix(n, 3), Eigen::VectorXi(n), Eigen::VectorXi(n), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) c.X(i, j) = rng.uniform();
    const double base = -1.0 + 0.5 * c.X(i, 0) + c.X(i, 1);
    const double p0 = sigmoid(base), p1 = sigmoid(base + 2.0 * c.X(i, 0) - 0.5);
    c.true_uplift[i] = p1 - p0;
    c.t[i] = rng.uniform() < 0.5;
    c.y[i] = rng.uniform() < (c.t[i] ? p1 : p0);
  }
  return c;
}

double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::ArrayXd x = a.array() - a.mean(), y = b.array() - b.mean();
  return (x * y).sum() / std::sqrt((x * x).sum() * (y * y).sum());
}

// Twelve rows whose curves and scores scikit-uplift 0.5.1 computes as below.
const Eigen::VectorXi kY = (Eigen::VectorXi(12) << 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1).finished();
const Eigen::VectorXi kT = (Eigen::VectorXi(12) << 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1).finished();
const Eigen::VectorXd kU = (Eigen::VectorXd(12) << 0.9, 0.3, 0.1, 0.8, 0.2, 0.3, -0.2, 0.0, 0.5, 0.3, 0.4, 0.7).finished();

TEST(QiniCurve, MatchesScikitUplift) {
  const UpliftCurve c = qini_curve(kY, kU, kT);
  const std::vector<double> x{0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12};
  const std::vector<double> y{0, 1, 2, 3, 4, 4, 4, 4, 1.6666666666666665, 2.25, 1.2000000000000002};
  EXPECT_EQ(c.x, x);
  ASSERT_EQ(c.y.size(), y.size());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(c.y[i], y[i], 1e-12) << i;
}

TEST(UpliftCurve, MatchesScikitUplift) {
  const UpliftCurve c = uplift_curve(kY, kU, kT);
  const std::vector<double> y{0, 1, 2, 3, 4, 5, 4.571428571428571, 5.142857142857142, 2.380952380952381,
                              3.5357142857142856, 2.0571428571428565};
  ASSERT_EQ(c.y.size(), y.size());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(c.y[i], y[i], 1e-12) << i;
}

TEST(QiniAucScore, MatchesScikitUplift) {
  EXPECT_NEAR(qini_auc_score(kY, kU, kT), 0.9105555555555555, 1e-12);
  EXPECT_NEAR(qini_auc_score(kY, kU, kT, false), 4.215534979423866, 1e-12);
  EXPECT_NEAR(uplift_auc_score(kY, kU, kT), 0.7407203907203909, 1e-12);
  EXPECT_NEAR(uplift_at_k(kY, kU, kT, 0.5), 0.8, 1e-12);
}

TEST(QiniAucScore, PerfectScoreIsOneAndReversedIsNegative) {
  const Eigen::VectorXd oracle = (kY.array() * kT.array() - kY.array() * (1 - kT.array())).cast<double>();
  EXPECT_NEAR(qini_auc_score(kY, oracle, kT), 1.0, 1e-12);
  EXPECT_LT(qini_auc_score(kY, -oracle, kT), 0.0);
}

TEST(QiniCurve, TiedScoresFormOnePoint) {
  const Eigen::VectorXd constant = Eigen::VectorXd::Constant(12, 0.5);
  const UpliftCurve c = qini_curve(kY, constant, kT);
  EXPECT_EQ(c.x, (std::vector<double>{0, 12}));
  // A constant score is the random line: zero area above it.
  EXPECT_NEAR(qini_auc_score(kY, constant, kT), 0.0, 1e-12);
}

TEST(QiniCurve, RejectsBadInput) {
  Eigen::VectorXi t2 = kT;
  t2[3] = 2;
  EXPECT_THROW(qini_curve(kY, kU, t2), InvalidArgument);
  EXPECT_THROW(qini_curve(kY, kU, Eigen::VectorXi::Ones(12)), InvalidArgument);   // no control
  EXPECT_THROW(qini_curve(kY, kU, Eigen::VectorXi::Zero(12)), InvalidArgument);  // no treated
  Eigen::VectorXi y2 = kY;
  y2[0] = -1;
  EXPECT_THROW(qini_auc_score(y2, kU, kT), InvalidArgument);
  Eigen::VectorXd u2 = kU;
  u2[5] = std::nan("");
  EXPECT_THROW(uplift_auc_score(kY, u2, kT), InvalidArgument);
  EXPECT_THROW(qini_curve(kY, kU.head(5), kT), InvalidArgument);
  try {
    qini_curve(kY, kU, t2);
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("treatment"), std::string::npos);
  }
}

TEST(ChooseTreatment, TakesProfitablePrefixBestFirst) {
  const Eigen::VectorXd u = (Eigen::VectorXd(5) << 0.05, 0.30, -0.10, 0.20, 0.01).finished();
  TreatmentChoiceOptions o;
  o.value_per_response = 10.0;
  o.cost_per_contact = 1.0;  // profitable when uplift > 0.1
  const TreatmentChoice c = choose_treatment(u, o);
  EXPECT_EQ(c.rows, (std::vector<std::int64_t>{1, 3}));
  EXPECT_NEAR(c.expected_incremental_responses, 0.5, 1e-12);
  EXPECT_NEAR(c.expected_profit, 3.0, 1e-12);
  EXPECT_EQ(c.best_n, 2);
  o.n = 1;
  EXPECT_EQ(choose_treatment(u, o).rows, (std::vector<std::int64_t>{1}));
  o.n = -1;
  o.profitable_only = false;
  EXPECT_EQ(choose_treatment(u, o).rows.size(), 5u);
  o.cost_per_contact = -1;
  EXPECT_THROW(choose_treatment(u, o), InvalidArgument);
}

TEST(TwoModelUplift, RecoversTrueEffectWithLogisticRegression) {
  const Campaign c = make_campaign(20000, 1);
  TwoModelUplift m(std::make_unique<LogisticRegression>(), std::make_unique<LogisticRegression>());
  m.fit(c.X, c.y, c.t);
  const Eigen::VectorXd u = m.predict(c.X);
  EXPECT_GT(correlation(u, c.true_uplift), 0.95);
  EXPECT_NEAR((m.predict_treated(c.X) - m.predict_control(c.X) - u).norm(), 0.0, 1e-12);
  // Ranking by the estimate is nearly as good as ranking by the true effect.
  EXPECT_GT(qini_auc_score(c.y, u, c.t), 0.9 * qini_auc_score(c.y, c.true_uplift, c.t));
}

/// The control (0) and treated (1) rows of a campaign, copied: what the generic two-model path fits.
struct Groups {
  std::array<RowMatrix, 2> X;
  std::array<Eigen::VectorXi, 2> y;
};
Groups copy_groups(const Campaign& c) {
  Groups g;
  for (std::size_t k = 0; k < 2; ++k) {
    const Eigen::Index m = k == 1 ? c.t.sum() : c.t.size() - c.t.sum();
    g.X[k].resize(m, c.X.cols());
    g.y[k].resize(m);
    for (Eigen::Index i = 0, r = 0; i < c.X.rows(); ++i)
      if (c.t[i] == static_cast<int>(k)) {
        g.X[k].row(r) = c.X.row(i);
        g.y[k][r++] = c.y[i];
      }
  }
  return g;
}

TEST(TwoModelUplift, LogisticGroupsFittedInPlaceEqualFitsOnCopiedGroups) {
  const Campaign c = make_campaign(9000, 11);
  LogisticRegressionOptions o;
  o.n_threads = 2;
  const Groups g = copy_groups(c);
  const auto& Xg = g.X;
  const auto& yg = g.y;
  LogisticRegression treated(o), control(o), treated_copy(o), control_copy(o);
  fit_two_model_logistic(treated, control, c.X, c.y, c.t);
  treated_copy.fit(Xg[1], yg[1]);
  control_copy.fit(Xg[0], yg[0]);
  EXPECT_EQ(treated.coef(), treated_copy.coef());
  EXPECT_EQ(treated.intercept(), treated_copy.intercept());
  EXPECT_EQ(control.coef(), control_copy.coef());
  EXPECT_EQ(control.intercept(), control_copy.intercept());
  const Eigen::VectorXd expected = treated_copy.predict_proba(c.X).col(1) - control_copy.predict_proba(c.X).col(1);
  EXPECT_EQ(two_model_logistic_uplift(treated, control, c.X), expected);
  // TwoModelUplift takes the same path for two logistic regressions.
  TwoModelUplift m(std::make_unique<LogisticRegression>(o), std::make_unique<LogisticRegression>(o));
  EXPECT_EQ(m.fit(c.X, c.y, c.t).predict(c.X), expected);
  RowMatrix bad = c.X;
  bad(4000, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(two_model_logistic_uplift(treated, control, bad), InvalidArgument);
  EXPECT_THROW(fit_two_model_logistic(treated, control, bad, c.y, c.t), InvalidArgument);
  EXPECT_THROW(two_model_logistic_uplift(treated, control, c.X.leftCols(2)), InvalidArgument);
  EXPECT_THROW(two_model_logistic_uplift(treated, LogisticRegression(), c.X), NotFittedError);
}

TEST(TwoModelUplift, BoostingGroupsFittedTogetherEqualFitsOnCopiedGroups) {
  // At 2 threads the groups (about half the rows each) are fitted at the same time on one thread
  // each; a campaign with 15% treated is fitted one group after the other. Either way each model is
  // the one fitted on its copied group, and keeps the n_threads it was given.
  Campaign c = make_campaign(6000, 13);
  c.X(17, 1) = std::numeric_limits<double>::quiet_NaN();
  Campaign few_treated = c;
  for (Eigen::Index i = 0; i < c.t.size(); ++i) few_treated.t[i] = i % 7 == 0;
  for (const Campaign* campaign : {&c, &few_treated})
    for (const int threads : {1, 2}) {
      GradientBoostingOptions o;
      o.n_estimators = 12;
      o.num_leaves = 9;
      o.subsample = 0.8;
      o.n_threads = threads;
      const Groups g = copy_groups(*campaign);
      GradientBoostingClassifier treated(o), control(o), treated_copy(o), control_copy(o);
      fit_two_model_boosting(treated, control, campaign->X, campaign->y, campaign->t);
      treated_copy.fit(g.X[1], g.y[1]);
      control_copy.fit(g.X[0], g.y[0]);
      for (const auto& [fitted, copy] : {std::pair{&treated, &treated_copy}, std::pair{&control, &control_copy}}) {
        std::stringstream a, b;
        fitted->save(a);
        copy->save(b);
        EXPECT_EQ(a.str(), b.str()) << "threads " << threads;
        EXPECT_EQ(fitted->options().n_threads, threads);
      }
      TwoModelUplift m(std::make_unique<GradientBoostingClassifier>(o), std::make_unique<GradientBoostingClassifier>(o));
      EXPECT_EQ(m.fit(campaign->X, campaign->y, campaign->t).predict(campaign->X),
                treated_copy.predict_proba(campaign->X).col(1) - control_copy.predict_proba(campaign->X).col(1));
    }
}

TEST(TwoModelUplift, BoostingFitNamesTheGroupWithBadInput) {
  Campaign c = make_campaign(3000, 5);
  GradientBoostingOptions o;
  o.n_estimators = 3;
  o.n_threads = 2;
  GradientBoostingClassifier treated(o), control(o);
  Eigen::Index first_control = 0;
  while (c.t[first_control] != 0) ++first_control;
  c.X(first_control, 2) = std::numeric_limits<double>::infinity();
  try {
    fit_two_model_boosting(treated, control, c.X, c.y, c.t);
    FAIL() << "an infinite feature value was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("fit_rows: X: infinite value at row 0, column 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(control.options().n_threads, 2);  // put back after the failed fit
  EXPECT_FALSE(control.is_fitted());
  EXPECT_THROW(fit_two_model_boosting(treated, control, c.X, c.y, Eigen::VectorXi::Zero(3000)), InvalidArgument);
}

TEST(TwoModelUplift, SavesAndLoads) {
  const Campaign c = make_campaign(3000, 2);
  TwoModelUplift m(std::make_unique<GradientBoostingClassifier>(), std::make_unique<LogisticRegression>());
  m.fit(c.X, c.y, c.t);
  std::stringstream s;
  m.save(s);
  const TwoModelUplift back = TwoModelUplift::load(s);
  EXPECT_EQ(back.predict(c.X), m.predict(c.X));
  std::string bytes = s.str();
  bytes[bytes.size() / 2] ^= 0x20;
  std::istringstream bad(bytes);
  EXPECT_THROW(TwoModelUplift::load(bad), ModelFormatError);
}

TEST(TwoModelUplift, RejectsBadInput) {
  const Campaign c = make_campaign(200, 3);
  TwoModelUplift m(std::make_unique<LogisticRegression>(), std::make_unique<LogisticRegression>());
  EXPECT_THROW(m.fit(c.X, c.y, Eigen::VectorXi::Ones(200)), InvalidArgument);
  EXPECT_THROW(m.fit(c.X, c.y, c.t.head(100)), InvalidArgument);
  EXPECT_THROW(m.predict(c.X), NotFittedError);
  EXPECT_THROW(TwoModelUplift(nullptr, std::make_unique<LogisticRegression>()), InvalidArgument);
}

TEST(ClassTransformationUplift, RecoversTrueEffectWithEqualGroups) {
  const Campaign c = make_campaign(20000, 4);
  ClassTransformationUplift m(std::make_unique<LogisticRegression>());
  m.fit(c.X, c.y, c.t);
  const Eigen::VectorXd u = m.predict(c.X);
  EXPECT_GT(correlation(u, c.true_uplift), 0.9);
  std::stringstream s;
  m.save(s);
  EXPECT_EQ(ClassTransformationUplift::load(s).predict(c.X), u);
  // The logistic path equals a fit on the transformed class built by hand.
  const Eigen::VectorXi z = (c.y.array() == c.t.array()).cast<int>();
  LogisticRegression by_hand;
  by_hand.fit(c.X, z);
  EXPECT_EQ(u, (2.0 * by_hand.predict_proba(c.X).col(1).array() - 1.0).matrix());
  EXPECT_THROW(fit_class_transformation_logistic(by_hand, c.X, c.y, Eigen::VectorXi::Zero(c.y.size())), InvalidArgument);
}

TEST(UpliftTree, FindsTheSplitOfAStepEffect) {
  // Uplift 0.3 when x1 > 0.6, none elsewhere; x0 and x2 are noise.
  Random rng(5);
  const Eigen::Index n = 20000;
  RowMatrix X(n, 3);
  Eigen::VectorXi y(n), t(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) X(i, j) = rng.uniform();
    t[i] = rng.uniform() < 0.5;
    y[i] = rng.uniform() < 0.2 + (t[i] && X(i, 1) > 0.6 ? 0.3 : 0.0);
  }
  UpliftTreeOptions o;
  o.max_depth = 1;
  for (UpliftCriterion crit : {UpliftCriterion::kl, UpliftCriterion::ed, UpliftCriterion::chi, UpliftCriterion::ddp}) {
    o.criterion = crit;
    UpliftTree tree(o);
    tree.fit(X, y, t);
    const auto& root = tree.nodes()[0];
    EXPECT_EQ(root.feature, 1);
    EXPECT_NEAR(root.threshold, 0.6, 0.02);
    EXPECT_NEAR(tree.nodes()[static_cast<std::size_t>(root.right)].uplift, 0.3, 0.04);
    EXPECT_NEAR(tree.nodes()[static_cast<std::size_t>(root.left)].uplift, 0.0, 0.03);
    EXPECT_EQ(tree.feature_importances()[1], 1.0);
  }
}

TEST(UpliftTree, SameTreeAtAnyThreadCountAndAfterLoad) {
  const Campaign c = make_campaign(30000, 6);
  UpliftTreeOptions o;
  o.max_features = 0.67;
  o.n_threads = 1;
  UpliftTree one(o);
  one.fit(c.X, c.y, c.t);
  o.n_threads = 2;
  UpliftTree two(o);
  two.fit(c.X, c.y, c.t);
  EXPECT_EQ(one.predict(c.X), two.predict(c.X));
  std::stringstream s;
  one.save(s);
  EXPECT_EQ(UpliftTree::load(s).predict(c.X), one.predict(c.X));
}

TEST(UpliftForest, RecoversTrueEffect) {
  const Campaign c = make_campaign(20000, 7);
  UpliftForestOptions o;
  o.n_estimators = 30;
  o.max_depth = 4;
  UpliftForest f(o);
  f.fit(c.X, c.y, c.t);
  const Eigen::VectorXd u = f.predict(c.X);
  EXPECT_GT(correlation(u, c.true_uplift), 0.85);
  EXPECT_GT(f.feature_importances()[0], 0.5);  // the effect runs through x0
}

TEST(UpliftForest, SeedRepeatableThreadIndependentAndSerialisable) {
  const Campaign c = make_campaign(5000, 8);
  UpliftForestOptions o;
  o.n_estimators = 8;
  o.min_samples_leaf = 50;
  o.n_threads = 1;
  UpliftForest a(o);
  a.fit(c.X, c.y, c.t);
  o.n_threads = 2;
  UpliftForest b(o);
  b.fit(c.X, c.y, c.t);
  EXPECT_EQ(a.predict(c.X), b.predict(c.X));
  o.seed = 99;
  UpliftForest other(o);
  other.fit(c.X, c.y, c.t);
  EXPECT_NE(a.predict(c.X), other.predict(c.X));
  o.bootstrap = false;
  o.max_samples = 0.5;
  UpliftForest sub(o);
  EXPECT_NO_THROW(sub.fit(c.X, c.y, c.t));
  std::stringstream s;
  a.save(s);
  std::string bytes = s.str();
  std::istringstream good(bytes);
  EXPECT_EQ(UpliftForest::load(good).predict(c.X), a.predict(c.X));
  bytes.resize(bytes.size() - 9);
  std::istringstream truncated(bytes);
  EXPECT_THROW(UpliftForest::load(truncated), ModelFormatError);
}

TEST(UpliftForest, RejectsBadInputAndOptions) {
  const Campaign c = make_campaign(500, 9);
  UpliftForestOptions o;
  o.n_estimators = 0;
  EXPECT_THROW(UpliftForest(o).fit(c.X, c.y, c.t), InvalidArgument);
  o = {};
  o.max_features = 1.5;
  EXPECT_THROW(UpliftForest(o).fit(c.X, c.y, c.t), InvalidArgument);
  RowMatrix X = c.X;
  X(3, 1) = std::nan("");
  EXPECT_THROW(UpliftForest().fit(X, c.y, c.t), InvalidArgument);
  Eigen::VectorXi y = c.y;
  y[0] = 3;
  EXPECT_THROW(UpliftTree().fit(c.X, y, c.t), InvalidArgument);
  UpliftTree fitted;
  fitted.fit(c.X, c.y, c.t);
  EXPECT_THROW(fitted.predict(c.X.leftCols(2)), InvalidArgument);
  EXPECT_THROW(UpliftForest().predict(c.X), NotFittedError);
}

}  // namespace
}  // namespace crmine
