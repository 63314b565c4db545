// SPDX-License-Identifier: Apache-2.0
// Deviation from a customer's own history and peers, churn early warning, alert explanations.
#include "common.hpp"

namespace crmine::python {

void bind_alerts(py::module_& m) {
  (void)m;
}

}  // namespace crmine::python
