// SPDX-License-Identifier: Apache-2.0
// Campaign strategy: budget-limited offer/channel assignment, satisfaction, look-alikes, 7P profile.
#include "common.hpp"

namespace crmine::python {

void bind_campaign(py::module_& m) {
  (void)m;
}

}  // namespace crmine::python
