// SPDX-License-Identifier: Apache-2.0
// Exception translation and the transaction-log plumbing shared by all areas.
#include "common.hpp"

namespace crmine::python {

void bind_core(py::module_& m) {
  // Python-side classes are created in crmine/exceptions.py and registered here at import, so
  // that they carry scikit-learn's bases (NotFittedError is a ValueError and AttributeError).
  // Leaked on purpose: destroying Python objects after the interpreter has finalised crashes.
  static PyObject* not_fitted = nullptr;
  static PyObject* model_format = nullptr;
  static PyObject* limit_exceeded = nullptr;
  m.def("_register_exceptions", [](py::object nf, py::object mf, py::object le) {
    not_fitted = nf.release().ptr();
    model_format = mf.release().ptr();
    limit_exceeded = le.release().ptr();
  });
  // The finiteness check of every float column a Python caller hands in: one parallel pass with
  // no temporary arrays (numpy's isfinite would allocate two masks the size of the column).
  m.def(
      "first_non_finite",
      [](py::object values) {
        const auto v = span_of<double>(values, "values");
        py::gil_scoped_release release;
        return first_non_finite(v);
      },
      py::arg("values"));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const NotFittedError& e) {
      if (not_fitted) PyErr_SetString(not_fitted, e.what());
      else PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ModelFormatError& e) {
      if (model_format) PyErr_SetString(model_format, e.what());
      else PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const LimitExceeded& e) {
      if (limit_exceeded) PyErr_SetString(limit_exceeded, e.what());
      else PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const InvalidType& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace crmine::python
