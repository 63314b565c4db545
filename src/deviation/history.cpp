// SPDX-License-Identifier: Apache-2.0
// Per-customer rolling baselines (spend, returns, basket value, purchase gap) in one pass over the log.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/deviation/history.hpp>

#include "../core/customer_scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crmine {
namespace {

constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::min();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Running state of one customer while its rows stream past in time order. Period sums are
/// flushed when the period changes, so only the open period is held, never the whole window.
struct State {
  std::int32_t first_day = kNone;   // first purchase
  std::int32_t last_day = kNone;    // latest purchase day: the open occasion's day
  std::int32_t last_seen = kNone;   // latest day of any row, to detect rows out of time order
  std::int32_t open_k = -1;         // baseline period being accumulated, -1 = none
  std::int32_t n_gaps = 0;
  std::int32_t basket_n = 0;
  std::int32_t basket_cur_n = 0;
  std::int64_t occasions = 0;
  double total_spend = 0.0;
  double gap_mean = 0.0, gap_m2 = 0.0;  // Welford
  double open_spend = 0.0, open_returned = 0.0;
  double spend_sum = 0.0, spend_sumsq = 0.0;
  double ret_sum = 0.0, ret_sumsq = 0.0;
  double cur_spend = 0.0, cur_returned = 0.0;
  double occ_value = 0.0;  // spend of the open occasion
  double basket_sum = 0.0, basket_sumsq = 0.0, basket_cur_sum = 0.0;
};

class Folder {
 public:
  Folder(std::int32_t as_of, int period, int window) : as_of_(as_of), period_(period), window_(window) {}

  /// Period index of a day before as_of: 0 = current, 1..window = baseline, more = older.
  std::int64_t period_of(std::int32_t day) const {
    return (static_cast<std::int64_t>(as_of_) - 1 - day) / period_;
  }

  /// Adds one row; false when the customer's days go backwards (the scan then regroups).
  bool add(State& s, std::int32_t day, double amount) const {
    if (s.last_seen != kNone && day < s.last_seen) return false;
    s.last_seen = day;
    const std::int64_t k = period_of(day);
    const double returned = amount < 0.0 ? -amount : 0.0;
    const double spent = amount < 0.0 ? 0.0 : amount;
    if (k == 0) {
      s.cur_spend += spent;
      s.cur_returned += returned;
    } else if (k <= window_) {
      if (s.open_k != static_cast<std::int32_t>(k)) {
        flush_period(s);
        s.open_k = static_cast<std::int32_t>(k);
      }
      s.open_spend += spent;
      s.open_returned += returned;
    }
    if (amount < 0.0) return true;
    s.total_spend += amount;
    if (s.first_day == kNone) {
      s.first_day = s.last_day = day;
      s.occasions = 1;
      s.occ_value = amount;
    } else if (day != s.last_day) {
      close_occasion(s);
      const double gap = static_cast<double>(day - s.last_day);
      ++s.n_gaps;
      const double delta = gap - s.gap_mean;
      s.gap_mean += delta / s.n_gaps;
      s.gap_m2 += delta * (gap - s.gap_mean);
      s.last_day = day;
      ++s.occasions;
      s.occ_value = amount;
    } else {
      s.occ_value += amount;
    }
    return true;
  }

  void finish(State& s) const {
    flush_period(s);
    if (s.first_day != kNone) close_occasion(s);
  }

 private:
  static void flush_period(State& s) {
    if (s.open_k < 0) return;
    if (s.first_day == kNone) {  // a period before the first purchase is not part of the baseline
      s.open_spend = s.open_returned = 0.0;
      s.open_k = -1;
      return;
    }
    s.spend_sum += s.open_spend;
    s.spend_sumsq += s.open_spend * s.open_spend;
    s.ret_sum += s.open_returned;
    s.ret_sumsq += s.open_returned * s.open_returned;
    s.open_spend = s.open_returned = 0.0;
    s.open_k = -1;
  }

  void close_occasion(State& s) const {
    const std::int64_t k = period_of(s.last_day);
    if (k == 0) {
      ++s.basket_cur_n;
      s.basket_cur_sum += s.occ_value;
    } else if (k <= window_) {
      ++s.basket_n;
      s.basket_sum += s.occ_value;
      s.basket_sumsq += s.occ_value * s.occ_value;
    }
  }

