// SPDX-License-Identifier: Apache-2.0
// Bindings of the customer-value area: summaries, RFM, contribution, cohorts.
#include "common.hpp"

#include <crmine/value.hpp>

#include <pybind11/stl.h>

namespace crmine::python {
namespace {

Period parse_period(const std::string& s) {
  if (s == "D" || s == "day") return Period::day;
  if (s == "W" || s == "week") return Period::week;
  if (s == "M" || s == "month") return Period::month;
  if (s == "Q" || s == "quarter") return Period::quarter;
  if (s == "Y" || s == "year") return Period::year;
  throw InvalidArgument("period: must be one of 'D', 'W', 'M', 'Q', 'Y', got '" + s + "'");
}

template <typename Class, typename T>
void readonly_array(Class& cls, const char* name, std::vector<T> CustomerSummary::*member) {
  cls.def_property_readonly(name, [member](py::object self) {
    return view_of(self.cast<const CustomerSummary&>().*member, self);
  });
}

/// An RfmTable as a dict of numpy arrays (the columns move, no copy).
py::dict rfm_dict(RfmTable&& t) {
  py::dict out;
  out["customer"] = to_numpy(std::move(t.customer));
  out["recency"] = to_numpy(std::move(t.recency));
  out["frequency"] = to_numpy(std::move(t.frequency));
  out["monetary"] = to_numpy(std::move(t.monetary));
  out["revenue"] = to_numpy(std::move(t.revenue));
  out["r_score"] = to_numpy(std::move(t.r_score));
  out["f_score"] = to_numpy(std::move(t.f_score));
  out["m_score"] = to_numpy(std::move(t.m_score));
  out["segment"] = to_numpy(std::move(t.segment));
  out["segment_names"] = t.segment_names;
  out["as_of_day"] = t.as_of_day;
  out["excluded_without_purchase"] = t.excluded_without_purchase;
  return out;
}

}  // namespace

void bind_value(py::module_& m) {
  py::class_<CustomerSummary> summary(m, "CustomerSummary");
  readonly_array(summary, "customer", &CustomerSummary::customer);
  readonly_array(summary, "first_day", &CustomerSummary::first_day);
  readonly_array(summary, "last_day", &CustomerSummary::last_day);
  readonly_array(summary, "occasions", &CustomerSummary::occasions);
  readonly_array(summary, "rows", &CustomerSummary::rows);
  readonly_array(summary, "revenue", &CustomerSummary::revenue);
  readonly_array(summary, "returned", &CustomerSummary::returned);
  readonly_array(summary, "cost", &CustomerSummary::cost);
  readonly_array(summary, "first_occasion_revenue", &CustomerSummary::first_occasion_revenue);
  summary.def_readonly("has_cost", &CustomerSummary::has_cost)
      .def_readonly("occasions_are_orders", &CustomerSummary::occasions_are_orders)
      .def_readonly("min_day", &CustomerSummary::min_day)
      .def_readonly("max_day", &CustomerSummary::max_day)
      .def_readonly("rows_used", &CustomerSummary::rows_used)
      .def_readonly("rows_dropped", &CustomerSummary::rows_dropped)
      .def("__len__", &CustomerSummary::size)
      .def_readonly_static("NO_DAY", &CustomerSummary::kNoDay);

  m.def(
      "summarize",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount, py::object order,
         py::object cost, const std::string& returns, int n_jobs) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, order, cost);
        SummaryOptions options;
        options.returns = parse_returns(returns);
        options.n_jobs = n_jobs;
        py::gil_scoped_release release;
        return summarize(log, options);
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("order"),
      py::arg("cost"), py::arg("returns"), py::arg("n_jobs"));

  m.def(
      "summary_from_arrays",
      [](py::object customer, py::object first_day, py::object last_day, py::object occasions, py::object rows,
         py::object revenue, py::object returned, py::object cost, py::object first_occasion_revenue, bool has_cost,
         bool occasions_are_orders, std::int32_t min_day, std::int32_t max_day, std::int64_t rows_used,
         std::int64_t rows_dropped) {
        CustomerSummary s;
        s.customer = vector_of<std::int64_t>(customer, "customer");
        s.first_day = vector_of<std::int32_t>(first_day, "first_day");
        s.last_day = vector_of<std::int32_t>(last_day, "last_day");
        s.occasions = vector_of<std::int64_t>(occasions, "occasions");
        s.rows = vector_of<std::int64_t>(rows, "rows");
        s.revenue = vector_of<double>(revenue, "revenue");
        s.returned = vector_of<double>(returned, "returned");
        s.cost = vector_of<double>(cost, "cost");
        s.first_occasion_revenue = vector_of<double>(first_occasion_revenue, "first_occasion_revenue");
        const std::size_t n = s.customer.size();
        for (std::size_t size : {s.first_day.size(), s.last_day.size(), s.occasions.size(), s.rows.size(),
                                 s.revenue.size(), s.returned.size(), s.cost.size(), s.first_occasion_revenue.size()})
          if (size != n) throw InvalidArgument("summary_from_arrays: columns differ in length");
        for (std::size_t i = 1; i < n; ++i)
          if (s.customer[i] <= s.customer[i - 1])
            throw InvalidArgument("summary_from_arrays: customer ids must be strictly ascending");
        s.has_cost = has_cost;
        s.occasions_are_orders = occasions_are_orders;
        s.min_day = min_day;
        s.max_day = max_day;
        s.rows_used = rows_used;
        s.rows_dropped = rows_dropped;
        return s;
      });

  m.def("merge_summaries", [](const std::vector<CustomerSummary>& parts) { return merge(parts); });

  py::class_<SegmentRule>(m, "SegmentRule")
      .def(py::init<>())
      .def(py::init([](std::string name, int r_min, int r_max, int f_min, int f_max, int m_min, int m_max) {
             return SegmentRule{std::move(name), r_min, r_max, f_min, f_max, m_min, m_max};
           }),
           py::arg("name"), py::arg("r_min"), py::arg("r_max"), py::arg("f_min"), py::arg("f_max"), py::arg("m_min"),
           py::arg("m_max"))
      .def_readwrite("name", &SegmentRule::name)
      .def_readwrite("r_min", &SegmentRule::r_min)
      .def_readwrite("r_max", &SegmentRule::r_max)
      .def_readwrite("f_min", &SegmentRule::f_min)
      .def_readwrite("f_max", &SegmentRule::f_max)
      .def_readwrite("m_min", &SegmentRule::m_min)
      .def_readwrite("m_max", &SegmentRule::m_max);
  m.def("default_segment_map", &default_segment_map);

  py::class_<RfmOptions>(m, "RfmOptions")
      .def(py::init<>())
      .def_readwrite("q", &RfmOptions::q)
      .def_property(
          "monetary", [](const RfmOptions& o) { return o.monetary == Monetary::mean ? "mean" : "total"; },
          [](RfmOptions& o, const std::string& s) {
            if (s == "mean") o.monetary = Monetary::mean;
            else if (s == "total") o.monetary = Monetary::total;
            else throw InvalidArgument("monetary: must be 'mean' or 'total', got '" + s + "'");
          })
      .def_readwrite("as_of_day", &RfmOptions::as_of_day)
      .def_readwrite("segment_map", &RfmOptions::segment_map)
      .def_readwrite("n_jobs", &RfmOptions::n_jobs);

  m.def(
      "rfm",
      [](const CustomerSummary& summary, const RfmOptions& options) {
        RfmTable t;
        {
          py::gil_scoped_release release;
          t = rfm(summary, options);
        }
        return rfm_dict(std::move(t));
      },
      py::arg("summary"), py::arg("options"));

  m.def(
      "rfm_log",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount, py::object order,
         py::object cost, const std::string& returns, const RfmOptions& options) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, order, cost);
        SummaryOptions summary_options;
        summary_options.returns = parse_returns(returns);
        summary_options.n_jobs = options.n_jobs;
        RfmTable t;
        {
          py::gil_scoped_release release;
          t = rfm(log, options, summary_options);
        }
        return rfm_dict(std::move(t));
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("order"),
      py::arg("cost"), py::arg("returns"), py::arg("options"));

  m.def(
      "contribution",
      [](py::object customer, py::object value, double a_share, double b_share, std::vector<double> top_fractions,
         std::size_t curve_points) {
        const auto ids = span_of<std::int64_t>(customer, "customer");
        const auto values = span_of<double>(value, "value");
        ContributionOptions options;
        options.a_share = a_share;
        options.b_share = b_share;
        options.top_fractions = std::move(top_fractions);
        options.curve_points = curve_points;
        Contribution c;
        {
          py::gil_scoped_release release;
          c = contribution(ids, values, options);
        }
        py::dict out;
        out["rank"] = to_numpy(std::move(c.rank));
        out["cumulative_share"] = to_numpy(std::move(c.cumulative_share));
        std::vector<std::uint8_t> abc(c.abc.begin(), c.abc.end());
        out["abc"] = to_numpy(std::move(abc));
        out["total"] = c.total;
        out["gini"] = c.gini;
        out["top_fractions"] = c.top_fractions;
        out["top_shares"] = c.top_shares;
        out["curve_customer_share"] = to_numpy(std::move(c.curve_customer_share));
        out["curve_value_share"] = to_numpy(std::move(c.curve_value_share));
        out["n_negative"] = c.n_negative;
        out["negative_total"] = c.negative_total;
        return out;
      },
      py::arg("customer"), py::arg("value"), py::arg("a_share"), py::arg("b_share"), py::arg("top_fractions"),
      py::arg("curve_points"));

  m.def(
      "cohort_retention",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount, py::object cost,
         const std::string& period, const std::string& returns, int n_jobs) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, py::none(), cost);
        CohortOptions options;
        options.period = parse_period(period);
        options.returns = parse_returns(returns);
        options.n_jobs = n_jobs;
        CohortTable t;
        {
          py::gil_scoped_release release;
          t = cohort_retention(log, options);
        }
        py::dict out;
        out["cohort"] = to_numpy(std::move(t.cohort));
        out["cohort_start_day"] = to_numpy(std::move(t.cohort_start_day));
        out["n_offsets"] = t.n_offsets;
        out["size"] = to_numpy(std::move(t.size));
        out["active"] = to_numpy(std::move(t.active));
        out["revenue"] = to_numpy(std::move(t.revenue));
        out["customers_without_purchase"] = t.customers_without_purchase;
        return out;
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("cost"),
      py::arg("period"), py::arg("returns"), py::arg("n_jobs"));
}

}  // namespace crmine::python
