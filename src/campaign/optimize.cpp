// SPDX-License-Identifier: Apache-2.0
// Budget-limited campaign assignment: problem checks, candidate pruning, dual prices, the priced greedy.
#include <crmine/campaign/optimize.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>
#include <utility>

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
  double positive = 0.0;                 // sum over customers of their best priced choice
  double used_cost = 0.0;                // cost of the priced choices
  std::vector<double> used_channel;      // contacts per channel of the priced choices
};

/// A customer's best choice at given prices: its best positive reduced-profit candidate, or with
/// several contacts allowed the best candidate of each offer (one run per offer in the
/// candidates), keeping the `max_per_customer` best of those that are positive.
class PricedChoice {
 public:
  PricedChoice(const CampaignCandidates& cand, double budget_price, const double* channel_price)
      : cand_(cand), lambda_(budget_price), mu_(channel_price) {}

  double reduced(std::int64_t j) const { return cand_.profit[j] - lambda_ * cand_.cost[j] - mu_[cand_.channel[j]]; }

  /// Fills `picks` (candidate indices) with customer i's choice and returns its reduced profit.
  double operator()(std::int64_t i, std::vector<std::int64_t>& picks) {
    picks.clear();
    const std::int64_t begin = cand_.indptr[i], end = cand_.indptr[i + 1];
    if (cand_.max_per_customer == 1) {
      double best = 0.0;
      std::int64_t arg = -1;
      for (std::int64_t j = begin; j < end; ++j) {
        const double r = reduced(j);
        if (r > best) best = r, arg = j;
      }
      if (arg >= 0) picks.push_back(arg);
      return best;
    }
    best_.clear();
    for (std::int64_t j = begin; j < end;) {
      const std::int32_t o = cand_.offer[j];
      double best = 0.0;
      std::int64_t arg = -1;
      for (; j < end && cand_.offer[j] == o; ++j) {
        const double r = reduced(j);
        if (r > best) best = r, arg = j;
      }
      if (arg >= 0) best_.emplace_back(best, arg);
    }
    const auto keep = std::min<std::size_t>(best_.size(), static_cast<std::size_t>(cand_.max_per_customer));
    auto better = [](const std::pair<double, std::int64_t>& a, const std::pair<double, std::int64_t>& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    if (keep < best_.size()) std::partial_sort(best_.begin(), best_.begin() + static_cast<std::ptrdiff_t>(keep), best_.end(), better);
    double total = 0.0;
    for (std::size_t k = 0; k < keep; ++k) {
      total += best_[k].first;
      picks.push_back(best_[k].second);
    }
    return total;
  }

 private:
  const CampaignCandidates& cand_;
  double lambda_;
  const double* mu_;
  std::vector<std::pair<double, std::int64_t>> best_;
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
#pragma omp parallel num_threads(threads_) if (cand_.size() >= kParallelMin)
    {
      PricedChoice choose(cand_, budget_price, channel_price.data());
      std::vector<std::int64_t> picks;
#pragma omp for schedule(static)
      for (std::int64_t ch = 0; ch < chunks; ++ch) {
        DualParts& part = parts[static_cast<std::size_t>(ch)];
        part.used_channel.assign(static_cast<std::size_t>(n_channels_), 0.0);
        const std::int64_t end = std::min(n, (ch + 1) * kChunk);
        for (std::int64_t i = ch * kChunk; i < end; ++i) {
          part.positive += choose(i, picks);
          for (std::int64_t j : picks) {
            part.used_cost += cand_.cost[j];
            part.used_channel[static_cast<std::size_t>(cand_.channel[j])] += 1.0;
          }
        }
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
  if (p.max_offers_per_customer < 1)
    detail::throw_invalid(where, "max_offers_per_customer", "is ", p.max_offers_per_customer, "; must be >= 1");
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
  const bool one_contact = p.max_offers_per_customer == 1;
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
      auto push = [&out](double profit, double k, std::int64_t o, std::int64_t c) {
        out.profit.push_back(profit);
        out.cost.push_back(k);
        out.offer.push_back(static_cast<std::int32_t>(o));
        out.channel.push_back(static_cast<std::int32_t>(c));
      };
      for (std::int64_t i = begin; i < end; ++i) {
        if (!one_contact) {
          for (std::int64_t o = 0; o < p.n_offers; ++o)
            for (std::int64_t c = 0; c < p.n_channels; ++c) {
              const double k = p.cost(i, o, c);
              const double profit = p.response(i, o, c) * p.value(i, o, c) - k;
              if (profit > 0) push(profit, k, o, c);
            }
        } else {
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
              push(-neg, k, o, c);
            }
          }
        }
        out.indptr.push_back(static_cast<std::int64_t>(out.profit.size()));  // end of customer i, local
      }
    }
  }
  CampaignCandidates all;
  all.max_per_customer = p.max_offers_per_customer;
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

