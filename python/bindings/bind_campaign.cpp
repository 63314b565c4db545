// SPDX-License-Identifier: Apache-2.0
// Campaign strategy: budget-limited offer/channel assignment and look-alike prospecting.
// Problem cubes bind as strided float64 views (numpy broadcasting included), so nothing is copied.
#include "common.hpp"

#include <crmine/campaign/lookalike.hpp>
#include <crmine/campaign/optimize.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace crmine::python {
namespace {

/// A float64 array of shape (n, offers, channels), any strides (0 = broadcast), as a Strided3 view.
Strided3 cube_of(const py::array& a, const char* name, std::int64_t n, std::int64_t offers, std::int64_t channels) {
  if (!a.dtype().is(py::dtype::of<double>()) || a.ndim() != 3)
    throw InvalidType(detail::concat(name, ": expected a 3-d float64 array"));
  if (a.shape(0) != n || a.shape(1) != offers || a.shape(2) != channels)
    detail::throw_invalid("optimize_campaign", name, "has shape (", a.shape(0), ", ", a.shape(1), ", ", a.shape(2),
                          "), expected (", n, ", ", offers, ", ", channels, ")");
  Strided3 s;
  s.data = static_cast<const double*>(a.data());
  for (int d = 0; d < 3; ++d) {
    if (a.strides(d) % static_cast<py::ssize_t>(sizeof(double)) != 0)
      throw InvalidType(detail::concat(name, ": strides are not a multiple of 8 bytes"));
    s.stride[static_cast<std::size_t>(d)] = a.strides(d) / static_cast<py::ssize_t>(sizeof(double));
  }
  return s;
}

CampaignProblem problem_of(const py::array& response, const py::array& value, const py::array& cost, double budget,
                           std::vector<double> capacity, int max_offers_per_customer) {
  if (response.ndim() != 3) detail::throw_invalid("optimize_campaign", "response", "must be 3-d (customers, offers, channels)");
  CampaignProblem p;
  p.n_customers = response.shape(0);
  p.n_offers = response.shape(1);
  p.n_channels = response.shape(2);
  p.response = cube_of(response, "response", p.n_customers, p.n_offers, p.n_channels);
  p.value = cube_of(value, "value", p.n_customers, p.n_offers, p.n_channels);
  p.cost = cube_of(cost, "cost", p.n_customers, p.n_offers, p.n_channels);
  p.budget = budget;
  p.capacity = std::move(capacity);
  p.max_offers_per_customer = max_offers_per_customer;
  return p;
}

py::dict candidates_dict(CampaignCandidates&& c) {
  py::dict d;
  d["max_per_customer"] = c.max_per_customer;
  d["indptr"] = to_numpy(std::move(c.indptr));
  d["profit"] = to_numpy(std::move(c.profit));
  d["cost"] = to_numpy(std::move(c.cost));
  d["offer"] = to_numpy(std::move(c.offer));
  d["channel"] = to_numpy(std::move(c.channel));
  return d;
}

}  // namespace

