// SPDX-License-Identifier: Apache-2.0
// Qini and uplift curves, their normalised areas, uplift at k and the choice of whom to treat.
#include <crmine/campaign/uplift.hpp>
#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>

namespace crmine {
namespace {

/// Cumulative counts at the end of one group of tied scores (scores descending).
struct Cut {
  double n = 0, n_treated = 0, y_treated = 0, y_control = 0;
};

void check_labels(const char* where, const char* name, LabelRef v, Eigen::Index n) {
  if (v.size() != n) detail::throw_invalid(where, name, "has ", v.size(), " entries, y has ", n);
  for (Eigen::Index i = 0; i < n; ++i)
    if (v[i] != 0 && v[i] != 1)
      detail::throw_invalid(where, name, "value ", v[i], " at row ", i, "; must be 0 or 1");
}

/// y and treatment 0/1 of equal length, both groups present; `uplift` (when non-null) finite.
void check_curve_input(const char* where, LabelRef y, const VectorRef* uplift, LabelRef treatment) {
  const Eigen::Index n = y.size();
  if (n == 0) detail::throw_invalid(where, "y", "is empty");
  check_labels(where, "y", y, n);
  check_labels(where, "treatment", treatment, n);
  const Eigen::Index treated = treatment.sum();
  if (treated == 0) detail::throw_invalid(where, "treatment", "has no treated rows (all 0); uplift needs both groups");
  if (treated == n) detail::throw_invalid(where, "treatment", "has no control rows (all 1); uplift needs both groups");
  if (uplift) {
    const VectorRef& u = *uplift;
    if (u.size() != n) detail::throw_invalid(where, "uplift", "has ", u.size(), " entries, y has ", n);
    for (Eigen::Index i = 0; i < n; ++i)
      if (!std::isfinite(u[i])) detail::throw_invalid(where, "uplift", "value ", u[i], " at row ", i, " is not finite");
  }
}

/// Cumulative counts at the end of each run of tied scores, best score first. Rows are dealt
/// into equal-width buckets over [min, max] of the scores, highest first; (max - v) x scale is
/// monotone in v even in floating point, so bucket order is score order and sorting each small
/// bucket (in parallel; the cuts do not depend on it) sorts everything in about two passes.
std::vector<Cut> score_cuts(LabelRef y, VectorRef uplift, LabelRef treatment) {
  const auto n = static_cast<std::size_t>(y.size());
  struct Item {
    double v;
    std::uint8_t yt;  // bit 0 = y, bit 1 = treatment
  };
  const double hi = uplift.maxCoeff(), lo = uplift.minCoeff();
  const std::size_t n_buckets = hi > lo ? std::max<std::size_t>(1, n / 16) : 1;
  double scale = static_cast<double>(n_buckets) / (hi - lo);
  if (!std::isfinite(scale)) scale = 0.0;  // one value, or a range too wide for a double: one bucket
  std::vector<std::uint32_t> bucket(n);
  std::vector<std::size_t> start(n_buckets + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double pos = (hi - uplift[static_cast<Eigen::Index>(i)]) * scale;
    bucket[i] = static_cast<std::uint32_t>(std::min<double>(pos, static_cast<double>(n_buckets - 1)));
    ++start[bucket[i] + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Item> items(n);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = static_cast<Eigen::Index>(i);
      items[next[bucket[i]]++] = {uplift[e], static_cast<std::uint8_t>(y[e] | (treatment[e] << 1))};
    }
  }
  const auto n_b = static_cast<std::int64_t>(n_buckets);
#pragma omp parallel for schedule(dynamic, 256) num_threads(n > 100000 ? detail::resolve_threads(0) : 1)
  for (std::int64_t k = 0; k < n_b; ++k)
    std::sort(items.begin() + static_cast<std::ptrdiff_t>(start[static_cast<std::size_t>(k)]),
              items.begin() + static_cast<std::ptrdiff_t>(start[static_cast<std::size_t>(k) + 1]),
              [](const Item& p, const Item& q) { return p.v > q.v; });
  std::vector<Cut> cuts;
  Cut c;
  for (std::size_t i = 0; i < n; ++i) {
    const bool treated = items[i].yt & 2, responded = items[i].yt & 1;
    c.n += 1;
    c.n_treated += treated;
    (treated ? c.y_treated : c.y_control) += responded;
    if (i + 1 == n || items[i + 1].v != items[i].v) cuts.push_back(c);  // -0 == +0: one score
  }
  return cuts;
}

/// Cuts of a score that is constant within each (y, treatment) cell: the oracle curves.
std::vector<Cut> cell_cuts(LabelRef y, LabelRef treatment, const std::array<double, 4>& cell_score) {
  std::array<double, 4> count{};  // cell = y + 2 * treatment
  for (Eigen::Index i = 0; i < y.size(); ++i) count[static_cast<std::size_t>(y[i] + 2 * treatment[i])] += 1;
  std::array<int, 4> order{0, 1, 2, 3};
  std::stable_sort(order.begin(), order.end(), [&](int p, int q) { return cell_score[p] > cell_score[q]; });
  std::vector<Cut> cuts;
  Cut c;
  for (std::size_t k = 0; k < 4; ++k) {
    const int cell = order[k];
    const double m = count[static_cast<std::size_t>(cell)];
    c.n += m;
    if (cell >= 2) c.n_treated += m;
    if (cell == 3) c.y_treated += m;
    if (cell == 1) c.y_control += m;
    const bool last_of_tie = k == 3 || cell_score[order[k + 1]] != cell_score[cell];
    if (last_of_tie && c.n > (cuts.empty() ? 0.0 : cuts.back().n)) cuts.push_back(c);
  }
  return cuts;
}

/// The curve through (0, 0) and every cut, with scikit-uplift's arithmetic.
UpliftCurve curve_of(const std::vector<Cut>& cuts, bool qini) {
  UpliftCurve out;
  out.x.reserve(cuts.size() + 1);
  out.y.reserve(cuts.size() + 1);
  out.x.push_back(0.0);
  out.y.push_back(0.0);
  for (const Cut& c : cuts) {
    const double n_control = c.n - c.n_treated;
    double v;
    if (qini) {
      v = c.y_treated - c.y_control * (n_control != 0 ? c.n_treated / n_control : 0.0);
    } else {
      const double rate_t = c.n_treated != 0 ? c.y_treated / c.n_treated : 0.0;
      const double rate_c = n_control != 0 ? c.y_control / n_control : 0.0;
      v = (rate_t - rate_c) * c.n;
    }
    out.x.push_back(c.n);
    out.y.push_back(v);
  }
  return out;
}

double trapezoid(const UpliftCurve& c) {
  double area = 0.0;
  for (std::size_t i = 1; i < c.x.size(); ++i) area += (c.x[i] - c.x[i - 1]) * (c.y[i] + c.y[i - 1]) / 2.0;
  return area;
}

/// (area(actual) - area(random)) / (area(perfect) - area(random)); random = the chord to the end.
double normalised_area(const UpliftCurve& actual, const UpliftCurve& perfect, const char* where) {
  const double baseline = perfect.x.back() * perfect.y.back() / 2.0;
  const double best = trapezoid(perfect) - baseline;
  if (best == 0.0)
    detail::throw_invalid(where, "y", "the perfect curve coincides with the random one (no responders to rank, or "
                          "none in one group); the normalised area is undefined");
  return (trapezoid(actual) - baseline) / best;
}

}  // namespace

UpliftCurve qini_curve(LabelRef y, VectorRef uplift, LabelRef treatment) {
  check_curve_input("qini_curve", y, &uplift, treatment);
  return curve_of(score_cuts(y, uplift, treatment), true);
}

UpliftCurve uplift_curve(LabelRef y, VectorRef uplift, LabelRef treatment) {
  check_curve_input("uplift_curve", y, &uplift, treatment);
  return curve_of(score_cuts(y, uplift, treatment), false);
}

namespace {

UpliftCurve perfect_qini(LabelRef y, LabelRef treatment, bool negative_effect) {
  if (negative_effect)  // score y*t - y*(1-t): treated responders first, control responders last
    return curve_of(cell_cuts(y, treatment, {0.0, -1.0, 0.0, 1.0}), true);
  double y_t = 0, n_t = 0, y_c = 0, n_c = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    (treatment[i] ? n_t : n_c) += 1;
    (treatment[i] ? y_t : y_c) += y[i];
  }
  const double ratio_random = y_t - n_t * y_c / n_c;
  return {{0.0, ratio_random, static_cast<double>(y.size())}, {0.0, ratio_random, ratio_random}};
}

UpliftCurve perfect_uplift(LabelRef y, LabelRef treatment) {
  double control_responders = 0, treated_non_responders = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    control_responders += y[i] == 1 && treatment[i] == 0;
    treated_non_responders += y[i] == 0 && treatment[i] == 1;
  }
  // scikit-uplift's oracle score 2 * (y == t) + (y if CR > TN else t), per cell y + 2t.
  const bool by_y = control_responders > treated_non_responders;
  std::array<double, 4> score{};
  for (int cell = 0; cell < 4; ++cell) {
    const int yy = cell & 1, tt = cell >> 1;
    score[static_cast<std::size_t>(cell)] = 2.0 * (yy == tt) + (by_y ? yy : tt);
  }
  return curve_of(cell_cuts(y, treatment, score), false);
}

}  // namespace

