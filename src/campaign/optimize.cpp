// SPDX-License-Identifier: Apache-2.0
// Budget-limited campaign assignment: problem checks, candidate pruning, dual prices, the priced greedy.
#include <crmine/campaign/optimize.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace crmine {
namespace {

// Customers per work item: results are reduced chunk by chunk in chunk order, so sums do not
// depend on the thread count.
constexpr std::int64_t kChunk = 4096;
// Below this many elements a parallel region costs more than it saves (and a loaded machine makes
// idle OpenMP threads expensive).
constexpr std::int64_t kParallelMin = 200000;

std::int64_t n_chunks(std::int64_t n) { return (n + kChunk - 1) / kChunk; }

/// The first (lowest flat index) entry of the cube for which `bad` holds, or -1.
template <typename Bad>
std::int64_t first_bad(const CampaignProblem& p, const Strided3& a, Bad bad, int threads) {
  const std::int64_t chunks = n_chunks(p.n_customers);
  std::vector<std::int64_t> found(static_cast<std::size_t>(chunks), -1);
#pragma omp parallel for schedule(static) num_threads(threads) if (p.n_customers * p.n_offers * p.n_channels >= kParallelMin)
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t end = std::min(p.n_customers, (ch + 1) * kChunk);
    for (std::int64_t i = ch * kChunk; i < end && found[ch] < 0; ++i)
      for (std::int64_t o = 0; o < p.n_offers && found[ch] < 0; ++o)
        for (std::int64_t c = 0; c < p.n_channels; ++c)
          if (bad(a(i, o, c))) {
            found[ch] = (i * p.n_offers + o) * p.n_channels + c;
            break;
          }
  }
  for (auto f : found)
    if (f >= 0) return f;
  return -1;
}

void check_cube(const CampaignProblem& p, const Strided3& a, const char* where, const char* name, const char* rule,
                bool (*bad)(double)) {
  if (a.data == nullptr) detail::throw_invalid(where, name, "no data");
  const auto at = first_bad(p, a, bad, detail::resolve_threads(0));
  if (at < 0) return;
  const std::int64_t c = at % p.n_channels, o = (at / p.n_channels) % p.n_offers, i = at / (p.n_channels * p.n_offers);
  detail::throw_invalid(where, name, "value ", a(i, o, c), " at [customer ", i, ", offer ", o, ", channel ", c,
                        "] ", rule);
}

/// Per-chunk partial sums of a dual evaluation.
struct DualParts {
  double positive = 0.0;                 // sum over customers of max(0, best reduced profit)
  double used_cost = 0.0;                // cost of the priced choices
  std::vector<double> used_channel;      // contacts per channel of the priced choices
};

/// The priced choice of every customer, summed: the dual's value and its subgradient.
class DualEvaluator {
 public:
  DualEvaluator(const CampaignCandidates& cand, std::int64_t n_channels, int threads)
      : cand_(cand), n_channels_(n_channels), threads_(threads) {}

  DualParts operator()(double budget_price, const std::vector<double>& channel_price) const {
    const std::int64_t n = static_cast<std::int64_t>(cand_.indptr.size()) - 1;
    const std::int64_t chunks = n_chunks(n);
    std::vector<DualParts> parts(static_cast<std::size_t>(chunks));
    const double* profit = cand_.profit.data();
    const double* cost = cand_.cost.data();
    const std::int32_t* channel = cand_.channel.data();
    const double* price = channel_price.data();
#pragma omp parallel for schedule(static) num_threads(threads_) if (cand_.size() >= kParallelMin)
    for (std::int64_t ch = 0; ch < chunks; ++ch) {
      DualParts& part = parts[static_cast<std::size_t>(ch)];
      part.used_channel.assign(static_cast<std::size_t>(n_channels_), 0.0);
      const std::int64_t end = std::min(n, (ch + 1) * kChunk);
      for (std::int64_t i = ch * kChunk; i < end; ++i) {
        double best = 0.0;
        std::int64_t arg = -1;
        for (std::int64_t j = cand_.indptr[i]; j < cand_.indptr[i + 1]; ++j) {
          const double r = profit[j] - budget_price * cost[j] - price[channel[j]];
          if (r > best) best = r, arg = j;
        }
        if (arg < 0) continue;
        part.positive += best;
        part.used_cost += cost[arg];
        part.used_channel[static_cast<std::size_t>(channel[arg])] += 1.0;
      }
    }
    DualParts total;
    total.used_channel.assign(static_cast<std::size_t>(n_channels_), 0.0);
    for (const auto& part : parts) {
      total.positive += part.positive;
      total.used_cost += part.used_cost;
      for (std::int64_t c = 0; c < n_channels_; ++c) total.used_channel[c] += part.used_channel[c];
    }
    return total;
  }

