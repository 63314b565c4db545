// SPDX-License-Identifier: Apache-2.0
// PrefixSpan with pseudo-projection. A projection keeps, per sequence, every event where the
// prefix can end: with a maximum gap the earliest end is not enough, since a later end may
// reach events the earliest cannot.
#include "mining.hpp"

#include <crmine/core/id_index.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/rules/sequences.hpp>

#include <algorithm>
#include <deque>
#include <numeric>

namespace crmine {
namespace {

constexpr const char* kCaller = "sequential_patterns";

struct Projection {
  std::vector<std::int64_t> seq;
  std::vector<std::int64_t> offset{0};
  std::vector<std::int64_t> ends;  // event indices, ascending per sequence
  void clear() {
    seq.clear();
    offset.assign(1, 0);
    ends.clear();
  }
};

struct PrefixSpan {
  const SequenceDatabase& db;
  std::int64_t min_count, max_gap;
  int max_len;
  detail::Sink* sink = nullptr;
  std::deque<Projection> levels;
  std::vector<std::int64_t> stamp, cnt;
  std::vector<std::int32_t> prefix, touched;

  /// Calls fn(event) for every event reachable from some end of sequence slot k of `p`.
  template <typename Fn>
  void reachable(const Projection& p, std::size_t k, Fn&& fn) const {
    const std::int64_t s = p.seq[k];
    const std::int64_t last = db.sequence_indptr[static_cast<std::size_t>(s) + 1];
    const auto* e = p.ends.data() + p.offset[k];
    const auto* e_end = p.ends.data() + p.offset[k + 1];
    if (max_gap == 0) {
      for (std::int64_t j = *e + 1; j < last; ++j) fn(j);
      return;
    }
    const auto* cur = e;  // latest end before j
    for (std::int64_t j = *e + 1; j < last; ++j) {
      while (cur + 1 < e_end && *(cur + 1) < j) ++cur;
      if (db.event_day[static_cast<std::size_t>(j)] - db.event_day[static_cast<std::size_t>(*cur)] <= max_gap) fn(j);
      else if (cur + 1 == e_end) break;  // no later end can bring j back into reach
    }
  }

  bool has(std::int64_t event, std::int32_t y) const {
    const auto b = db.items.begin() + db.event_indptr[static_cast<std::size_t>(event)];
    const auto e = db.items.begin() + db.event_indptr[static_cast<std::size_t>(event) + 1];
    return std::binary_search(b, e, y);
  }

