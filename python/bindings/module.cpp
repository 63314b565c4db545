// SPDX-License-Identifier: Apache-2.0
// The compiled core of the crmine Python package: one bind_<area> call per area.
#include "common.hpp"

#include <crmine/version.hpp>

namespace crmine::python {
void bind_core(py::module_& m);
void bind_value(py::module_& m);
void bind_rules(py::module_& m);
void bind_clv(py::module_& m);
void bind_cluster(py::module_& m);
void bind_classify(py::module_& m);
void bind_deviation(py::module_& m);
void bind_alerts(py::module_& m);
void bind_uplift(py::module_& m);
void bind_campaign(py::module_& m);
void bind_satisfaction(py::module_& m);
}  // namespace crmine::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "crmine's compiled core; use the crmine package, not this module";
  m.attr("__version__") = crmine::kVersion;
  crmine::python::bind_core(m);
  crmine::python::bind_value(m);
  crmine::python::bind_rules(m);
  crmine::python::bind_clv(m);
  crmine::python::bind_cluster(m);
  crmine::python::bind_classify(m);
  crmine::python::bind_deviation(m);
  crmine::python::bind_alerts(m);
  crmine::python::bind_uplift(m);
  crmine::python::bind_campaign(m);
  crmine::python::bind_satisfaction(m);
}