 private:
  const CampaignCandidates& cand_;
  std::int64_t n_channels_;
  int threads_;
};

double dual_value(const DualParts& parts, double budget, const std::vector<double>& capacity, double budget_price,
                  const std::vector<double>& channel_price) {
  double d = parts.positive;
  if (std::isfinite(budget)) d += budget_price * budget;
  for (std::size_t c = 0; c < capacity.size(); ++c)
    if (std::isfinite(capacity[c])) d += channel_price[c] * capacity[c];
  return d;
}

/// Capacities as one entry per channel, unlimited where none was given.
std::vector<double> full_capacity(const std::vector<double>& capacity, std::int64_t n_channels) {
  if (!capacity.empty()) return capacity;
  return std::vector<double>(static_cast<std::size_t>(n_channels), std::numeric_limits<double>::infinity());
}

}  // namespace

void validate(const CampaignProblem& p, const char* where) {
  if (p.n_customers < 1 || p.n_offers < 1 || p.n_channels < 1)
    detail::throw_invalid(where, "response", "shape (", p.n_customers, ", ", p.n_offers, ", ", p.n_channels,
                          ") must have at least one customer, offer and channel");
  if (p.n_offers > std::numeric_limits<std::int32_t>::max() || p.n_channels > std::numeric_limits<std::int32_t>::max())
    detail::throw_invalid(where, "response", "too many offers or channels");
  if (std::isnan(p.budget) || !(p.budget > 0))
    detail::throw_invalid(where, "budget", "is ", p.budget, "; must be > 0 (+inf for no budget limit)");
  if (!p.capacity.empty()) {
    if (static_cast<std::int64_t>(p.capacity.size()) != p.n_channels)
      detail::throw_invalid(where, "capacity", "has ", p.capacity.size(), " entries for ", p.n_channels, " channels");
    bool any = false;
    for (std::size_t c = 0; c < p.capacity.size(); ++c) {
      if (std::isnan(p.capacity[c]) || p.capacity[c] < 0)
        detail::throw_invalid(where, "capacity", "channel ", c, " has capacity ", p.capacity[c], "; must be >= 0");
      any = any || p.capacity[c] >= 1;
    }
    if (!any) detail::throw_invalid(where, "capacity", "infeasible: no channel can take a single contact");
  }
  check_cube(p, p.response, where, "response", "is not a probability in [0, 1]",
             [](double x) { return !(x >= 0.0 && x <= 1.0); });
  check_cube(p, p.value, where, "value", "is not finite", [](double x) { return !std::isfinite(x); });
  check_cube(p, p.cost, where, "cost", "must be finite and >= 0", [](double x) { return !(std::isfinite(x) && x >= 0); });
}

void validate(const CampaignOptimizerOptions& o) {
  if (o.max_iter < 1) detail::throw_invalid("CampaignOptimizerOptions", "max_iter", "is ", o.max_iter, "; must be >= 1");
  if (!(o.tol > 0) || !std::isfinite(o.tol))
    detail::throw_invalid("CampaignOptimizerOptions", "tol", "is ", o.tol, "; must be finite and > 0");
}