  /// Extends the prefix prefix[0..depth] whose projection is levels[depth].
  void mine(std::size_t depth) {
    if (max_len != 0 && static_cast<int>(depth) + 1 >= max_len) return;
    const Projection& p = levels[depth];
    touched.clear();
    for (std::size_t k = 0; k < p.seq.size(); ++k) {
      const std::int64_t s = p.seq[k];
      reachable(p, k, [&](std::int64_t j) {
        for (std::int64_t i = db.event_indptr[static_cast<std::size_t>(j)]; i < db.event_indptr[static_cast<std::size_t>(j) + 1]; ++i) {
          const auto y = static_cast<std::size_t>(db.items[static_cast<std::size_t>(i)]);
          if (stamp[y] == s) continue;
          stamp[y] = s;
          if (cnt[y]++ == 0) touched.push_back(static_cast<std::int32_t>(y));
        }
      });
    }
    std::vector<std::int32_t> frequent;
    for (const std::int32_t y : touched) {
      if (cnt[static_cast<std::size_t>(y)] >= min_count) frequent.push_back(y);
      cnt[static_cast<std::size_t>(y)] = 0;
    }
    for (const std::int32_t y : touched) stamp[static_cast<std::size_t>(y)] = -1;
    std::sort(frequent.begin(), frequent.end());
    if (levels.size() <= depth + 1) levels.resize(depth + 2);
    for (const std::int32_t y : frequent) {
      Projection& next = levels[depth + 1];
      next.clear();
      for (std::size_t k = 0; k < p.seq.size(); ++k) {
        const std::size_t mark = next.ends.size();
        reachable(p, k, [&](std::int64_t j) {
          // Without a gap limit only the earliest end matters.
          if ((max_gap != 0 || next.ends.size() == mark) && has(j, y)) next.ends.push_back(j);
        });
        if (next.ends.size() > mark) {
          next.seq.push_back(p.seq[k]);
          next.offset.push_back(static_cast<std::int64_t>(next.ends.size()));
        }
      }
      prefix[depth + 1] = y;
      sink->emit(prefix.data(), static_cast<std::int32_t>(depth + 2), static_cast<std::int64_t>(next.seq.size()));
      mine(depth + 1);
    }
  }
};

}  // namespace

SequenceDatabase make_sequences(const TransactionLog& log, int n_threads) {
  constexpr const char* kWhere = "make_sequences";
  const std::size_t n = log.size();
  if (n == 0) detail::throw_invalid(kWhere, "customer", "the transaction log is empty");
  if (!log.has_item() || log.item.size() != n) detail::throw_invalid(kWhere, "item", "needs an item column with one entry per row");
  if (log.time.size() != n) detail::throw_invalid(kWhere, "time", "has ", log.time.size(), " rows but customer has ", n);
  if (log.ticks_per_day <= 0) detail::throw_invalid(kWhere, "ticks_per_day", "must be positive, got ", log.ticks_per_day);
  const IdIndex items = IdIndex::build(log.item, n_threads);
  const detail::DayDivider divide(log.ticks_per_day);
  std::vector<std::int64_t> day(n);
  for (std::size_t r = 0; r < n; ++r) day[r] = divide(log.time[r]);
  std::vector<std::int64_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  std::sort(rows.begin(), rows.end(), [&](std::int64_t a, std::int64_t b) {
    const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
    if (log.customer[ua] != log.customer[ub]) return log.customer[ua] < log.customer[ub];
    if (day[ua] != day[ub]) return day[ua] < day[ub];
    return a < b;
  });
  SequenceDatabase db;
  db.item_ids = items.ids();
  for (std::size_t k = 0; k < n;) {
    const auto r0 = static_cast<std::size_t>(rows[k]);
    const std::int64_t cust = log.customer[r0], d = day[r0];
    if (db.keys.empty() || db.keys.back() != cust) {
      if (!db.keys.empty()) db.sequence_indptr.push_back(static_cast<std::int64_t>(db.event_day.size()));
      db.keys.push_back(cust);
    }
    const std::size_t from = db.items.size();
    while (k < n && log.customer[static_cast<std::size_t>(rows[k])] == cust && day[static_cast<std::size_t>(rows[k])] == d)
      db.items.push_back(static_cast<std::int32_t>(items.find(log.item[static_cast<std::size_t>(rows[k++])])));
    std::sort(db.items.begin() + static_cast<std::ptrdiff_t>(from), db.items.end());
    db.items.erase(std::unique(db.items.begin() + static_cast<std::ptrdiff_t>(from), db.items.end()), db.items.end());
    db.event_day.push_back(d);
    db.event_indptr.push_back(static_cast<std::int64_t>(db.items.size()));
  }
  db.sequence_indptr.push_back(static_cast<std::int64_t>(db.event_day.size()));
  return db;
}

SequentialPatterns sequential_patterns(const SequenceDatabase& db, const SequenceOptions& o) {
  const std::int64_t n = db.size();
  if (n <= 0) detail::throw_invalid(kCaller, "sequences", "there are no sequences");
  if (o.min_count < 0 || o.min_count > n) detail::throw_invalid(kCaller, "min_count", "must be in [1, ", n, "] (or 0), got ", o.min_count);
  if (o.min_count == 0 && !(o.min_support > 0.0 && o.min_support <= 1.0))
    detail::throw_invalid(kCaller, "min_support", "must be in (0, 1], got ", o.min_support);
  if (o.max_len < 0) detail::throw_invalid(kCaller, "max_len", "must be >= 1 (or 0 for no limit), got ", o.max_len);
  if (o.max_gap < 0) detail::throw_invalid(kCaller, "max_gap", "must be >= 1 day (or 0 for no limit), got ", o.max_gap);
  if (o.max_patterns < 0) detail::throw_invalid(kCaller, "max_patterns", "must be >= 0, got ", o.max_patterns);
  const std::int64_t min_count = o.min_count > 0 ? o.min_count : min_count_for(o.min_support, n);
  const std::int32_t n_items = db.n_items();

  // First elements: every event holding the item is a possible end.
  std::vector<std::int64_t> first_count(static_cast<std::size_t>(n_items), 0), seen(static_cast<std::size_t>(n_items), -1);
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t i = db.event_indptr[static_cast<std::size_t>(db.sequence_indptr[static_cast<std::size_t>(s)])];
         i < db.event_indptr[static_cast<std::size_t>(db.sequence_indptr[static_cast<std::size_t>(s) + 1])]; ++i) {
      const auto y = static_cast<std::size_t>(db.items[static_cast<std::size_t>(i)]);
      if (seen[y] != s) {
        seen[y] = s;
        ++first_count[y];
      }
    }
  std::vector<std::int32_t> firsts;
  for (std::int32_t y = 0; y < n_items; ++y)
    if (first_count[static_cast<std::size_t>(y)] >= min_count) firsts.push_back(y);