namespace {

/// Checks candidates against a problem's channels and limits (for the functions that take them
/// ready-made); returns the capacities with one entry per channel.
std::vector<double> check_candidates(const char* where, const CampaignCandidates& cand, std::int64_t n_channels,
                                     double budget, const std::vector<double>& capacity) {
  if (cand.indptr.empty() || cand.indptr.front() != 0 || cand.indptr.back() != cand.size())
    detail::throw_invalid(where, "candidates", "indptr must start at 0 and end at the number of candidates");
  if (cand.max_per_customer < 1)
    detail::throw_invalid(where, "candidates", "max_per_customer is ", cand.max_per_customer, "; must be >= 1");
  if (std::isnan(budget) || !(budget > 0)) detail::throw_invalid(where, "budget", "is ", budget, "; must be > 0");
  auto cap = full_capacity(capacity, n_channels);
  if (static_cast<std::int64_t>(cap.size()) != n_channels)
    detail::throw_invalid(where, "capacity", "has ", cap.size(), " entries for ", n_channels, " channels");
  for (auto ch : cand.channel)
    if (ch < 0 || ch >= n_channels) detail::throw_invalid(where, "candidates", "channel ", ch, " out of range");
  return cap;
}

void check_prices(const char* where, double budget, const std::vector<double>& cap, double budget_price,
                  const std::vector<double>& channel_price) {
  if (!(budget_price >= 0) || (!std::isfinite(budget) && budget_price != 0))
    detail::throw_invalid(where, "budget_price", "is ", budget_price, "; must be >= 0 (and 0 without a finite budget)");
  if (channel_price.size() != cap.size())
    detail::throw_invalid(where, "channel_price", "has ", channel_price.size(), " entries for ", cap.size(), " channels");
  for (std::size_t c = 0; c < cap.size(); ++c)
    if (!(channel_price[c] >= 0) || (!std::isfinite(cap[c]) && channel_price[c] != 0))
      detail::throw_invalid(where, "channel_price", "channel ", c, " has price ", channel_price[c],
                            "; must be >= 0 (and 0 for an unlimited channel)");
}

}  // namespace