UpliftCurve perfect_qini_curve(LabelRef y, LabelRef treatment, bool negative_effect) {
  check_curve_input("perfect_qini_curve", y, nullptr, treatment);
  return perfect_qini(y, treatment, negative_effect);
}

UpliftCurve perfect_uplift_curve(LabelRef y, LabelRef treatment) {
  check_curve_input("perfect_uplift_curve", y, nullptr, treatment);
  return perfect_uplift(y, treatment);
}

double qini_auc_score(LabelRef y, VectorRef uplift, LabelRef treatment, bool negative_effect) {
  constexpr const char* where = "qini_auc_score";
  check_curve_input(where, y, &uplift, treatment);
  return normalised_area(curve_of(score_cuts(y, uplift, treatment), true), perfect_qini(y, treatment, negative_effect),
                         where);
}

double uplift_auc_score(LabelRef y, VectorRef uplift, LabelRef treatment) {
  constexpr const char* where = "uplift_auc_score";
  check_curve_input(where, y, &uplift, treatment);
  return normalised_area(curve_of(score_cuts(y, uplift, treatment), false), perfect_uplift(y, treatment), where);
}

double uplift_at_k(LabelRef y, VectorRef uplift, LabelRef treatment, double k) {
  constexpr const char* where = "uplift_at_k";
  check_curve_input(where, y, &uplift, treatment);
  if (!(k > 0.0 && k <= 1.0)) detail::throw_invalid(where, "k", "is ", k, "; must be a share in (0, 1]");
  const Eigen::Index n = y.size();
  const auto top = static_cast<Eigen::Index>(static_cast<double>(n) * k);
  // scikit-uplift takes the reversed stable ascending order: ties put the later row first.
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
    return uplift[a] != uplift[b] ? uplift[a] > uplift[b] : a > b;
  });
  double n_t = 0, y_t = 0, n_c = 0, y_c = 0;
  for (Eigen::Index r = 0; r < top; ++r) {
    const Eigen::Index i = order[static_cast<std::size_t>(r)];
    (treatment[i] ? n_t : n_c) += 1;
    (treatment[i] ? y_t : y_c) += y[i];
  }
  if (n_t == 0 || n_c == 0)
    detail::throw_invalid(where, "k", "the best ", top, " rows hold no ", n_t == 0 ? "treated" : "control",
                          " row; raise k");
  return y_t / n_t - y_c / n_c;
}