  std::int32_t as_of_;
  int period_;
  int window_;
};

/// Spread of n observations with sample variance `var`, shrunk towards `prior` with `weight`
/// pseudo-observations (see HistoryBaselines).
double shrunk_spread(std::int64_t n, double var, double prior, double weight) {
  const double dof = static_cast<double>(n - 1) + weight;
  if (n < 1 || !(dof > 0.0)) return kNaN;
  const double v = (static_cast<double>(n - 1) * std::max(var, 0.0) + weight * prior * prior) / dof;
  return std::sqrt(v);
}

/// Sample variance from a sum and a sum of squares of n values (0 for fewer than two).
double variance(std::int64_t n, double sum, double sumsq) {
  if (n < 2) return 0.0;
  const double dn = static_cast<double>(n);
  return std::max(0.0, (sumsq - sum * sum / dn) / (dn - 1.0));
}

double z_of(double current, double mean, double spread) {
  return spread > 0.0 && std::isfinite(spread) ? (current - mean) / spread : kNaN;
}

void check_options(const HistoryOptions& o) {
  constexpr const char* where = "history_baselines";
  if (o.period_days < 1) detail::throw_invalid(where, "period_days", "must be at least 1 day, got ", o.period_days);
  if (o.window < 1) detail::throw_invalid(where, "window", "must be at least 1 period, got ", o.window);
  if (!(o.prior_weight >= 0.0) || !std::isfinite(o.prior_weight))
    detail::throw_invalid(where, "prior_weight", "must be a finite number >= 0, got ", o.prior_weight);
  if (!(o.prior_cv > 0.0) || !std::isfinite(o.prior_cv))
    detail::throw_invalid(where, "prior_cv", "must be a finite number > 0, got ", o.prior_cv);
  if (static_cast<std::int64_t>(o.period_days) * (static_cast<std::int64_t>(o.window) + 1) > (1 << 30))
    detail::throw_invalid(where, "window", "period_days x (window + 1) exceeds 2^30 days");
}

std::int32_t latest_day_after(const TransactionLog& log, int threads) {
  std::int64_t latest = std::numeric_limits<std::int64_t>::min();
  const auto n = static_cast<std::int64_t>(log.size());
#pragma omp parallel for num_threads(threads) reduction(max : latest) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) latest = std::max(latest, log.time[static_cast<std::size_t>(i)]);
  return static_cast<std::int32_t>(day_of(latest, log.ticks_per_day) + 1);
}

}  // namespace

