// SPDX-License-Identifier: Apache-2.0
// Detectors of deviating customers: robust z, Mahalanobis (MCD), IsolationForest, LOF, HBOS.
#include "common.hpp"

namespace crmine::python {

void bind_deviation(py::module_& m) {
  (void)m;
}

}  // namespace crmine::python
