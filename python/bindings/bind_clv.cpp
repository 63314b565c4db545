// SPDX-License-Identifier: Apache-2.0
// Bindings of the CLV area: purchase models, Gamma-Gamma spend, the CLV summary and CLV itself.
#include "common.hpp"

#include <crmine/clv.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace crmine::python {
namespace {

/// The customers as spans over the caller's float64 arrays (no copy; the Python layer converts).
ClvData customers_of(const py::handle& frequency, const py::handle& recency, const py::handle& T,
                     const py::handle& weights) {
  ClvData d;
  d.frequency = span_of<double>(frequency, "frequency");
  d.recency = span_of<double>(recency, "recency");
  d.T = span_of<double>(T, "T");
  d.weights = span_of<double>(weights, "weights");
  return d;
}

template <typename Model>
void bind_transaction_model(py::module_& m, const char* name) {
  py::class_<Model, TransactionModel>(m, name)
      .def(py::init<ClvFitOptions>(), py::arg("options") = ClvFitOptions{})
      .def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

template <typename Model>
void bind_covariate_model(py::module_& m, const char* name) {
  py::class_<Model, CovariateTransactionModel>(m, name)
      .def(py::init<ClvFitOptions>(), py::arg("options") = ClvFitOptions{})
      .def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

}  // namespace

void bind_clv(py::module_& m) {
  py::class_<ClvFitOptions>(m, "ClvFitOptions")
      .def(py::init<>())
      .def_readwrite("penalizer_coef", &ClvFitOptions::penalizer_coef)
      .def_readwrite("max_iter", &ClvFitOptions::max_iter)
      .def_readwrite("tol", &ClvFitOptions::tol)
      .def_readwrite("initial_params", &ClvFitOptions::initial_params)
      .def_readwrite("n_jobs", &ClvFitOptions::n_jobs);

  py::class_<ClvFitReport>(m, "ClvFitReport")
      .def_readonly("n_iter", &ClvFitReport::n_iter)
      .def_readonly("n_evaluations", &ClvFitReport::n_evaluations)
      .def_readonly("converged", &ClvFitReport::converged)
      .def_readonly("gradient_norm", &ClvFitReport::gradient_norm)
      .def_readonly("log_likelihood", &ClvFitReport::log_likelihood)
      .def_readonly("n_rows", &ClvFitReport::n_rows)
      .def_readonly("n_customers", &ClvFitReport::n_customers)
      .def_readonly("message", &ClvFitReport::message);

  py::class_<TransactionModel>(m, "TransactionModel")
      .def(
          "fit",
          [](TransactionModel& self, py::object x, py::object tx, py::object T, py::object w) {
            const ClvData d = customers_of(x, tx, T, w);
            py::gil_scoped_release release;
            self.fit(d);
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("weights") = py::none())
      .def(
          "log_likelihood",
          [](const TransactionModel& self, py::object x, py::object tx, py::object T, py::object w) {
            const ClvData d = customers_of(x, tx, T, w);
            Eigen::VectorXd grad;
            double ll = 0.0;
            {
              py::gil_scoped_release release;
              ll = self.log_likelihood(d, &grad);
            }
            return py::make_tuple(ll, grad);
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("weights") = py::none())
      .def(
          "conditional_probability_alive",
          [](const TransactionModel& self, py::object x, py::object tx, py::object T) {
            const ClvData d = customers_of(x, tx, T, py::none());
            std::vector<double> out;
            {
              py::gil_scoped_release release;
              out = self.conditional_probability_alive(d);
            }
            return to_numpy(std::move(out));
          })
      .def("conditional_expected_number_of_purchases_up_to_time",
           [](const TransactionModel& self, double t, py::object x, py::object tx, py::object T) {
             const ClvData d = customers_of(x, tx, T, py::none());
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = self.conditional_expected_number_of_purchases_up_to_time(t, d);
             }
             return to_numpy(std::move(out));
           })
      .def("expected_number_of_purchases_up_to_time", &TransactionModel::expected_number_of_purchases_up_to_time)
      .def("probability_of_n_purchases_up_to_time", &TransactionModel::probability_of_n_purchases_up_to_time,
           py::arg("t"), py::arg("n"))
      .def("conditional_probability_of_n_purchases_up_to_time",
           [](const TransactionModel& self, int n, double t, py::object x, py::object tx, py::object T) {
             const ClvData d = customers_of(x, tx, T, py::none());
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = self.conditional_probability_of_n_purchases_up_to_time(n, t, d);
             }
             return to_numpy(std::move(out));
           })
      .def("set_params", &TransactionModel::set_params)
      .def_property_readonly("params", &TransactionModel::params)
      .def_property_readonly("standard_errors", &TransactionModel::standard_errors)
      .def_property_readonly("report", &TransactionModel::report)
      .def_property_readonly("options", &TransactionModel::options)
      .def_property_readonly("param_names", &TransactionModel::param_names)
      .def_property_readonly("is_fitted", &TransactionModel::is_fitted);

  bind_transaction_model<BetaGeo>(m, "BetaGeo");
  bind_transaction_model<ModifiedBetaGeo>(m, "ModifiedBetaGeo");
  bind_transaction_model<ParetoNBD>(m, "ParetoNBD");
  bind_transaction_model<BetaGeoBetaBinom>(m, "BetaGeoBetaBinom");

  py::class_<GammaGamma>(m, "GammaGamma")
      .def(py::init<ClvFitOptions>(), py::arg("options") = ClvFitOptions{})
      .def(
          "fit",
          [](GammaGamma& self, py::object x, py::object mv, py::object w) {
            const auto xs = span_of<double>(x, "frequency");
            const auto ms = span_of<double>(mv, "monetary_value");
            const auto ws = span_of<double>(w, "weights");
            py::gil_scoped_release release;
            self.fit(xs, ms, ws);
          },
          py::arg("frequency"), py::arg("monetary_value"), py::arg("weights") = py::none())
      .def(
          "log_likelihood",
          [](const GammaGamma& self, py::object x, py::object mv, py::object w) {
            Eigen::VectorXd grad;
            const double ll = self.log_likelihood(span_of<double>(x, "frequency"),
                                                  span_of<double>(mv, "monetary_value"), span_of<double>(w, "weights"),
                                                  &grad);
            return py::make_tuple(ll, grad);
          },
          py::arg("frequency"), py::arg("monetary_value"), py::arg("weights") = py::none())
      .def("conditional_expected_average_profit",
           [](const GammaGamma& self, py::object x, py::object mv) {
             return to_numpy(self.conditional_expected_average_profit(span_of<double>(x, "frequency"),
                                                                      span_of<double>(mv, "monetary_value")));
           })
      .def("to_bytes", &to_bytes<GammaGamma>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<GammaGamma>, py::arg("data"))
      .def("set_params", &GammaGamma::set_params)
      .def_property_readonly("params", &GammaGamma::params)
      .def_property_readonly("standard_errors", &GammaGamma::standard_errors)
      .def_property_readonly("report", &GammaGamma::report)
      .def_property_readonly("options", &GammaGamma::options)
      .def_property_readonly("param_names", &GammaGamma::param_names)
      .def_property_readonly("is_fitted", &GammaGamma::is_fitted);

  py::class_<CovariateTransactionModel>(m, "CovariateTransactionModel")
      .def(
          "fit",
          [](CovariateTransactionModel& self, py::object x, py::object tx, py::object T, py::object w, MatrixRef zt,
             MatrixRef zl) {
            const ClvData d = customers_of(x, tx, T, w);
            py::gil_scoped_release release;
            self.fit(d, zt, zl);
          },
          py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("weights"), py::arg("z_trans"),
          py::arg("z_life"))
      .def(
          "log_likelihood",
          [](const CovariateTransactionModel& self, py::object x, py::object tx, py::object T, py::object w,
             MatrixRef zt, MatrixRef zl) {
            const ClvData d = customers_of(x, tx, T, w);
            Eigen::VectorXd grad;
            double ll = 0.0;
            {
              py::gil_scoped_release release;
              ll = self.log_likelihood(d, zt, zl, &grad);
            }
            return py::make_tuple(ll, grad);
          })
      .def("conditional_probability_alive",
           [](const CovariateTransactionModel& self, py::object x, py::object tx, py::object T, MatrixRef zt,
              MatrixRef zl) {
             const ClvData d = customers_of(x, tx, T, py::none());
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = self.conditional_probability_alive(d, zt, zl);
             }
             return to_numpy(std::move(out));
           })
      .def("conditional_expected_number_of_purchases_up_to_time",
           [](const CovariateTransactionModel& self, double t, py::object x, py::object tx, py::object T,
              MatrixRef zt, MatrixRef zl) {
             const ClvData d = customers_of(x, tx, T, py::none());
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = self.conditional_expected_number_of_purchases_up_to_time(t, d, zt, zl);
             }
             return to_numpy(std::move(out));
           })
      .def("expected_number_of_purchases_up_to_time",
           [](const CovariateTransactionModel& self, double t, MatrixRef zt, MatrixRef zl) {
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = self.expected_number_of_purchases_up_to_time(t, zt, zl);
             }
             return to_numpy(std::move(out));
           })
      .def("set_params", &CovariateTransactionModel::set_params)
      .def_property_readonly("params", &CovariateTransactionModel::params)
      .def_property_readonly("standard_errors", &CovariateTransactionModel::standard_errors)
      .def_property_readonly("report", &CovariateTransactionModel::report)
      .def_property_readonly("options", &CovariateTransactionModel::options)
      .def_property_readonly("param_names", &CovariateTransactionModel::param_names)
      .def_property_readonly("n_trans", &CovariateTransactionModel::n_trans)
      .def_property_readonly("n_life", &CovariateTransactionModel::n_life);

  bind_covariate_model<ParetoNBDCovariates>(m, "ParetoNBDCovariates");
  bind_covariate_model<BetaGeoCovariates>(m, "BetaGeoCovariates");

  m.def(
      "customer_lifetime_value_covariates",
      [](const CovariateTransactionModel& model, py::object x, py::object tx, py::object T, MatrixRef zt,
         MatrixRef zl, py::object spend, int n_periods, double period_length, double discount_rate, double margin) {
        const ClvData d = customers_of(x, tx, T, py::none());
        const auto s = span_of<double>(spend, "monetary_value");
        const ClvOptions o{n_periods, period_length, discount_rate, margin};
        std::vector<double> out;
        {
          py::gil_scoped_release release;
          out = customer_lifetime_value(model, d, zt, zl, s, o);
        }
        return to_numpy(std::move(out));
      },
      py::arg("model"), py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("z_trans"), py::arg("z_life"),
      py::arg("monetary_value"), py::arg("n_periods"), py::arg("period_length"), py::arg("discount_rate"),
      py::arg("margin"));

  m.def(
      "customer_lifetime_value",
      [](const TransactionModel& model, py::object x, py::object tx, py::object T, py::object spend, int n_periods,
         double period_length, double discount_rate, double margin) {
        const ClvData d = customers_of(x, tx, T, py::none());
        const auto s = span_of<double>(spend, "monetary_value");
        ClvOptions o;
        o.n_periods = n_periods;
        o.period_length = period_length;
        o.discount_rate = discount_rate;
        o.margin = margin;
        std::vector<double> out;
        {
          py::gil_scoped_release release;
          out = customer_lifetime_value(model, d, s, o);
        }
        return to_numpy(std::move(out));
      },
      py::arg("model"), py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("monetary_value"),
      py::arg("n_periods"), py::arg("period_length"), py::arg("discount_rate"), py::arg("margin"));

  m.def(
      "calibration_holdout_table",
      [](const TransactionModel& model, py::object x, py::object tx, py::object T, py::object holdout,
         double duration_holdout, int max_frequency) {
        const ClvData d = customers_of(x, tx, T, py::none());
        const auto h = span_of<double>(holdout, "frequency_holdout");
        CalibrationHoldoutTable t;
        {
          py::gil_scoped_release release;
          t = calibration_holdout_table(model, d, h, duration_holdout, max_frequency);
        }
        py::dict out;
        out["frequency"] = to_numpy(std::move(t.frequency));
        out["n_customers"] = to_numpy(std::move(t.n_customers));
        out["actual"] = to_numpy(std::move(t.actual));
        out["predicted"] = to_numpy(std::move(t.predicted));
        return out;
      },
      py::arg("model"), py::arg("frequency"), py::arg("recency"), py::arg("T"), py::arg("frequency_holdout"),
      py::arg("duration_holdout"), py::arg("max_frequency"));

  m.def(
      "expected_cumulative_transactions",
      [](const TransactionModel& model, py::object customer, py::object time, std::int64_t ticks_per_day,
         py::object amount, py::object order, double unit_days, int period_days, py::object end_day) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, order, py::none());
        TrackingOptions o;
        o.unit_days = unit_days;
        o.period_days = period_days;
        if (!end_day.is_none()) o.end_day = end_day.cast<std::int64_t>();
        TrackingTable t;
        {
          py::gil_scoped_release release;
          t = expected_cumulative_transactions(model, log, o);
        }
        py::dict out;
        out["period_end"] = to_numpy(std::move(t.period_end));
        out["actual"] = to_numpy(std::move(t.actual));
        out["predicted"] = to_numpy(std::move(t.predicted));
        return out;
      },
      py::arg("model"), py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"),
      py::arg("order"), py::arg("unit_days"), py::arg("period_days"), py::arg("end_day"));

  py::class_<ClvSummary>(m, "ClvSummary")
      .def_property_readonly("customer", [](ClvSummary& s) { return to_numpy(std::move(s.customer)); })
      .def("columns",
           [](ClvSummary& s) {
             py::dict out;
             out["customer"] = to_numpy(std::move(s.customer));
             out["first_day"] = to_numpy(std::move(s.first_day));
             out["frequency"] = to_numpy(std::move(s.frequency));
             out["recency"] = to_numpy(std::move(s.recency));
             out["T"] = to_numpy(std::move(s.T));
             out["monetary_value"] = to_numpy(std::move(s.monetary_value));
             if (s.has_holdout) {
               out["frequency_holdout"] = to_numpy(std::move(s.frequency_holdout));
               out["monetary_value_holdout"] = to_numpy(std::move(s.monetary_value_holdout));
             }
             return out;
           })
      .def_readonly("has_holdout", &ClvSummary::has_holdout)
      .def_readonly("duration_holdout", &ClvSummary::duration_holdout)
      .def_readonly("calibration_end", &ClvSummary::calibration_end)
      .def_readonly("observation_end", &ClvSummary::observation_end);

  m.def(
      "clv_summary",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object amount, py::object order,
         py::object cost, double unit_days, py::object calibration_end, py::object observation_end,
         const std::string& returns, int n_jobs) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, amount, order, cost);
        ClvSummaryOptions o;
        o.unit_days = unit_days;
        if (!calibration_end.is_none()) o.calibration_end = calibration_end.cast<std::int64_t>();
        if (!observation_end.is_none()) o.observation_end = observation_end.cast<std::int64_t>();
        o.returns = parse_returns(returns);
        o.n_jobs = n_jobs;
        py::gil_scoped_release release;
        return clv_summary(log, o);
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("amount"), py::arg("order"),
      py::arg("cost"), py::arg("unit_days"), py::arg("calibration_end"), py::arg("observation_end"),
      py::arg("returns"), py::arg("n_jobs"));
}

}  // namespace crmine::python
