// SPDX-License-Identifier: Apache-2.0
// Tests of the budget-limited campaign assignment: certificate, feasibility, pruning, errors, determinism.
#include <crmine/campaign.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace {

using crmine::CampaignProblem;

/// Owns the arrays of a random problem: response per customer x offer x channel, value per offer,
/// cost per channel (broadcast through zero strides).
struct RandomCampaign {
  std::int64_t n, offers, channels;
  std::vector<double> response, value, cost;
  CampaignProblem problem;

  RandomCampaign(std::int64_t n_, std::int64_t o_, std::int64_t c_, std::uint64_t seed) : n(n_), offers(o_), channels(c_) {
    crmine::Random rng(seed);
    response.resize(static_cast<std::size_t>(n * offers * channels));
    for (auto& r : response) r = 0.2 * rng.uniform() * rng.uniform();
    for (std::int64_t o = 0; o < offers; ++o) value.push_back(20.0 + 30.0 * static_cast<double>(o));
    for (std::int64_t c = 0; c < channels; ++c) cost.push_back(0.5 + 2.0 * static_cast<double>(c));
    problem.n_customers = n;
    problem.n_offers = offers;
    problem.n_channels = channels;
    problem.response = {response.data(), {offers * channels, channels, 1}};
    problem.value = {value.data(), {0, 1, 0}};
    problem.cost = {cost.data(), {0, 0, 1}};
  }
};

bool feasible(const CampaignProblem& p, const crmine::CampaignAssignment& a) {
  double cost = 0;
  std::vector<double> per(static_cast<std::size_t>(p.n_channels), 0);
  for (std::int64_t i = 0; i < p.n_customers; ++i) {
    if (a.offer[i] < 0) continue;
    cost += p.cost(i, a.offer[i], a.channel[i]);
    per[a.channel[i]] += 1;
  }
  if (cost > p.budget * (1 + 1e-12)) return false;
  for (std::size_t c = 0; c < p.capacity.size(); ++c)
    if (per[c] > p.capacity[c]) return false;
  return true;
}

/// The best expected profit by enumerating every assignment (tiny problems only).
double brute_force(const CampaignProblem& p) {
  const std::int64_t choices = 1 + p.n_offers * p.n_channels;
  std::vector<std::int64_t> pick(static_cast<std::size_t>(p.n_customers), 0);
  double best = 0;
  for (;;) {
    double profit = 0, cost = 0;
    std::vector<double> per(static_cast<std::size_t>(p.n_channels), 0);
    for (std::int64_t i = 0; i < p.n_customers; ++i) {
      if (pick[i] == 0) continue;
      const std::int64_t o = (pick[i] - 1) / p.n_channels, c = (pick[i] - 1) % p.n_channels;
      profit += p.response(i, o, c) * p.value(i, o, c) - p.cost(i, o, c);
      cost += p.cost(i, o, c);
      per[c] += 1;
    }
    bool ok = cost <= p.budget;
    for (std::size_t c = 0; c < p.capacity.size(); ++c) ok = ok && per[c] <= p.capacity[c];
    if (ok) best = std::max(best, profit);
    std::int64_t k = 0;
    while (k < p.n_customers && ++pick[k] == choices) pick[k++] = 0;
    if (k == p.n_customers) return best;
  }
}

