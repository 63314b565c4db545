// SPDX-License-Identifier: Apache-2.0
// Budget-limited campaign assignment: which offer, on which channel, to which customer.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

namespace crmine {

/// A read-only n_customers x n_offers x n_channels array of doubles addressed by element strides;
/// a stride of 0 repeats the array along that axis (numpy broadcasting), so a value per offer or a
/// cost per channel is passed without materialising the full cube.
struct Strided3 {
  const double* data = nullptr;
  std::array<std::int64_t, 3> stride{0, 0, 0};  ///< elements between neighbours along customer, offer, channel

  double operator()(std::int64_t customer, std::int64_t offer, std::int64_t channel) const {
    return data[customer * stride[0] + offer * stride[1] + channel * stride[2]];
  }
};

/// One campaign: a contact is a (customer, offer, channel) triple; each customer receives at most
/// `max_offers_per_customer` contacts, each with a different offer; the expected profit of a
/// contact is response x value - cost (contacts of one customer add up: their responses are taken
/// as independent). The caller keeps the arrays alive during the call; nothing is copied.
struct CampaignProblem {
  std::int64_t n_customers = 0;
  std::int64_t n_offers = 0;
  std::int64_t n_channels = 0;
  Strided3 response;  ///< P(response | contacted with this offer on this channel); in [0, 1]
  Strided3 value;     ///< value of a response; finite
  Strided3 cost;      ///< cost of the contact, charged whether or not the customer responds; finite, >= 0
  double budget = std::numeric_limits<double>::infinity();  ///< total contact cost allowed; > 0 (+inf = none)
  /// Largest number of contacts per channel; empty = unlimited; entries >= 0, +inf = unlimited.
  std::vector<double> capacity;
  /// Contacts one customer may receive, each with a different offer; >= 1.
  int max_offers_per_customer = 1;
};

/// Throws InvalidArgument naming the argument (response, value, cost, budget, capacity) and the
/// first bad entry: a shape of 0, a probability outside [0, 1] or NaN, a non-finite value, a
/// negative or non-finite cost, a budget <= 0 or NaN, capacities of the wrong length, negative or
/// NaN, capacities that allow no contact at all, or max_offers_per_customer < 1. `where` prefixes
/// the message.
void validate(const CampaignProblem& problem, const char* where = "optimize_campaign");

/// The contacts worth considering, grouped by customer (CSR): those with positive expected profit
/// and, with one contact per customer, that no other contact on the same channel dominates (at
/// least as profitable for no more cost). Dropping the others loses nothing, in the integer
/// problem or its LP relaxation. With several contacts per customer a dominated contact can still
/// be worth taking besides the one dominating it, so only unprofitable ones are dropped, and a
/// customer's candidates are ordered by offer (one run per offer).
struct CampaignCandidates {
  std::vector<std::int64_t> indptr;  ///< n_customers + 1 offsets into the arrays below
  std::vector<double> profit;        ///< response x value - cost
  std::vector<double> cost;
  std::vector<std::int32_t> offer;
  std::vector<std::int32_t> channel;
  int max_per_customer = 1;          ///< the problem's max_offers_per_customer (the pruning depends on it)
  std::int64_t size() const { return static_cast<std::int64_t>(profit.size()); }
};

/// Builds the candidates of a validated problem, in parallel over customers; the result does not
/// depend on `n_threads` (0 = OpenMP default).
CampaignCandidates campaign_candidates(const CampaignProblem& problem, int n_threads = 0);

/// Options of the dual-price greedy. Names match the Python keyword arguments.
struct CampaignOptimizerOptions {
  int max_iter = 50;    ///< rounds of price updates (each round re-prices every constrained resource); >= 1
  double tol = 1e-7;    ///< stop when a round lowers the upper bound by less than tol x |bound|; > 0
  int n_threads = 0;    ///< 0 = OpenMP default; the assignment does not depend on it
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const CampaignOptimizerOptions& options);

/// The chosen contacts and the certificate of their quality.
struct CampaignAssignment {
  /// The contacts, one entry per contact in every vector below, ordered by customer then offer.
  std::vector<std::int64_t> customer;
  std::vector<std::int32_t> offer;
  std::vector<std::int32_t> channel;
  std::vector<std::int64_t> candidate;  ///< index of each contact in the CampaignCandidates it came from
  double expected_profit = 0.0;       ///< sum over contacts of response x value - cost
  double expected_value = 0.0;        ///< sum over contacts of response x value
  double cost = 0.0;                  ///< total contact cost (<= budget)
  std::vector<std::int64_t> channel_contacts;  ///< contacts per channel (<= capacity)
  /// An upper bound on the best possible expected profit: the Lagrangian dual of the LP
  /// relaxation at the final prices, so optimum <= upper_bound holds whatever the prices.
  double upper_bound = 0.0;
  double gap = 0.0;                   ///< (upper_bound - expected_profit) / max(|upper_bound|, 1e-300): proven sub-optimality
  double budget_price = 0.0;          ///< dual price of one unit of budget
  std::vector<double> channel_price;  ///< dual price of one contact on each channel
  int n_iter = 0;                     ///< price rounds used
  std::int64_t n_candidates = 0;      ///< contacts left after dominance pruning
};

/// The Lagrangian dual bound  sum_i (best priced choice of customer i) + price_budget budget
/// + sum_c price_c capacity_c  (unlimited resources must have price 0), where a customer's priced
/// choice takes up to max_per_customer contacts of distinct offers maximising
/// sum (profit_j - price_budget cost_j - price_channel(j)) (one contact: max(0, max_j ...)).
double campaign_dual_bound(const CampaignCandidates& candidates, double budget, const std::vector<double>& capacity,
                           double budget_price, const std::vector<double>& channel_price, int n_threads = 0);

/// Dual-price greedy for the multiple-choice knapsack with channel capacities (one contact per
/// customer; with more, each customer's priced choice is its best offers, one channel each). Prices for the
/// budget and each limited channel are found by cyclic coordinate minimisation of the Lagrangian
/// dual (bisection on each price's subgradient); every customer's options are then ranked by
/// profit minus priced resources and accepted best first while budget and capacities allow. The
/// dual value is a valid upper bound, so `gap` proves how far from optimal the answer can be. At
/// LP-optimal prices the priced choices agree with an optimal basic LP solution on every customer
/// but at most 1 + n_channels, so on large instances the gap is tiny. O(candidates) per dual
/// evaluation, OpenMP over customers with fixed-order reductions: deterministic for any n_threads.
CampaignAssignment optimize_campaign(const CampaignProblem& problem, const CampaignOptimizerOptions& options = {});

/// The same, on candidates already built (e.g. shared with an exact solver).
CampaignAssignment optimize_campaign(const CampaignCandidates& candidates, std::int64_t n_channels, double budget,
                                     const std::vector<double>& capacity, const CampaignOptimizerOptions& options = {});

/// What reduced-cost fixing decided about one candidate.
enum class CandidateFix : std::uint8_t {
  free = 0,     ///< left to the exact solver
  taken = 1,    ///< in every plan at least as good as the incumbent
  dropped = 2,  ///< in no plan at least as good as the incumbent
};

/// Lagrangian reduced-cost fixing (the variable fixing of branch and bound, applied once at the
/// root with the greedy's prices): with reduced profits r_j = profit_j - price_budget cost_j -
/// price_channel(j) and L the dual bound at those prices, every feasible plan x satisfies
/// profit(x) <= L - sum_i slack_i(x), where slack_i >= 0 is how far customer i's choice in x
/// falls short of its best priced choice. So a candidate whose inclusion alone costs more slack
/// than L - incumbent is in no plan at least as good as the incumbent (dropped), and one whose
/// exclusion does is in all of them (taken). The optimum keeps these fixings, so an exact solver
/// needs only the free candidates, with budget and capacities reduced by the taken ones.
/// `incumbent` is the profit of any feasible plan (e.g. the greedy's).
std::vector<CandidateFix> fix_by_reduced_cost(const CampaignCandidates& candidates, std::int64_t n_channels,
                                              double budget, const std::vector<double>& capacity, double budget_price,
                                              const std::vector<double>& channel_price, double incumbent,
                                              int n_threads = 0);

}  // namespace crmine