CampaignCandidates campaign_candidates(const CampaignProblem& p, int n_threads) {
  const int threads = detail::resolve_threads(n_threads);
  const std::int64_t chunks = n_chunks(p.n_customers);
  std::vector<CampaignCandidates> local(static_cast<std::size_t>(chunks));
#pragma omp parallel num_threads(threads) if (p.n_customers * p.n_offers * p.n_channels >= kParallelMin)
  {
    // (cost, -profit, offer) sorts a channel's options cheapest first, the best of equal cost first.
    std::vector<std::tuple<double, double, std::int32_t>> options;
#pragma omp for schedule(static)
    for (std::int64_t ch = 0; ch < chunks; ++ch) {
      auto& out = local[static_cast<std::size_t>(ch)];
      const std::int64_t begin = ch * kChunk, end = std::min(p.n_customers, (ch + 1) * kChunk);
      out.indptr.reserve(static_cast<std::size_t>(end - begin));
      for (std::int64_t i = begin; i < end; ++i) {
        for (std::int64_t c = 0; c < p.n_channels; ++c) {
          options.clear();
          for (std::int64_t o = 0; o < p.n_offers; ++o) {
            const double k = p.cost(i, o, c);
            const double profit = p.response(i, o, c) * p.value(i, o, c) - k;
            if (profit > 0) options.emplace_back(k, -profit, static_cast<std::int32_t>(o));
          }
          std::sort(options.begin(), options.end());
          double best = 0.0;
          for (const auto& [k, neg, o] : options) {
            if (-neg <= best) continue;  // a cheaper option on this channel earns at least as much
            best = -neg;
            out.profit.push_back(-neg);
            out.cost.push_back(k);
            out.offer.push_back(o);
            out.channel.push_back(static_cast<std::int32_t>(c));
          }
        }
        out.indptr.push_back(static_cast<std::int64_t>(out.profit.size()));  // end of customer i, local
      }
    }
  }
  CampaignCandidates all;
  std::int64_t total = 0;
  for (const auto& l : local) total += l.size();
  all.indptr.reserve(static_cast<std::size_t>(p.n_customers) + 1);
  all.indptr.push_back(0);
  for (auto* v : {&all.profit, &all.cost}) v->reserve(static_cast<std::size_t>(total));
  for (auto* v : {&all.offer, &all.channel}) v->reserve(static_cast<std::size_t>(total));
  for (const auto& l : local) {
    const std::int64_t base = all.size();
    for (auto e : l.indptr) all.indptr.push_back(base + e);
    all.profit.insert(all.profit.end(), l.profit.begin(), l.profit.end());
    all.cost.insert(all.cost.end(), l.cost.begin(), l.cost.end());
    all.offer.insert(all.offer.end(), l.offer.begin(), l.offer.end());
    all.channel.insert(all.channel.end(), l.channel.begin(), l.channel.end());
  }
  return all;
}

double campaign_dual_bound(const CampaignCandidates& cand, double budget, const std::vector<double>& capacity,
                           double budget_price, const std::vector<double>& channel_price, int n_threads) {
  const auto n_channels = static_cast<std::int64_t>(channel_price.size());
  if (!(budget_price >= 0) || (!std::isfinite(budget) && budget_price != 0))
    detail::throw_invalid("campaign_dual_bound", "budget_price", "is ", budget_price,
                          "; must be >= 0 (and 0 without a finite budget)");
  const auto cap = full_capacity(capacity, n_channels);
  if (static_cast<std::int64_t>(cap.size()) != n_channels)
    detail::throw_invalid("campaign_dual_bound", "capacity", "has ", cap.size(), " entries for ", n_channels, " channel prices");
  for (std::int64_t c = 0; c < n_channels; ++c)
    if (!(channel_price[c] >= 0) || (!std::isfinite(cap[c]) && channel_price[c] != 0))
      detail::throw_invalid("campaign_dual_bound", "channel_price", "channel ", c, " has price ", channel_price[c],
                            "; must be >= 0 (and 0 for an unlimited channel)");
  for (auto ch : cand.channel)
    if (ch < 0 || ch >= n_channels)
      detail::throw_invalid("campaign_dual_bound", "candidates", "channel ", ch, " out of range");
  DualEvaluator eval(cand, n_channels, detail::resolve_threads(n_threads));
  return dual_value(eval(budget_price, channel_price), budget, cap, budget_price, channel_price);
}

CampaignAssignment optimize_campaign(const CampaignProblem& problem, const CampaignOptimizerOptions& options) {
  validate(problem);
  validate(options);
  const auto cand = campaign_candidates(problem, options.n_threads);
  return optimize_campaign(cand, problem.n_channels, problem.budget, problem.capacity, options);
}

