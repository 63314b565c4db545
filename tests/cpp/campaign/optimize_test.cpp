// SPDX-License-Identifier: Apache-2.0
// Tests of the budget-limited campaign assignment: certificate, feasibility, pruning, errors, determinism.
#include <crmine/campaign.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <utility>
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

/// Within budget and capacities, at most max_offers_per_customer contacts per customer, no offer twice.
bool feasible(const CampaignProblem& p, const crmine::CampaignAssignment& a) {
  double cost = 0;
  std::vector<double> per(static_cast<std::size_t>(p.n_channels), 0);
  std::vector<int> contacts(static_cast<std::size_t>(p.n_customers), 0);
  std::set<std::pair<std::int64_t, std::int32_t>> offers;
  for (std::size_t k = 0; k < a.customer.size(); ++k) {
    const auto i = a.customer[k];
    cost += p.cost(i, a.offer[k], a.channel[k]);
    per[a.channel[k]] += 1;
    if (++contacts[i] > p.max_offers_per_customer) return false;
    if (!offers.insert({i, a.offer[k]}).second) return false;
  }
  if (cost > p.budget * (1 + 1e-12)) return false;
  for (std::size_t c = 0; c < p.capacity.size(); ++c)
    if (per[c] > p.capacity[c]) return false;
  return true;
}

/// The best plan, found by enumerating every assignment (tiny problems only): each customer gives
/// each offer no channel or one channel, at most max_offers_per_customer offers in all.
struct BruteForce {
  double profit = 0;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> contacts;  // (customer, offer, channel)
};

BruteForce brute_force(const CampaignProblem& p) {
  const std::int64_t per_offer = 1 + p.n_channels;
  std::int64_t choices = 1;
  for (std::int64_t o = 0; o < p.n_offers; ++o) choices *= per_offer;
  std::vector<std::int64_t> pick(static_cast<std::size_t>(p.n_customers), 0);
  BruteForce best;
  for (;;) {
    double profit = 0, cost = 0;
    bool ok = true;
    std::vector<double> per(static_cast<std::size_t>(p.n_channels), 0);
    for (std::int64_t i = 0; i < p.n_customers && ok; ++i) {
      std::int64_t code = pick[i], used = 0;
      for (std::int64_t o = 0; o < p.n_offers; ++o, code /= per_offer) {
        const std::int64_t c = code % per_offer - 1;
        if (c < 0) continue;
        ++used;
        profit += p.response(i, o, c) * p.value(i, o, c) - p.cost(i, o, c);
        cost += p.cost(i, o, c);
        per[c] += 1;
      }
      ok = used <= p.max_offers_per_customer;
    }
    ok = ok && cost <= p.budget;
    for (std::size_t c = 0; c < p.capacity.size(); ++c) ok = ok && per[c] <= p.capacity[c];
    if (ok && profit > best.profit) {
      best.profit = profit;
      best.contacts.clear();
      for (std::int64_t i = 0; i < p.n_customers; ++i) {
        std::int64_t code = pick[i];
        for (std::int64_t o = 0; o < p.n_offers; ++o, code /= per_offer)
          if (code % per_offer > 0) best.contacts.insert({i, o, code % per_offer - 1});
      }
    }
    std::int64_t k = 0;
    while (k < p.n_customers && ++pick[k] == choices) pick[k++] = 0;
    if (k == p.n_customers) return best;
  }
}