double campaign_dual_bound(const CampaignCandidates& cand, double budget, const std::vector<double>& capacity,
                           double budget_price, const std::vector<double>& channel_price, int n_threads) {
  const auto n_channels = static_cast<std::int64_t>(channel_price.size());
  const auto cap = check_candidates("campaign_dual_bound", cand, n_channels, budget, capacity);
  check_prices("campaign_dual_bound", budget, cap, budget_price, channel_price);
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
  const auto cap = check_candidates("optimize_campaign", cand, n_channels, budget, capacity);
  const int threads = detail::resolve_threads(options.n_threads);
  const std::int64_t n = static_cast<std::int64_t>(cand.indptr.size()) - 1;
  const int per_customer = cand.max_per_customer;
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
  // How much of resource r candidate j uses.
  auto use = [&](int r, std::int64_t j) -> double {
    return r == 0 ? cand.cost[j] : (cand.channel[j] == r - 1 ? 1.0 : 0.0);
  };
  // How much of resource r customer i's priced choice uses. As one price rises, the use of its
  // resource by every customer can only fall (the customer's priced value is convex in the
  // price, the use is minus its slope), which the bisection below relies on.
  auto usage = [&](PricedChoice& choose, std::vector<std::int64_t>& picks, int r, std::int64_t i) {
    choose(i, picks);
    double u = 0.0;
    for (std::int64_t j : picks) u += use(r, j);
    return u;
  };
  const bool parallel = cand.size() >= kParallelMin;
  auto usage_all = [&](int r, std::vector<double>& out) {
    out.resize(static_cast<std::size_t>(n));
#pragma omp parallel num_threads(threads) if (parallel)
    {
      PricedChoice choose(cand, lambda, mu.data());
      std::vector<std::int64_t> picks;
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < n; ++i) out[i] = usage(choose, picks, r, i);
    }
  };
  // Sum in customer order, so the total does not depend on the thread count.
  auto total = [](const std::vector<double>& u) {
    double t = 0.0;
    for (double x : u) t += x;
    return t;
  };
  // A price at which resource r is not used at all, given the other prices (a candidate is only
  // chosen with a positive reduced profit).
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
  std::vector<double> at_lo, at_hi, at_mid;
  std::vector<std::int64_t> active, still, picks;
  int rounds = 0;
  while (!priced.empty() && rounds < options.max_iter) {
    ++rounds;
    const double before = bound;
    const double lambda_before = lambda;
    const std::vector<double> mu_before = mu;
    for (int r : priced) {
      // The dual is convex in each price with slope limit - use(price), and use falls as the
      // price rises: bisect for the smallest price at which the resource's use fits. A customer
      // whose use is the same at both ends of the bracket keeps it inside; only the others are
      // re-priced, which shrinks the work geometrically.
      double& price = price_of(r);
      const double limit = limit_of(r);
      price = 0.0;
      usage_all(r, at_lo);
      if (total(at_lo) <= limit) continue;
      double lo = 0.0, hi = price_ceiling(r);
      price = hi;
      usage_all(r, at_hi);
      active.clear();
      double fixed = 0.0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (at_lo[i] != at_hi[i]) active.push_back(i);
        else fixed += at_hi[i];
      }
      at_mid.resize(static_cast<std::size_t>(n));
      for (int step = 0; step < 200 && hi - lo > 1e-12 * hi && !active.empty(); ++step) {
        price = 0.5 * (lo + hi);
        PricedChoice choose(cand, lambda, mu.data());
        double sum = fixed;
        for (std::int64_t i : active) sum += at_mid[i] = usage(choose, picks, r, i);
        const bool fits = sum <= limit;
        (fits ? hi : lo) = price;
        auto& moved = fits ? at_hi : at_lo;
        still.clear();
        for (std::int64_t i : active) {
          moved[i] = at_mid[i];
          if (at_lo[i] != at_hi[i]) still.push_back(i);
          else fixed += at_hi[i];
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
  // is taken when its customer has room for another contact, has not had its offer yet, and budget
  // and channel room remain. The ranking is produced block by block (selection, then a sort of the
  // block) and stops once nothing else can fit, which at good prices is soon after the priced
  // choices are placed.
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
  std::vector<std::int32_t> contacts(static_cast<std::size_t>(n), 0);
  // With several contacts per customer a candidate's offer must not be given twice: a customer's
  // candidates of one offer form one run, whose first index marks it.
  std::vector<std::uint8_t> offer_given(per_customer > 1 ? static_cast<std::size_t>(cand.size()) : 0, 0);
  auto run_start = [&](std::int64_t j) {
    const std::int64_t first = cand.indptr[owner[j]];
    while (j > first && cand.offer[j - 1] == cand.offer[j]) --j;
    return j;
  };
  std::vector<std::int64_t> chosen;
  std::vector<std::int64_t> channel_contacts(static_cast<std::size_t>(n_channels), 0);
  double used = 0.0;
  auto room = [&] {
    if (used + cheapest > budget) return false;
    for (std::int64_t c = 0; c < n_channels; ++c)
      if (static_cast<double>(channel_contacts[c] + 1) <= cap[c]) return true;
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
      if (contacts[i] >= per_customer) continue;
      if (used + cand.cost[j] > budget) continue;
      if (static_cast<double>(channel_contacts[c] + 1) > cap[c]) continue;
      if (per_customer > 1) {
        const std::int64_t first = run_start(j);
        if (offer_given[first]) continue;
        offer_given[first] = 1;
      }
      ++contacts[i];
      used += cand.cost[j];
      ++channel_contacts[c];
      chosen.push_back(j);
    }
    begin = end;
  }
  // Candidates are ordered by customer, and within one by offer when several contacts are allowed.
  std::sort(chosen.begin(), chosen.end(), [&](std::int64_t a, std::int64_t b) {
    return owner[a] != owner[b] ? owner[a] < owner[b] : cand.offer[a] < cand.offer[b];
  });
  out.channel_contacts = channel_contacts;
  for (std::int64_t j : chosen) {
    out.customer.push_back(owner[j]);
    out.offer.push_back(cand.offer[j]);
    out.channel.push_back(cand.channel[j]);
    out.candidate.push_back(j);
    out.cost += cand.cost[j];
    out.expected_profit += cand.profit[j];
    out.expected_value += cand.profit[j] + cand.cost[j];
  }
  out.upper_bound = std::max(bound, out.expected_profit);  // guards the last ulp of rounding
  out.gap = (out.upper_bound - out.expected_profit) / std::max(std::abs(out.upper_bound), 1e-300);
  out.budget_price = lambda;
  out.channel_price = mu;
  out.n_iter = rounds;
  return out;
}

std::vector<CandidateFix> fix_by_reduced_cost(const CampaignCandidates& cand, std::int64_t n_channels, double budget,
                                              const std::vector<double>& capacity, double budget_price,
                                              const std::vector<double>& channel_price, double incumbent,
                                              int n_threads) {
  constexpr const char* where = "fix_by_reduced_cost";
  const auto cap = check_candidates(where, cand, n_channels, budget, capacity);
  check_prices(where, budget, cap, budget_price, channel_price);
  if (!std::isfinite(incumbent)) detail::throw_invalid(where, "incumbent", "is ", incumbent, "; must be finite");
  const int threads = detail::resolve_threads(n_threads);
  DualEvaluator eval(cand, n_channels, threads);
  const double bound = dual_value(eval(budget_price, channel_price), budget, cap, budget_price, channel_price);
  // Slack allowed to a plan at least as good as the incumbent, widened by far more than the
  // rounding of the bound's sum so that no fixing rests on the last digits.
  const double allowed = std::max(0.0, bound - incumbent) + 1e-9 * std::max(1.0, std::abs(bound));
  const std::int64_t n = static_cast<std::int64_t>(cand.indptr.size()) - 1;
  const std::int64_t m = cand.max_per_customer;
  std::vector<CandidateFix> fix(static_cast<std::size_t>(cand.size()), CandidateFix::free);
#pragma omp parallel num_threads(threads) if (cand.size() >= kParallelMin)
  {
    const PricedChoice price(cand, budget_price, channel_price.data());
    struct Offer {
      double best, second;  // the two best reduced profits among the offer's channels
      std::int64_t arg;     // the candidate with the best one
      std::int32_t offer;
    };
    std::vector<Offer> offers;
    std::vector<std::pair<std::int32_t, std::int64_t>> order;  // (offer, candidate)
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t begin = cand.indptr[i], end = cand.indptr[i + 1];
      order.clear();
      for (std::int64_t j = begin; j < end; ++j) order.emplace_back(cand.offer[j], j);
      std::sort(order.begin(), order.end());
      offers.clear();
      for (const auto& [o, j] : order) {
        const double r = price.reduced(j);
        if (offers.empty() || offers.back().offer != o) offers.push_back({r, -std::numeric_limits<double>::infinity(), j, o});
        else if (r > offers.back().best) offers.back().second = offers.back().best, offers.back().best = r, offers.back().arg = j;
        else offers.back().second = std::max(offers.back().second, r);
      }
      // The priced choice S: the m best offers with a positive best reduced profit.
      std::sort(offers.begin(), offers.end(), [](const Offer& a, const Offer& b) {
        return a.best != b.best ? a.best > b.best : a.arg < b.arg;
      });
      std::int64_t chosen = 0;
      while (chosen < static_cast<std::int64_t>(offers.size()) && chosen < m && offers[chosen].best > 0) ++chosen;
      // Best reduced profit an offer outside S would add (0 = leaving the slot empty).
      const double next_out = chosen < static_cast<std::int64_t>(offers.size()) ? std::max(0.0, offers[chosen].best) : 0.0;
      const double weakest_in = chosen == m ? offers[chosen - 1].best : 0.0;  // what a newcomer must displace
      for (std::int64_t k = 0; k < static_cast<std::int64_t>(offers.size()); ++k) {
        const Offer& of = offers[k];
        const bool in_s = k < chosen;
        for (auto it = std::lower_bound(order.begin(), order.end(), std::make_pair(of.offer, std::int64_t{-1}));
             it != order.end() && it->first == of.offer; ++it) {
          const std::int64_t j = it->second;
          const double r = price.reduced(j);
          // Slack of the best choice that includes j: swap j in for its offer's best, or for
          // the weakest chosen offer (an empty slot when S is not full).
          const double include = in_s ? of.best - r : weakest_in - r;
          if (include > allowed) {
            fix[j] = CandidateFix::dropped;
          } else if (in_s && j == of.arg) {
            // Slack of the best choice without j: its offer's next channel or the best offer left out.
            const double exclude = r - std::max({0.0, of.second, next_out});
            if (exclude > allowed) fix[j] = CandidateFix::taken;
          }
        }
      }
    }
  }
  return fix;
}

}  // namespace crmine
