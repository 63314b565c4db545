// SPDX-License-Identifier: Apache-2.0
// Uplift models (two-model, class transformation, uplift trees/forests) and Qini/uplift curves.
#include "common.hpp"

namespace crmine::python {

void bind_uplift(py::module_& m) {
  (void)m;
}

}  // namespace crmine::python