/// A tiny problem whose limits bind (responses scaled up, small budget and capacities).
RandomCampaign tiny_campaign(std::uint64_t seed, std::int64_t customers, int max_offers) {
  RandomCampaign rc(customers, 2, 2, seed);
  for (auto& r : rc.response) r = std::min(1.0, 8 * r);
  rc.problem.budget = 6.0;
  rc.problem.capacity = {4.0, 2.0};
  rc.problem.max_offers_per_customer = max_offers;
  return rc;
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
  std::vector<int> contacted(static_cast<std::size_t>(rc.n), 0);
  for (auto i : a.customer) ++contacted[i];
  for (std::int64_t i = 0; i < rc.n; ++i) {
    double best = 0;
    for (std::int64_t o = 0; o < rc.offers; ++o)
      for (std::int64_t c = 0; c < rc.channels; ++c)
        best = std::max(best, rc.problem.response(i, o, c) * rc.value[o] - rc.cost[c]);
    expected += best;
    EXPECT_EQ(contacted[i], best > 0 ? 1 : 0) << "customer " << i;
  }
  EXPECT_NEAR(a.expected_profit, expected, 1e-9 * expected);
  EXPECT_NEAR(a.gap, 0.0, 1e-12);
}

TEST(CampaignOptimize, WithoutLimitsEachCustomerGetsEveryProfitableOfferOnItsBestChannel) {
  RandomCampaign rc(300, 3, 2, 5);
  rc.problem.max_offers_per_customer = 3;
  const auto a = crmine::optimize_campaign(rc.problem);
  double expected = 0;
  std::size_t n_expected = 0;
  for (std::int64_t i = 0; i < rc.n; ++i)
    for (std::int64_t o = 0; o < rc.offers; ++o) {
      double best = 0;
      for (std::int64_t c = 0; c < rc.channels; ++c)
        best = std::max(best, rc.problem.response(i, o, c) * rc.value[o] - rc.cost[c]);
      expected += best;
      n_expected += best > 0;
    }
  EXPECT_TRUE(feasible(rc.problem, a));
  EXPECT_EQ(a.customer.size(), n_expected);
  EXPECT_NEAR(a.expected_profit, expected, 1e-9 * expected);
  EXPECT_NEAR(a.gap, 0.0, 1e-12);
}

TEST(CampaignOptimize, BoundEnclosesTheBruteForceOptimumOnTinyProblems) {
  for (int max_offers : {1, 2}) {
    for (std::uint64_t seed = 0; seed < 12; ++seed) {
      auto rc = tiny_campaign(100 + seed, max_offers == 1 ? 6 : 5, max_offers);
      const auto a = crmine::optimize_campaign(rc.problem);
      const double best = brute_force(rc.problem).profit;
      ASSERT_TRUE(feasible(rc.problem, a)) << "seed " << seed << ", " << max_offers << " offers per customer";
      EXPECT_LE(a.expected_profit, best + 1e-9) << "seed " << seed << ", " << max_offers << " offers per customer";
      EXPECT_GE(a.upper_bound, best - 1e-9) << "seed " << seed << ", " << max_offers << " offers per customer";
    }
  }
}

