// SPDX-License-Identifier: Apache-2.0
// Specification of the probability of n purchases, unconditional and conditional, for every model.
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace crmine {
namespace {

TEST(BetaGeo, ProbabilityOfNPurchasesMatchesLifetimes) {
  // lifetimes 0.11.3 BetaGeoFitter.probability_of_n_purchases_up_to_time (eq. 8 of the paper).
  BetaGeo m;
  m.set_params(Eigen::Vector4d(0.242594150135163, 4.41359212062015, 0.792919156875463, 2.4258950494563));
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 0), 0.5743073765792772, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 1), 0.1991924528025188, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 3), 0.045797508309762786, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(78, 7), 0.012778511219777034, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(5.5, 2), 0.03291336790209472, 1e-12);
}

TEST(ModifiedBetaGeo, ProbabilityOfNPurchasesMatchesLifetimes) {
  ModifiedBetaGeo m;
  m.set_params(Eigen::Vector4d(0.525, 6.183, 0.891, 1.614));
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 0), 0.5824731894932891, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 1), 0.18278307728754056, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 3), 0.04857044295156923, 1e-12);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(78, 7), 0.013555267632832841, 1e-12);
}

TEST(ParetoNBD, ProbabilityOfNPurchasesMatchesNumericalIntegration) {
  // Reference: scipy.integrate.quad of the defining integral, alive-at-t term plus
  // int_0^t NBD(n; tau) s beta^s (beta + tau)^-(s+1) dtau (independent of note 012's closed form).
  ParetoNBD m;
  m.set_params(Eigen::Vector4d(0.5533, 10.5776, 0.6061, 11.6689));
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 0), 0.5934884523952806, 1e-10);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 1), 0.1655925590548012, 1e-10);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(39, 3), 0.04905909225411623, 1e-10);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(78, 7), 0.015019447221544831, 1e-10);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(5.5, 2), 0.034688193296056345, 1e-10);
  EXPECT_NEAR(m.probability_of_n_purchases_up_to_time(200, 20), 0.0030332291807555634, 1e-10);
}

TEST(ParetoNBD, ConditionalProbabilityOfNPurchasesMatchesLifetimes) {
  // lifetimes 0.11.3 ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time
  // (eq. 16 of Fader & Hardie's note 028).
  ParetoNBD m;
  m.set_params(Eigen::Vector4d(0.5533, 10.5776, 0.6061, 11.6689));
  const std::vector<double> x{2}, tx{30.43}, T{38.86};
  const ClvData d{x, tx, T, {}};
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(0, 39, d)[0], 0.4080565093999691, 1e-10);
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(1, 39, d)[0], 0.21927275286144512, 1e-10);
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(3, 39, d)[0], 0.0956597514302891, 1e-10);
  const std::vector<double> x0{0}, tx0{0}, T0{30}, x1{10}, tx1{35}, T1{38};
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(0, 52, {x0, tx0, T0, {}})[0], 0.8946026682199228,
              1e-10);
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(2, 52, {x0, tx0, T0, {}})[0], 0.023756161493805206,
              1e-10);
  EXPECT_NEAR(m.conditional_probability_of_n_purchases_up_to_time(5, 26, {x1, tx1, T1, {}})[0], 0.11749353076723304,
              1e-10);
}

/// The PMF sums to 1 and its mean is the model's expected number of purchases, unconditionally
/// and per customer; n beyond the horizon's reach has vanishing probability.
void check_pmf_is_a_distribution(const TransactionModel& m, double t, int n_max, const ClvData& d, double tol) {
  double total = 0.0, mean = 0.0;
  for (int n = 0; n <= n_max; ++n) {
    const double p = m.probability_of_n_purchases_up_to_time(t, n);
    ASSERT_GE(p, 0.0) << n;
    total += p;
    mean += n * p;
  }
  EXPECT_NEAR(total, 1.0, tol);
  EXPECT_NEAR(mean, m.expected_number_of_purchases_up_to_time(t), tol * 100);
  std::vector<double> c_total(d.size(), 0.0), c_mean(d.size(), 0.0);
  for (int n = 0; n <= n_max; ++n) {
    const auto p = m.conditional_probability_of_n_purchases_up_to_time(n, t, d);
    for (std::size_t i = 0; i < d.size(); ++i) {
      ASSERT_GE(p[i], 0.0);
      c_total[i] += p[i];
      c_mean[i] += n * p[i];
    }
  }
  const auto expected = m.conditional_expected_number_of_purchases_up_to_time(t, d);
  for (std::size_t i = 0; i < d.size(); ++i) {
    EXPECT_NEAR(c_total[i], 1.0, tol) << "customer " << i;
    EXPECT_NEAR(c_mean[i], expected[i], tol * 100) << "customer " << i;
  }
}

