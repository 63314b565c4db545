// SPDX-License-Identifier: Apache-2.0
// Bindings of satisfaction (NPS, CSAT, key drivers) and of the 7P profile's spend trend.
#include "common.hpp"

#include <crmine/campaign/profile.hpp>
#include <crmine/campaign/satisfaction.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <optional>

namespace crmine::python {
namespace {

NpsInterval parse_nps_interval(const std::string& s) {
  if (s == "wald") return NpsInterval::wald;
  if (s == "adjusted_wald") return NpsInterval::adjusted_wald;
  if (s == "bootstrap") return NpsInterval::bootstrap;
  throw InvalidArgument("interval: must be 'adjusted_wald', 'wald' or 'bootstrap', got '" + s + "'");
}

ProportionInterval parse_proportion_interval(const std::string& s) {
  if (s == "wilson") return ProportionInterval::wilson;
  if (s == "wald") return ProportionInterval::wald;
  throw InvalidArgument("interval: must be 'wilson' or 'wald', got '" + s + "'");
}

}  // namespace

void bind_satisfaction(py::module_& m) {
  m.def(
      "nps",
      [](py::object scores, py::object group, std::int32_t n_groups, const std::string& interval, double confidence,
         int n_boot, std::uint64_t seed, int n_jobs) {
        const auto s = span_of<double>(scores, "scores");
        const auto g = span_of<std::int32_t>(group, "group");
        NpsOptions o;
        o.interval = parse_nps_interval(interval);
        o.confidence = confidence;
        o.n_boot = n_boot;
        o.seed = seed;
        o.n_jobs = n_jobs;
        NpsTable t;
        {
          py::gil_scoped_release release;
          t = nps(s, g, n_groups, o);
        }
        py::dict out;
        out["n"] = to_numpy(std::move(t.n));
        out["promoters"] = to_numpy(std::move(t.promoters));
        out["passives"] = to_numpy(std::move(t.passives));
        out["detractors"] = to_numpy(std::move(t.detractors));
        out["nps"] = to_numpy(std::move(t.nps));
        out["se"] = to_numpy(std::move(t.se));
        out["lower"] = to_numpy(std::move(t.lower));
        out["upper"] = to_numpy(std::move(t.upper));
        return out;
      },
      py::arg("scores"), py::arg("group"), py::arg("n_groups"), py::arg("interval"), py::arg("confidence"),
      py::arg("n_boot"), py::arg("seed"), py::arg("n_jobs"));

  m.def(
      "csat",
      [](py::object ratings, py::object group, std::int32_t n_groups, double scale_min, double scale_max,
         double threshold, const std::string& interval, double confidence) {
        const auto r = span_of<double>(ratings, "ratings");
        const auto g = span_of<std::int32_t>(group, "group");
        CsatOptions o;
        o.scale_min = scale_min;
        o.scale_max = scale_max;
        o.threshold = threshold;
        o.interval = parse_proportion_interval(interval);
        o.confidence = confidence;
        CsatTable t;
        {
          py::gil_scoped_release release;
          t = csat(r, g, n_groups, o);
        }
        py::dict out;
        out["n"] = to_numpy(std::move(t.n));
        out["satisfied"] = to_numpy(std::move(t.satisfied));
        out["csat"] = to_numpy(std::move(t.csat));
        out["lower"] = to_numpy(std::move(t.lower));
        out["upper"] = to_numpy(std::move(t.upper));
        out["mean_rating"] = to_numpy(std::move(t.mean_rating));
        out["mean_lower"] = to_numpy(std::move(t.mean_lower));
        out["mean_upper"] = to_numpy(std::move(t.mean_upper));
        return out;
      },
      py::arg("ratings"), py::arg("group"), py::arg("n_groups"), py::arg("scale_min"), py::arg("scale_max"),
      py::arg("threshold"), py::arg("interval"), py::arg("confidence"));

  m.def(
      "key_drivers",
      [](MatrixRef X, VectorRef y, bool shapley, int max_attributes, int n_jobs) {
        KeyDriverOptions o;
        o.shapley = shapley;
        o.max_attributes = max_attributes;
        o.n_jobs = n_jobs;
        KeyDrivers k;
        {
          py::gil_scoped_release release;
          k = key_drivers(X, y, o);
        }
        py::dict out;
        out["n"] = k.n;
        out["r2"] = k.r2;
        out["shapley"] = std::move(k.shapley);
        out["relative_weights"] = std::move(k.relative_weights);
        out["beta"] = std::move(k.beta);
        out["correlation"] = std::move(k.correlation);
        out["mean"] = std::move(k.mean);
        out["conditional_dominance"] = std::move(k.conditional_dominance);
        return out;
      },
      py::arg("X"), py::arg("y"), py::arg("shapley"), py::arg("max_attributes"), py::arg("n_jobs"));

  m.def(
      "all_subsets_r2",
      [](MatrixRef Rxx, VectorRef rxy, int n_jobs) {
        std::vector<double> r2;
        {
          py::gil_scoped_release release;
          r2 = all_subsets_r2(Rxx, rxy, n_jobs);
        }
        return to_numpy(std::move(r2));
      },
      py::arg("Rxx"), py::arg("rxy"), py::arg("n_jobs"));

  m.def(
      "spend_trend",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount, int period,
         const std::string& returns, std::optional<std::int32_t> as_of_day, int n_jobs) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, py::none(), py::none());
        if (period < static_cast<int>(Period::day) || period > static_cast<int>(Period::year))
          throw InvalidArgument("period: code must be 0..4 (day, week, month, quarter, year)");
        SpendTrendOptions o;
        o.period = static_cast<Period>(period);
        o.returns = parse_returns(returns);
        if (as_of_day) o.as_of_day = *as_of_day;
        o.n_jobs = n_jobs;
        SpendTrend t;
        {
          py::gil_scoped_release release;
          t = spend_trend(log, o);
        }
        py::dict out;
        out["customer"] = to_numpy(std::move(t.customer));
        out["periods"] = to_numpy(std::move(t.periods));
        out["mean_spend"] = to_numpy(std::move(t.mean_spend));
        out["slope"] = to_numpy(std::move(t.slope));
        out["relative_slope"] = to_numpy(std::move(t.relative_slope));
        out["last_period_spend"] = to_numpy(std::move(t.last_period_spend));
        out["as_of_day"] = t.as_of_day;
        out["excluded_without_purchase"] = t.excluded_without_purchase;
        return out;
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("period"),
      py::arg("returns"), py::arg("as_of_day"), py::arg("n_jobs"));
}

}  // namespace crmine::python