void expect_invalid(const std::function<void()>& fn, const std::string& argument) {
  try {
    fn();
    FAIL() << "expected InvalidArgument naming " << argument;
  } catch (const crmine::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(argument), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(CampaignOptimize, WithoutLimitsEveryCustomerGetsItsBestContact) {
  RandomCampaign rc(500, 3, 2, 1);
  const auto a = crmine::optimize_campaign(rc.problem);
  double expected = 0;
  for (std::int64_t i = 0; i < rc.n; ++i) {
    double best = 0;
    for (std::int64_t o = 0; o < rc.offers; ++o)
      for (std::int64_t c = 0; c < rc.channels; ++c)
        best = std::max(best, rc.problem.response(i, o, c) * rc.value[o] - rc.cost[c]);
    expected += best;
    if (best == 0) {
      EXPECT_EQ(a.offer[i], -1);
    }
  }
  EXPECT_NEAR(a.expected_profit, expected, 1e-9 * expected);
  EXPECT_NEAR(a.gap, 0.0, 1e-12);
}

TEST(CampaignOptimize, BoundEnclosesTheBruteForceOptimumOnTinyProblems) {
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    RandomCampaign rc(7, 2, 2, 100 + seed);
    for (auto& r : rc.response) r = std::min(1.0, 8 * r);
    rc.problem.budget = 6.0;
    rc.problem.capacity = {4.0, 2.0};
    const auto a = crmine::optimize_campaign(rc.problem);
    const double best = brute_force(rc.problem);
    ASSERT_TRUE(feasible(rc.problem, a)) << "seed " << seed;
    EXPECT_LE(a.expected_profit, best + 1e-9) << "seed " << seed;
    EXPECT_GE(a.upper_bound, best - 1e-9) << "seed " << seed;
  }
}

TEST(CampaignOptimize, GapIsBelowOnePercentOnALargeProblem) {
  RandomCampaign rc(20000, 5, 3, 7);
  rc.problem.budget = 4000.0;
  rc.problem.capacity = {3000.0, 1500.0, 200.0};
  const auto a = crmine::optimize_campaign(rc.problem);
  EXPECT_TRUE(feasible(rc.problem, a));
  EXPECT_GT(a.expected_profit, 0.0);
  EXPECT_LT(a.gap, 0.01);
  EXPECT_GE(a.upper_bound, a.expected_profit);
  EXPECT_NEAR(crmine::campaign_dual_bound(crmine::campaign_candidates(rc.problem), rc.problem.budget,
                                          rc.problem.capacity, a.budget_price, a.channel_price),
              a.upper_bound, 1e-9 * a.upper_bound);
}

TEST(CampaignOptimize, SameAssignmentAtAnyThreadCount) {
  // Large enough (> 200k candidates) for the parallel paths to run.
  RandomCampaign rc(80000, 4, 3, 9);
  rc.problem.budget = 8000.0;
  rc.problem.capacity = {5000.0, 2000.0, std::numeric_limits<double>::infinity()};
  crmine::CampaignOptimizerOptions one, two;
  one.n_threads = 1;
  two.n_threads = 2;
  const auto a = crmine::optimize_campaign(rc.problem, one);
  const auto b = crmine::optimize_campaign(rc.problem, two);
  ASSERT_GE(a.n_candidates, 200000);
  EXPECT_EQ(a.offer, b.offer);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.expected_profit, b.expected_profit);
  EXPECT_EQ(a.upper_bound, b.upper_bound);
}

TEST(CampaignCandidates, KeepsOnlyProfitableUndominatedContacts) {
  // One customer, three offers, one channel of cost 1 per contact except offer 2, which costs 3.
  std::vector<double> response{0.5, 0.5, 0.9}, value{4.0, 2.0, 10.0}, cost{1.0, 1.0, 3.0};
  CampaignProblem p;
  p.n_customers = 1;
  p.n_offers = 3;
  p.n_channels = 1;
  p.response = {response.data(), {3, 1, 1}};
  p.value = {value.data(), {0, 1, 0}};
  p.cost = {cost.data(), {3, 1, 1}};
  const auto cand = crmine::campaign_candidates(p);
  // Offer 1 earns 0 (dropped); offer 0 earns 1 at cost 1; offer 2 earns 6 at cost 3 (kept: costlier but better).
  ASSERT_EQ(cand.size(), 2);
  EXPECT_EQ(cand.offer[0], 0);
  EXPECT_EQ(cand.offer[1], 2);
  EXPECT_DOUBLE_EQ(cand.profit[1], 6.0);
  EXPECT_EQ(cand.indptr.back(), 2);
}

TEST(CampaignOptimize, RejectsBadInputNamingTheArgument) {
  RandomCampaign rc(10, 2, 2, 3);
  auto with = [&](const std::function<void(CampaignProblem&)>& change) {
    return [&rc, change] {
      CampaignProblem p = rc.problem;
      change(p);
      crmine::optimize_campaign(p);
    };
  };
  expect_invalid(with([](CampaignProblem& p) { p.budget = 0; }), "budget");
  expect_invalid(with([](CampaignProblem& p) { p.budget = -5; }), "budget");
  expect_invalid(with([](CampaignProblem& p) { p.budget = std::nan(""); }), "budget");
  expect_invalid(with([](CampaignProblem& p) { p.capacity = {1.0}; }), "capacity");
  expect_invalid(with([](CampaignProblem& p) { p.capacity = {1.0, -1.0}; }), "capacity");
  expect_invalid(with([](CampaignProblem& p) { p.capacity = {0.0, 0.5}; }), "infeasible");
  expect_invalid(with([](CampaignProblem& p) { p.n_offers = 0; }), "response");
  std::vector<double> bad = rc.response;
  bad[5] = 1.5;
  expect_invalid(with([&bad](CampaignProblem& p) { p.response.data = bad.data(); }), "response");
  bad[5] = std::nan("");
  expect_invalid(with([&bad](CampaignProblem& p) { p.response.data = bad.data(); }), "[customer 1, offer 0, channel 1]");
  std::vector<double> value{1.0, std::numeric_limits<double>::infinity()};
  expect_invalid(with([&value](CampaignProblem& p) { p.value.data = value.data(); }), "value");
  std::vector<double> cost{1.0, -1.0};
  expect_invalid(with([&cost](CampaignProblem& p) { p.cost.data = cost.data(); }), "cost");
  crmine::CampaignOptimizerOptions o;
  o.max_iter = 0;
  expect_invalid([&] { crmine::optimize_campaign(rc.problem, o); }, "max_iter");
}