  ItemsetOptions budget_options;
  budget_options.max_itemsets = o.max_patterns;
  detail::Budget budget(budget_options, 0);
  std::vector<detail::Sink> sinks(firsts.size());
  for (auto& s : sinks) s.bind(&budget, kCaller);
  const int threads = detail::resolve_threads(o.n_threads);
  detail::ExceptionCollector errors;
#pragma omp parallel num_threads(threads)
  {
    PrefixSpan miner{db, min_count, o.max_gap, o.max_len, nullptr, {}, {}, {}, {}, {}};
    miner.stamp.assign(static_cast<std::size_t>(n_items), -1);
    miner.cnt.assign(static_cast<std::size_t>(n_items), 0);
    miner.prefix.resize(o.max_len > 0 ? static_cast<std::size_t>(o.max_len) + 1 : static_cast<std::size_t>(db.event_day.size()) + 2);
    miner.levels.resize(1);
#pragma omp for schedule(dynamic, 1)
    for (std::size_t f = 0; f < firsts.size(); ++f) {
      if (budget.stopped()) continue;
      errors.run([&] {
        const std::int32_t y = firsts[f];
        miner.sink = &sinks[f];
        Projection& p = miner.levels[0];
        p.clear();
        for (std::int64_t s = 0; s < n; ++s) {
          for (std::int64_t j = db.sequence_indptr[static_cast<std::size_t>(s)]; j < db.sequence_indptr[static_cast<std::size_t>(s) + 1]; ++j)
            if (miner.has(j, y)) p.ends.push_back(j);
          if (static_cast<std::int64_t>(p.ends.size()) > p.offset.back()) {
            p.seq.push_back(s);
            p.offset.push_back(static_cast<std::int64_t>(p.ends.size()));
          }
        }
        miner.prefix[0] = y;
        sinks[f].emit(miner.prefix.data(), 1, first_count[static_cast<std::size_t>(y)]);
        miner.mine(0);
        sinks[f].flush();
      });
    }
  }
  errors.rethrow();
  SequentialPatterns out;
  out.n_sequences = n;
  for (auto& s : sinks) {
    std::size_t pos = 0;
    for (std::size_t k = 0; k < s.counts_.size(); ++k) {
      out.items.insert(out.items.end(), s.items_.begin() + static_cast<std::ptrdiff_t>(pos), s.items_.begin() + static_cast<std::ptrdiff_t>(pos) + s.lens_[k]);
      pos += static_cast<std::size_t>(s.lens_[k]);
      out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
      out.count.push_back(s.counts_[k]);
    }
  }
  return out;
}

}  // namespace crmine