void validate(const TreatmentChoiceOptions& o) {
  constexpr const char* w = "TreatmentChoiceOptions";
  if (o.n < -1) detail::throw_invalid(w, "n", "is ", o.n, "; must be >= 0 or -1 (no limit)");
  if (!(std::isfinite(o.value_per_response) && o.value_per_response >= 0))
    detail::throw_invalid(w, "value_per_response", "is ", o.value_per_response, "; must be finite and >= 0");
  if (!(std::isfinite(o.cost_per_contact) && o.cost_per_contact >= 0))
    detail::throw_invalid(w, "cost_per_contact", "is ", o.cost_per_contact, "; must be finite and >= 0");
}

TreatmentChoice choose_treatment(VectorRef uplift, const TreatmentChoiceOptions& options) {
  constexpr const char* where = "choose_treatment";
  validate(options);
  const Eigen::Index n = uplift.size();
  for (Eigen::Index i = 0; i < n; ++i)
    if (!std::isfinite(uplift[i])) detail::throw_invalid(where, "uplift", "value ", uplift[i], " at row ", i, " is not finite");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return uplift[a] > uplift[b]; });
  TreatmentChoice out;
  out.profit_curve.assign(static_cast<std::size_t>(n) + 1, 0.0);
  const std::int64_t limit = options.n < 0 ? n : std::min<std::int64_t>(options.n, n);
  std::int64_t chosen = 0;
  bool stopped = false;
  for (std::int64_t r = 0; r < n; ++r) {
    const double u = uplift[order[static_cast<std::size_t>(r)]];
    const double profit = u * options.value_per_response - options.cost_per_contact;
    out.profit_curve[static_cast<std::size_t>(r) + 1] = out.profit_curve[static_cast<std::size_t>(r)] + profit;
    if (out.profit_curve[static_cast<std::size_t>(r) + 1] > out.profit_curve[static_cast<std::size_t>(out.best_n)])
      out.best_n = r + 1;
    if (options.profitable_only && !(profit > 0)) stopped = true;
    if (!stopped && r < limit) {
      ++chosen;
      out.expected_incremental_responses += u;
      out.expected_profit += profit;
    }
  }
  out.rows.assign(order.begin(), order.begin() + chosen);
  return out;
}

}  // namespace crmine