CampaignAssignment optimize_campaign(const CampaignCandidates& cand, std::int64_t n_channels, double budget,
                                     const std::vector<double>& capacity, const CampaignOptimizerOptions& options) {
  validate(options);
  if (cand.indptr.empty()) detail::throw_invalid("optimize_campaign", "candidates", "indptr is empty");
  const int threads = detail::resolve_threads(options.n_threads);
  const auto cap = full_capacity(capacity, n_channels);
  if (static_cast<std::int64_t>(cap.size()) != n_channels)
    detail::throw_invalid("optimize_campaign", "capacity", "has ", cap.size(), " entries for ", n_channels, " channels");
  if (std::isnan(budget) || !(budget > 0)) detail::throw_invalid("optimize_campaign", "budget", "is ", budget, "; must be > 0");
  for (auto ch : cand.channel)
    if (ch < 0 || ch >= n_channels) detail::throw_invalid("optimize_campaign", "candidates", "channel ", ch, " out of range");
  const std::int64_t n = static_cast<std::int64_t>(cand.indptr.size()) - 1;
  DualEvaluator eval(cand, n_channels, threads);

  // Resource 0 is the budget, resource 1 + c channel c; only limited ones are priced.
  double lambda = 0.0;
  std::vector<double> mu(static_cast<std::size_t>(n_channels), 0.0);
  std::vector<int> priced;
  if (std::isfinite(budget)) priced.push_back(0);
  for (std::int64_t c = 0; c < n_channels; ++c)
    if (std::isfinite(cap[c])) priced.push_back(static_cast<int>(1 + c));

  auto price_of = [&](int r) -> double& { return r == 0 ? lambda : mu[static_cast<std::size_t>(r - 1)]; };
  auto limit_of = [&](int r) { return r == 0 ? budget : cap[static_cast<std::size_t>(r - 1)]; };
  // How much of resource r candidate j uses (-1 = no contact uses nothing).
  auto use = [&](int r, std::int64_t j) -> double {
    if (j < 0) return 0.0;
    return r == 0 ? cand.cost[j] : (cand.channel[j] == r - 1 ? 1.0 : 0.0);
  };
  auto choose = [&](std::int64_t i) {
    double best = 0.0;
    std::int64_t arg = -1;
    for (std::int64_t j = cand.indptr[i]; j < cand.indptr[i + 1]; ++j) {
      const double v = cand.profit[j] - lambda * cand.cost[j] - mu[cand.channel[j]];
      if (v > best) best = v, arg = j;
    }
    return arg;
  };
  const bool parallel = cand.size() >= kParallelMin;
  auto choose_all = [&](std::vector<std::int64_t>& choice) {
    choice.resize(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (std::int64_t i = 0; i < n; ++i) choice[i] = choose(i);
  };
  // Sum in customer order, so the total does not depend on the thread count.
  auto total_use = [&](int r, const std::vector<std::int64_t>& choice) {
    double t = 0.0;
    for (std::int64_t i = 0; i < n; ++i) t += use(r, choice[i]);
    return t;
  };
  // A price at which resource r is not used at all, given the other prices.
  auto price_ceiling = [&](int r) {
    double hi = 0.0;
    for (std::int64_t j = 0; j < cand.size(); ++j) {
      if (r == 0) {
        if (cand.cost[j] > 0) hi = std::max(hi, (cand.profit[j] - mu[cand.channel[j]]) / cand.cost[j]);
      } else if (cand.channel[j] == r - 1) {
        hi = std::max(hi, cand.profit[j] - lambda * cand.cost[j]);
      }
    }
    return hi * (1 + 1e-9) + 1e-300;
  };

  CampaignAssignment out;
  out.n_candidates = cand.size();
  double bound = dual_value(eval(lambda, mu), budget, cap, lambda, mu);
  std::vector<std::int64_t> at_lo, at_hi, at_mid, active, still;
  int rounds = 0;
  while (!priced.empty() && rounds < options.max_iter) {
    ++rounds;
    const double before = bound;
    const double lambda_before = lambda;
    const std::vector<double> mu_before = mu;
    for (int r : priced) {
      // The dual is convex in each price with slope limit - use(price), and use falls as the
      // price rises: bisect for the smallest price at which the resource's use fits. A customer
      // picks each option on one interval of prices, so one whose choice is the same at both
      // ends of the bracket keeps it inside; only the others are re-priced, which shrinks the
      // work geometrically.
      double& price = price_of(r);
      const double limit = limit_of(r);
      price = 0.0;
      choose_all(at_lo);
      if (total_use(r, at_lo) <= limit) continue;
      double lo = 0.0, hi = price_ceiling(r);
      price = hi;
      choose_all(at_hi);
      active.clear();
      double fixed = 0.0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (at_lo[i] != at_hi[i]) active.push_back(i);
        else fixed += use(r, at_hi[i]);
      }
      at_mid.resize(static_cast<std::size_t>(n));
      for (int step = 0; step < 200 && hi - lo > 1e-12 * hi && !active.empty(); ++step) {
        price = 0.5 * (lo + hi);
        double total = fixed;
        for (std::int64_t i : active) total += use(r, at_mid[i] = choose(i));
        const bool fits = total <= limit;
        (fits ? hi : lo) = price;
        auto& moved = fits ? at_hi : at_lo;
        still.clear();
        for (std::int64_t i : active) {
          moved[i] = at_mid[i];
          if (at_lo[i] != at_hi[i]) still.push_back(i);
          else fixed += use(r, at_hi[i]);
        }
        active.swap(still);
      }
      price = hi;
    }
    bound = dual_value(eval(lambda, mu), budget, cap, lambda, mu);
    // Coordinate steps zig-zag when several resources bind together; moving on along the
    // round's overall direction (kept only when it lowers the bound) cuts the rounds needed.
    for (double stretch = 1.0; rounds > 1; stretch *= 2) {
      const double lambda_round = lambda;
      const std::vector<double> mu_round = mu;
      lambda = std::max(0.0, lambda + stretch * (lambda - lambda_before));
      for (std::size_t c = 0; c < mu.size(); ++c) mu[c] = std::max(0.0, mu[c] + stretch * (mu[c] - mu_before[c]));
      const double tried = dual_value(eval(lambda, mu), budget, cap, lambda, mu);
      if (tried < bound) {
        bound = tried;
        continue;
      }
      lambda = lambda_round;
      mu = mu_round;
      break;
    }
    if (before - bound <= options.tol * std::abs(bound)) break;
  }

  // Priced greedy: every (customer, candidate) pair ranked by reduced profit, best first; a pair
  // is taken when its customer is still free and budget and channel room remain. The ranking is
  // produced block by block (selection, then a sort of the block) and stops once nothing else can
  // fit, which at good prices is soon after the priced choices are placed.
  struct Key {
    double reduced;
    std::int64_t j;
    bool operator<(const Key& o) const { return reduced != o.reduced ? reduced > o.reduced : j < o.j; }
  };
  std::vector<Key> keys(static_cast<std::size_t>(cand.size()));
  std::vector<std::int64_t> owner(static_cast<std::size_t>(cand.size()));
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = cand.indptr[i]; j < cand.indptr[i + 1]; ++j) {
      keys[j] = {cand.profit[j] - lambda * cand.cost[j] - mu[cand.channel[j]], j};
      owner[j] = i;
    }
  double cheapest = std::numeric_limits<double>::infinity();
  for (double k : cand.cost) cheapest = std::min(cheapest, k);
  out.offer.assign(static_cast<std::size_t>(n), -1);
  out.channel.assign(static_cast<std::size_t>(n), -1);
  out.channel_contacts.assign(static_cast<std::size_t>(n_channels), 0);
  auto room = [&] {
    if (out.cost + cheapest > budget) return false;
    for (std::int64_t c = 0; c < n_channels; ++c)
      if (static_cast<double>(out.channel_contacts[c] + 1) <= cap[c]) return true;
    return false;
  };
  auto begin = keys.begin();
  for (std::size_t block = 1 << 16; begin != keys.end() && room(); block *= 2) {
    auto end = keys.end() - begin > static_cast<std::ptrdiff_t>(block) ? begin + static_cast<std::ptrdiff_t>(block) : keys.end();
    if (end != keys.end()) std::nth_element(begin, end, keys.end());
    std::sort(begin, end);
    for (auto it = begin; it != end; ++it) {
      const std::int64_t j = it->j, i = owner[j];
      const std::int32_t c = cand.channel[j];
      if (out.offer[i] >= 0) continue;
      if (out.cost + cand.cost[j] > budget) continue;
      if (static_cast<double>(out.channel_contacts[c] + 1) > cap[c]) continue;
      out.offer[i] = cand.offer[j];
      out.channel[i] = c;
      out.cost += cand.cost[j];
      out.expected_profit += cand.profit[j];
      out.expected_value += cand.profit[j] + cand.cost[j];
      ++out.channel_contacts[c];
    }
    begin = end;
  }
  out.upper_bound = std::max(bound, out.expected_profit);  // guards the last ulp of rounding
  out.gap = (out.upper_bound - out.expected_profit) / std::max(std::abs(out.upper_bound), 1e-300);
  out.budget_price = lambda;
  out.channel_price = mu;
  out.n_iter = rounds;
  return out;
}

}  // namespace crmine