void bind_campaign(py::module_& m) {
  py::class_<CampaignOptimizerOptions>(m, "CampaignOptimizerOptions")
      .def(py::init<>())
      .def_readwrite("max_iter", &CampaignOptimizerOptions::max_iter)
      .def_readwrite("tol", &CampaignOptimizerOptions::tol)
      .def_readwrite("n_threads", &CampaignOptimizerOptions::n_threads);

  py::class_<CampaignAssignment>(m, "CampaignAssignment")
      .def_property_readonly("customer", [](const CampaignAssignment& a) { return py::array_t<std::int64_t>(a.customer.size(), a.customer.data()); })
      .def_property_readonly("offer", [](const CampaignAssignment& a) { return py::array_t<std::int32_t>(a.offer.size(), a.offer.data()); })
      .def_property_readonly("channel", [](const CampaignAssignment& a) { return py::array_t<std::int32_t>(a.channel.size(), a.channel.data()); })
      .def_property_readonly("candidate", [](const CampaignAssignment& a) { return py::array_t<std::int64_t>(a.candidate.size(), a.candidate.data()); })
      .def_readonly("expected_profit", &CampaignAssignment::expected_profit)
      .def_readonly("expected_value", &CampaignAssignment::expected_value)
      .def_readonly("cost", &CampaignAssignment::cost)
      .def_readonly("channel_contacts", &CampaignAssignment::channel_contacts)
      .def_readonly("upper_bound", &CampaignAssignment::upper_bound)
      .def_readonly("gap", &CampaignAssignment::gap)
      .def_readonly("budget_price", &CampaignAssignment::budget_price)
      .def_readonly("channel_price", &CampaignAssignment::channel_price)
      .def_readonly("n_iter", &CampaignAssignment::n_iter)
      .def_readonly("n_candidates", &CampaignAssignment::n_candidates);

  m.def(
      "validate_campaign",
      [](const py::array& response, const py::array& value, const py::array& cost, double budget,
         std::vector<double> capacity, int max_offers_per_customer) {
        const auto p = problem_of(response, value, cost, budget, std::move(capacity), max_offers_per_customer);
        py::gil_scoped_release release;
        validate(p, "optimize");
      },
      py::arg("response"), py::arg("value"), py::arg("cost"), py::arg("budget"), py::arg("capacity"),
      py::arg("max_offers_per_customer") = 1,
      "Checks a campaign problem; raises ValueError naming the argument and the first bad entry");
  m.def(
      "campaign_candidates",
      [](const py::array& response, const py::array& value, const py::array& cost, double budget,
         std::vector<double> capacity, int n_threads, int max_offers_per_customer) {
        const auto p = problem_of(response, value, cost, budget, std::move(capacity), max_offers_per_customer);
        CampaignCandidates c;
        {
          py::gil_scoped_release release;
          validate(p, "optimize");
          c = campaign_candidates(p, n_threads);
        }
        return candidates_dict(std::move(c));
      },
      py::arg("response"), py::arg("value"), py::arg("cost"), py::arg("budget"), py::arg("capacity"),
      py::arg("n_threads") = 0, py::arg("max_offers_per_customer") = 1,
      "Profitable (and, with one contact per customer, undominated) contacts per customer (CSR dict)");
  m.def(
      "optimize_campaign",
      [](const py::array& response, const py::array& value, const py::array& cost, double budget,
         std::vector<double> capacity, const CampaignOptimizerOptions& options, int max_offers_per_customer) {
        const auto p = problem_of(response, value, cost, budget, std::move(capacity), max_offers_per_customer);
        py::gil_scoped_release release;
        return optimize_campaign(p, options);
      },
      py::arg("response"), py::arg("value"), py::arg("cost"), py::arg("budget"), py::arg("capacity"),
      py::arg("options"), py::arg("max_offers_per_customer") = 1, "Dual-price greedy assignment with its LP upper bound");
  m.def(
      "campaign_reduction",
      [](const py::array& response, const py::array& value, const py::array& cost, double budget,
         std::vector<double> capacity, const CampaignOptimizerOptions& options, int max_offers_per_customer) {
        const auto p = problem_of(response, value, cost, budget, std::move(capacity), max_offers_per_customer);
        CampaignCandidates c;
        CampaignAssignment greedy;
        std::vector<std::uint8_t> state;
        {
          py::gil_scoped_release release;
          validate(p, "optimize");
          validate(options);
          c = campaign_candidates(p, options.n_threads);
          greedy = optimize_campaign(c, p.n_channels, p.budget, p.capacity, options);
          const auto fix = fix_by_reduced_cost(c, p.n_channels, p.budget, p.capacity, greedy.budget_price,
                                               greedy.channel_price, greedy.expected_profit, options.n_threads);
          state.reserve(fix.size());
          for (auto f : fix) state.push_back(static_cast<std::uint8_t>(f));
        }
        return py::make_tuple(candidates_dict(std::move(c)), std::move(greedy), to_numpy(std::move(state)));
      },
      py::arg("response"), py::arg("value"), py::arg("cost"), py::arg("budget"), py::arg("capacity"),
      py::arg("options"), py::arg("max_offers_per_customer") = 1,
      "(candidates, greedy assignment on them, reduced-cost fixing per candidate: 0 free, 1 taken, 2 dropped)");

  m.def(
      "nearest_neighbors",
      [](MatrixRef reference, MatrixRef query, int k, bool exclude_self, int n_threads) {
        KNeighbors nb;
        {
          py::gil_scoped_release release;
          nb = nearest_neighbors(reference, query, k, exclude_self, n_threads);
        }
        return py::make_tuple(std::move(nb.indices), std::move(nb.distances));
      },
      py::arg("reference"), py::arg("query"), py::arg("k"), py::arg("exclude_self") = false, py::arg("n_threads") = 0,
      "(indices, distances) of the k nearest reference rows of each query row");
  m.def(
      "cross_sell_scores",
      [](const RowMatrixXl& neighbors, const py::array& indptr, const py::array& items, std::int64_t n_items, int top_n,
         double min_score, int n_threads) {
        const auto ip = span_of<std::int64_t>(indptr, "indptr");
        const auto it = span_of<std::int64_t>(items, "items");
        CrossSellScores s;
        {
          py::gil_scoped_release release;
          s = cross_sell_scores(neighbors, ip, it, n_items, top_n, min_score, n_threads);
        }
        py::dict d;
        d["customer"] = to_numpy(std::move(s.customer));
        d["item"] = to_numpy(std::move(s.item));
        d["score"] = to_numpy(std::move(s.score));
        return d;
      },
      py::arg("neighbors"), py::arg("indptr"), py::arg("items"), py::arg("n_items"), py::arg("top_n"),
      py::arg("min_score"), py::arg("n_threads") = 0);

  py::class_<LookAlikeOptions>(m, "LookAlikeOptions")
      .def(py::init<>())
      .def_readwrite("n_neighbors", &LookAlikeOptions::n_neighbors)
      .def_readwrite("standardize", &LookAlikeOptions::standardize)
      .def_readwrite("n_threads", &LookAlikeOptions::n_threads);
  py::class_<LookAlikeScores>(m, "LookAlikeScores")
      .def_readonly("p_best", &LookAlikeScores::p_best)
      .def_readonly("similar_value", &LookAlikeScores::similar_value)
      .def_readonly("expected_value", &LookAlikeScores::expected_value);
  py::class_<LookAlike>(m, "LookAlike")
      .def(py::init<LookAlikeOptions>(), py::arg("options"))
      .def("fit", &LookAlike::fit, py::arg("X"), py::arg("best"), py::arg("value"), Release(),
           py::return_value_policy::reference_internal)
      .def("score", &LookAlike::score, py::arg("X"), Release())
      .def("similar_value", &LookAlike::similar_value, py::arg("X"), Release())
      .def(
          "kneighbors",
          [](const LookAlike& la, MatrixRef X, int k) {
            KNeighbors nb;
            {
              py::gil_scoped_release release;
              nb = la.kneighbors(X, k);
            }
            return py::make_tuple(std::move(nb.indices), std::move(nb.distances));
          },
          py::arg("X"), py::arg("k"))
      .def_property_readonly("is_fitted", &LookAlike::is_fitted)
      .def_property_readonly("n_features", &LookAlike::n_features)
      .def_property_readonly("n_customers", &LookAlike::n_customers)
      .def_property_readonly("n_best", &LookAlike::n_best)
      .def("to_bytes", &to_bytes<LookAlike>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<LookAlike>, py::arg("data"));
}

}  // namespace crmine::python
