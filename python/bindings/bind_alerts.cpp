// SPDX-License-Identifier: Apache-2.0
// Deviation from a customer's own history and peers, churn early warning, alert explanations.
#include "common.hpp"

#include <crmine/deviation/alerts.hpp>
#include <crmine/deviation/history.hpp>
#include <crmine/deviation/peers.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <optional>

namespace crmine::python {
namespace {

/// Every per-customer column of the baselines as read-only numpy views owned by `self`.
py::dict history_columns(py::object self) {
  const auto& h = self.cast<const HistoryBaselines&>();
  py::dict out;
  auto add = [&](const char* name, const auto& values) { out[name] = view_of(values, self); };
  add("customer", h.customer);
  add("first_day", h.first_day);
  add("last_day", h.last_day);
  add("n_periods", h.n_periods);
  add("total_spend", h.total_spend);
  add("n_occasions", h.n_occasions);
  add("spend_mean", h.spend_mean);
  add("spend_spread", h.spend_spread);
  add("spend_current", h.spend_current);
  add("spend_z", h.spend_z);
  add("returns_mean", h.returns_mean);
  add("returns_spread", h.returns_spread);
  add("returns_current", h.returns_current);
  add("returns_z", h.returns_z);
  add("return_rate_baseline", h.return_rate_baseline);
  add("return_rate_current", h.return_rate_current);
  add("basket_n", h.basket_n);
  add("basket_current_n", h.basket_current_n);
  add("basket_mean", h.basket_mean);
  add("basket_spread", h.basket_spread);
  add("basket_current", h.basket_current);
  add("basket_z", h.basket_z);
  add("gap_n", h.gap_n);
  add("gap_mean", h.gap_mean);
  add("gap_spread", h.gap_spread);
  add("gap_current", h.gap_current);
  add("gap_ratio", h.gap_ratio);
  add("gap_z", h.gap_z);
  return out;
}

}  // namespace

void bind_alerts(py::module_& m) {
  py::class_<HistoryOptions>(m, "HistoryOptions")
      .def(py::init<>())
      .def_readwrite("period_days", &HistoryOptions::period_days)
      .def_readwrite("window", &HistoryOptions::window)
      .def_readwrite("as_of_day", &HistoryOptions::as_of_day)
      .def_readwrite("prior_weight", &HistoryOptions::prior_weight)
      .def_readwrite("prior_cv", &HistoryOptions::prior_cv)
      .def_readwrite("n_jobs", &HistoryOptions::n_jobs)
      .def_readonly_static("LATEST", &HistoryOptions::kLatest);

  py::class_<HistoryBaselines>(m, "HistoryBaselines")
      .def("columns", &history_columns, "Per-customer columns as read-only numpy views")
      .def_readonly("as_of_day", &HistoryBaselines::as_of_day)
      .def_readonly("period_days", &HistoryBaselines::period_days)
      .def_readonly("window", &HistoryBaselines::window)
      .def_readonly("rows_used", &HistoryBaselines::rows_used)
      .def_readonly("rows_after", &HistoryBaselines::rows_after)
      .def_readonly("population_spend_mean", &HistoryBaselines::population_spend_mean)
      .def_readonly("population_basket_mean", &HistoryBaselines::population_basket_mean)
      .def_readonly("population_gap_mean", &HistoryBaselines::population_gap_mean)
      .def("__len__", &HistoryBaselines::size);

  m.def(
      "history_baselines",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount,
         const HistoryOptions& options) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, py::none(), py::none());
        py::gil_scoped_release release;
        return history_baselines(log, options);
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("options"));

  py::class_<ChurnOptions>(m, "ChurnOptions")
      .def(py::init<>())
      .def_readwrite("gap_ratio", &ChurnOptions::gap_ratio)
      .def_readwrite("min_gaps", &ChurnOptions::min_gaps)
      .def_readwrite("p_alive_threshold", &ChurnOptions::p_alive_threshold)
      .def_readwrite("horizon_days", &ChurnOptions::horizon_days)
      .def_readwrite("within_days", &ChurnOptions::within_days);

  m.def(
      "churn_alerts",
      [](const HistoryBaselines& history, py::object p_alive, const ChurnOptions& options) {
        const auto p = span_of<double>(p_alive, "p_alive");
        ChurnAlerts a;
        {
          py::gil_scoped_release release;
          a = churn_alerts(history, p, options);
        }
        py::dict out;
        out["row"] = to_numpy(std::move(a.row));
        out["usual_value"] = to_numpy(std::move(a.usual_value));
        out["value_at_risk"] = to_numpy(std::move(a.value_at_risk));
        out["by_gap"] = to_numpy(std::move(a.by_gap));
        out["by_p_alive"] = to_numpy(std::move(a.by_p_alive));
        return out;
      },
      py::arg("history"), py::arg("p_alive"), py::arg("options"));

  m.def(
      "peer_deviations",
      [](MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& segment, int min_peers, int n_threads) {
        PeerDeviations r;
        {
          py::gil_scoped_release release;
          r = peer_deviations(X, segment, min_peers, n_threads);
        }
        return py::make_tuple(py::cast(std::move(r.median)), py::cast(std::move(r.scale)), py::cast(std::move(r.z)),
                              py::cast(std::move(r.score)), py::cast(std::move(r.driver)));
      },
      py::arg("X"), py::arg("segment"), py::arg("min_peers") = 5, py::arg("n_threads") = 0,
      "(median, scale, z, score, driver) of every row against its segment (codes 0..k-1)");
  m.def("precision_at_k", &precision_at_k, py::arg("y"), py::arg("score"), py::arg("k"), Release());
  m.def("recall_at_k", &recall_at_k, py::arg("y"), py::arg("score"), py::arg("k"), Release());
}

}  // namespace crmine::python