TEST(TransactionModel, ProbabilityOfNPurchasesIsADistributionWithTheModelsMean) {
  const std::vector<double> x{0, 1, 2, 7, 15}, tx{0, 3.5, 30.43, 20, 38}, T{10, 20, 38.86, 39, 39};
  const ClvData d{x, tx, T, {}};
  BetaGeo bg;
  bg.set_params(Eigen::Vector4d(0.2426, 4.4135, 0.7929, 2.4258));
  check_pmf_is_a_distribution(bg, 39.0, 250, d, 1e-9);
  ModifiedBetaGeo mbg;
  mbg.set_params(Eigen::Vector4d(0.525, 6.183, 0.891, 1.614));
  check_pmf_is_a_distribution(mbg, 39.0, 250, d, 1e-9);
  ParetoNBD pnbd;
  pnbd.set_params(Eigen::Vector4d(0.5533, 10.5776, 0.6061, 11.6689));
  check_pmf_is_a_distribution(pnbd, 39.0, 120, d, 1e-9);
  // alpha < beta takes the other branch of the hypergeometric representation.
  pnbd.set_params(Eigen::Vector4d(0.5533, 6.0, 0.6061, 15.0));
  check_pmf_is_a_distribution(pnbd, 26.0, 120, d, 1e-9);
  BetaGeoBetaBinom bgbb;
  bgbb.set_params(Eigen::Vector4d(1.2035, 0.7497, 0.6567, 2.7834));
  const std::vector<double> bx{0, 1, 3, 6}, btx{0, 1, 5, 6}, bn{6, 6, 6, 6};
  check_pmf_is_a_distribution(bgbb, 5.0, 5, {bx, btx, bn, {}}, 1e-12);
}

TEST(TransactionModel, ProbabilityOfNPurchasesAtZeroHorizonIsAPointMass) {
  BetaGeo bg;
  bg.set_params(Eigen::Vector4d(0.2426, 4.4135, 0.7929, 2.4258));
  EXPECT_DOUBLE_EQ(bg.probability_of_n_purchases_up_to_time(0.0, 0), 1.0);
  EXPECT_DOUBLE_EQ(bg.probability_of_n_purchases_up_to_time(0.0, 2), 0.0);
  ParetoNBD pnbd;
  pnbd.set_params(Eigen::Vector4d(0.5533, 10.5776, 0.6061, 11.6689));
  EXPECT_DOUBLE_EQ(pnbd.probability_of_n_purchases_up_to_time(0.0, 0), 1.0);
}

TEST(BetaGeoBetaBinom, ProbabilityOfNPurchasesMatchesLifetimesFitHistogram) {
  // lifetimes 0.11.3 expected_number_of_transactions_in_first_n_periods(6) on donations.csv
  // (11,104 customers): n_customers * P(X(6) = x).
  BetaGeoBetaBinom m;
  m.set_params(Eigen::Vector4d(1.2035, 0.7497, 0.6567, 2.7834));
  const double lifetimes[] = {3454.8618862161634, 1888.641732125939,  1348.8757251069185, 1113.3757605619196,
                              1017.9234541955259, 1027.1738642958546, 1253.1475774976736};
  for (int x = 0; x <= 6; ++x)
    EXPECT_NEAR(11104.0 * m.probability_of_n_purchases_up_to_time(6, x), lifetimes[x], 1e-8) << x;
  EXPECT_DOUBLE_EQ(m.probability_of_n_purchases_up_to_time(6, 7), 0.0);
}

TEST(TransactionModel, ProbabilityOfNPurchasesRejectsBadArguments) {
  BetaGeo bg;
  EXPECT_THROW(bg.probability_of_n_purchases_up_to_time(1.0, 0), NotFittedError);
  bg.set_params(Eigen::Vector4d(0.2426, 4.4135, 0.7929, 2.4258));
  EXPECT_THROW(bg.probability_of_n_purchases_up_to_time(1.0, -1), InvalidArgument);
  EXPECT_THROW(bg.probability_of_n_purchases_up_to_time(-1.0, 0), InvalidArgument);
  EXPECT_THROW(bg.probability_of_n_purchases_up_to_time(NAN, 0), InvalidArgument);
  const std::vector<double> x{1}, tx{5}, T{3};
  EXPECT_THROW(bg.conditional_probability_of_n_purchases_up_to_time(0, 1.0, {x, tx, T, {}}), InvalidArgument);
  BetaGeoBetaBinom bgbb;
  bgbb.set_params(Eigen::Vector4d(1.2, 0.75, 0.66, 2.8));
  EXPECT_THROW(bgbb.probability_of_n_purchases_up_to_time(2.5, 1), InvalidArgument);
}

}  // namespace
}  // namespace crmine