TEST(CampaignOptimize, MoreContactsPerCustomerNeverEarnLess) {
  RandomCampaign rc(20000, 5, 3, 11);
  rc.problem.budget = 6000.0;
  rc.problem.capacity = {8000.0, 1500.0, 300.0};
  double previous_bound = 0.0;
  for (int m : {1, 2, 3}) {
    rc.problem.max_offers_per_customer = m;
    const auto a = crmine::optimize_campaign(rc.problem);
    EXPECT_TRUE(feasible(rc.problem, a)) << m;
    EXPECT_LT(a.gap, 0.01) << m;
    EXPECT_GE(a.upper_bound, previous_bound) << m;  // every plan of m contacts is a plan of m + 1
    previous_bound = a.upper_bound;
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
  for (int m : {1, 2}) {
    rc.problem.max_offers_per_customer = m;
    const auto a = crmine::optimize_campaign(rc.problem, one);
    const auto b = crmine::optimize_campaign(rc.problem, two);
    ASSERT_GE(a.n_candidates, 200000);
    EXPECT_EQ(a.customer, b.customer);
    EXPECT_EQ(a.offer, b.offer);
    EXPECT_EQ(a.channel, b.channel);
    EXPECT_EQ(a.expected_profit, b.expected_profit);
    EXPECT_EQ(a.upper_bound, b.upper_bound);
  }
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

TEST(CampaignCandidates, KeepEveryProfitableContactWhenSeveralAreAllowed) {
  // Three offers of equal cost on one channel: with one contact the best (offer 2) dominates the
  // others; with two, a dominated offer can still be made besides the one dominating it.
  std::vector<double> response{0.5, 0.5, 0.9}, value{4.0, 3.0, 10.0}, cost{1.0, 1.0, 1.0};
  CampaignProblem p;
  p.n_customers = 1;
  p.n_offers = 3;
  p.n_channels = 1;
  p.response = {response.data(), {3, 1, 1}};
  p.value = {value.data(), {0, 1, 0}};
  p.cost = {cost.data(), {3, 1, 1}};
  EXPECT_EQ(crmine::campaign_candidates(p).size(), 1);  // one contact: offer 2 dominates both others
  p.max_offers_per_customer = 2;
  const auto cand = crmine::campaign_candidates(p);
  ASSERT_EQ(cand.size(), 3);
  EXPECT_EQ(cand.max_per_customer, 2);
  EXPECT_EQ(cand.offer, (std::vector<std::int32_t>{0, 1, 2}));
}

TEST(FixByReducedCost, TheOptimumKeepsEveryFixing) {
  for (int max_offers : {1, 2}) {
    for (std::uint64_t seed = 0; seed < 12; ++seed) {
      auto rc = tiny_campaign(200 + seed, max_offers == 1 ? 6 : 5, max_offers);
      const auto cand = crmine::campaign_candidates(rc.problem);
      const auto a = crmine::optimize_campaign(cand, rc.channels, rc.problem.budget, rc.problem.capacity);
      const auto fix = crmine::fix_by_reduced_cost(cand, rc.channels, rc.problem.budget, rc.problem.capacity,
                                                   a.budget_price, a.channel_price, a.expected_profit);
      const auto best = brute_force(rc.problem);
      for (std::int64_t i = 0; i < rc.n; ++i)
        for (std::int64_t j = cand.indptr[i]; j < cand.indptr[i + 1]; ++j) {
          const bool in_optimum = best.contacts.count({i, cand.offer[j], cand.channel[j]}) > 0;
          if (fix[j] == crmine::CandidateFix::taken) {
            EXPECT_TRUE(in_optimum) << "seed " << seed << ", candidate " << j;
          }
          if (fix[j] == crmine::CandidateFix::dropped) {
            EXPECT_FALSE(in_optimum) << "seed " << seed << ", candidate " << j;
          }
        }
    }
  }
}

TEST(FixByReducedCost, SettlesMostCandidatesOfALargeProblem) {
  RandomCampaign rc(20000, 5, 3, 7);
  rc.problem.budget = 4000.0;
  rc.problem.capacity = {3000.0, 1500.0, 200.0};
  const auto cand = crmine::campaign_candidates(rc.problem);
  const auto a = crmine::optimize_campaign(cand, rc.channels, rc.problem.budget, rc.problem.capacity);
  const auto fix = crmine::fix_by_reduced_cost(cand, rc.channels, rc.problem.budget, rc.problem.capacity,
                                               a.budget_price, a.channel_price, a.expected_profit);
  std::int64_t settled = 0;
  for (auto f : fix) settled += f != crmine::CandidateFix::free;
  EXPECT_GT(settled, cand.size() / 2);
  // The greedy's own plan is at least as good as itself, so it keeps every fixing too.
  for (auto j : a.candidate) EXPECT_NE(fix[j], crmine::CandidateFix::dropped);
  // The fixing is only as valid as the prices are dual prices: a negative one is refused.
  EXPECT_THROW(crmine::fix_by_reduced_cost(cand, rc.channels, rc.problem.budget, rc.problem.capacity, -1.0,
                                           a.channel_price, a.expected_profit),
               crmine::InvalidArgument);
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
  expect_invalid(with([](CampaignProblem& p) { p.max_offers_per_customer = 0; }), "max_offers_per_customer");
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