HistoryBaselines history_baselines(const TransactionLog& log, const HistoryOptions& options) {
  check_options(options);
  validate(log, "history_baselines", ReturnPolicy::net, options.n_jobs);
  const int threads = detail::resolve_threads(options.n_jobs);
  const std::int32_t as_of =
      options.as_of_day == HistoryOptions::kLatest ? latest_day_after(log, threads) : options.as_of_day;
  const IdIndex index = IdIndex::build(log.customer, threads);
  const detail::CustomerScan scan(log, index, nullptr, false, threads);
  const Folder folder(as_of, options.period_days, options.window);

  std::vector<State> states(index.size());
  std::vector<std::int64_t> block_after(scan.n_blocks(), 0);
  auto visit = [&](std::size_t block, std::span<const detail::ScanEntry> entries) {
    for (const auto& e : entries) {
      if (e.day >= as_of) {
        ++block_after[block];
        continue;
      }
      if (!folder.add(states[static_cast<std::size_t>(index.index_at_position(e.pos))], e.day, e.amount)) return false;
    }
    return true;
  };
  if (!scan.visit_in_log_order(visit)) {
    std::fill(states.begin(), states.end(), State{});
    std::fill(block_after.begin(), block_after.end(), 0);
    scan.visit_sorted(visit);
  }

  // Customers with a purchase before as_of, in id order.
  std::vector<std::size_t> kept;
  kept.reserve(states.size());
  for (std::size_t c = 0; c < states.size(); ++c)
    if (states[c].first_day != kNone) kept.push_back(c);
  if (kept.empty())
    detail::throw_invalid("history_baselines", "as_of_day", "no purchase precedes day ", as_of,
                          "; choose a later as_of");

  HistoryBaselines out;
  const std::size_t m = kept.size();
  for (auto* v : {&out.first_day, &out.last_day, &out.n_periods, &out.basket_n, &out.basket_current_n, &out.gap_n})
    v->resize(m);
  for (auto* v : {&out.total_spend, &out.spend_mean, &out.spend_spread, &out.spend_current, &out.spend_z,
                  &out.returns_mean, &out.returns_spread, &out.returns_current, &out.returns_z,
                  &out.return_rate_baseline, &out.return_rate_current, &out.basket_mean, &out.basket_spread,
                  &out.basket_current, &out.basket_z, &out.gap_mean, &out.gap_spread, &out.gap_current,
                  &out.gap_ratio, &out.gap_z})
    v->resize(m);
  out.customer.resize(m);
  out.n_occasions.resize(m);
  const double w = options.prior_weight;
  const double cv = options.prior_cv;
  const auto& ids = index.ids();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t j = 0; j < static_cast<std::int64_t>(m); ++j) folder.finish(states[kept[static_cast<std::size_t>(j)]]);
  // Population means, summed in customer order so that they do not depend on the thread count.
  double spend_total = 0.0, periods_total = 0.0, basket_total = 0.0, occasions_total = 0.0, gap_total = 0.0,
         gaps_total = 0.0;
  for (const std::size_t c : kept) {
    const State& s = states[c];
    const auto n = std::min<std::int64_t>(folder.period_of(s.first_day), options.window);
    spend_total += s.spend_sum;
    periods_total += static_cast<double>(n);
    basket_total += s.basket_sum;
    occasions_total += s.basket_n;
    gap_total += s.gap_mean * s.n_gaps;
    gaps_total += s.n_gaps;
  }
  out.population_spend_mean = periods_total > 0 ? spend_total / periods_total : kNaN;
  out.population_basket_mean = occasions_total > 0 ? basket_total / occasions_total : kNaN;
  out.population_gap_mean = gaps_total > 0 ? gap_total / gaps_total : kNaN;
  // The prior spread is cv times the customer's mean shrunk towards the population's: a tiny
  // mean from a short history (one 2-dollar purchase, two purchases a day apart) does not make
  // the next ordinary purchase or silence look extreme.
  auto prior_of = [w, cv](double mean, std::int64_t n, double population) {
    if (std::isnan(population) || !(w > 0.0)) return cv * mean;
    return cv * (static_cast<double>(n) * mean + w * population) / (static_cast<double>(n) + w);
  };
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t j = 0; j < static_cast<std::int64_t>(m); ++j) {
    const auto i = static_cast<std::size_t>(j);
    const State& s = states[kept[i]];
    out.customer[i] = ids[kept[i]];
    out.first_day[i] = s.first_day;
    out.last_day[i] = s.last_day;
    out.total_spend[i] = s.total_spend;
    out.n_occasions[i] = s.occasions;
    const std::int64_t n = std::min<std::int64_t>(folder.period_of(s.first_day), options.window);
    out.n_periods[i] = static_cast<std::int32_t>(n);

    const double spend_mean = n > 0 ? s.spend_sum / static_cast<double>(n) : kNaN;
    out.spend_mean[i] = spend_mean;
    out.spend_spread[i] = n > 0 ? shrunk_spread(n, variance(n, s.spend_sum, s.spend_sumsq), prior_of(spend_mean, n, out.population_spend_mean), w) : kNaN;
    out.spend_current[i] = s.cur_spend;
    out.spend_z[i] = z_of(s.cur_spend, spend_mean, out.spend_spread[i]);

    out.returns_mean[i] = n > 0 ? s.ret_sum / static_cast<double>(n) : kNaN;
    out.returns_spread[i] = n > 0 ? shrunk_spread(n, variance(n, s.ret_sum, s.ret_sumsq), prior_of(spend_mean, n, out.population_spend_mean), w) : kNaN;
    out.returns_current[i] = s.cur_returned;
    out.returns_z[i] = z_of(s.cur_returned, out.returns_mean[i], out.returns_spread[i]);
    out.return_rate_baseline[i] = s.spend_sum > 0.0 ? s.ret_sum / s.spend_sum : kNaN;
    const double denominator = n > 0 ? std::max(s.cur_spend, spend_mean) : s.cur_spend;
    out.return_rate_current[i] = denominator > 0.0 ? s.cur_returned / denominator : kNaN;

    out.basket_n[i] = s.basket_n;
    out.basket_current_n[i] = s.basket_cur_n;
    const double basket_mean = s.basket_n > 0 ? s.basket_sum / s.basket_n : kNaN;
    out.basket_mean[i] = basket_mean;
    out.basket_spread[i] =
        s.basket_n > 0 ? shrunk_spread(s.basket_n, variance(s.basket_n, s.basket_sum, s.basket_sumsq),
                                     prior_of(basket_mean, s.basket_n, out.population_basket_mean), w)
                       : kNaN;
    out.basket_current[i] = s.basket_cur_n > 0 ? s.basket_cur_sum / s.basket_cur_n : kNaN;
    out.basket_z[i] = s.basket_cur_n > 0 ? z_of(out.basket_current[i], basket_mean,
                                               out.basket_spread[i] / std::sqrt(static_cast<double>(s.basket_cur_n)))
                                         : kNaN;

    out.gap_n[i] = s.n_gaps;
    out.gap_current[i] = static_cast<double>(as_of - s.last_day);
    if (s.n_gaps > 0) {
      out.gap_mean[i] = s.gap_mean;
      out.gap_spread[i] = shrunk_spread(s.n_gaps, s.n_gaps > 1 ? s.gap_m2 / (s.n_gaps - 1) : 0.0,
                                       prior_of(s.gap_mean, s.n_gaps, out.population_gap_mean), w);
      out.gap_ratio[i] = out.gap_current[i] / s.gap_mean;
      out.gap_z[i] = z_of(out.gap_current[i], s.gap_mean, out.gap_spread[i]);
    } else {
      out.gap_mean[i] = out.gap_spread[i] = out.gap_ratio[i] = out.gap_z[i] = kNaN;
    }
  }
  out.as_of_day = as_of;
  out.period_days = options.period_days;
  out.window = options.window;
  std::int64_t after = 0;
  for (auto a : block_after) after += a;
  out.rows_after = after;
  out.rows_used = static_cast<std::int64_t>(log.size()) - after;
  return out;
}

}  // namespace crmine
