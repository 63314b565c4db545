// SPDX-License-Identifier: Apache-2.0
// Glue shared by the bind_<area>.cpp files: zero-copy array views in and out of numpy.
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/transactions.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace crmine::python {
namespace py = pybind11;

/// A C-contiguous numpy array of exactly T; the Python layer converts, so this never copies.
template <typename T>
using Array = py::array_t<T, py::array::c_style>;

/// A span over a 1-d array argument, checking dtype and layout instead of silently copying.
template <typename T>
std::span<const T> span_of(const py::handle& obj, const char* name) {
  if (obj.is_none()) return {};
  auto arr = py::reinterpret_borrow<py::array>(obj);
  if (!py::isinstance<py::array>(obj) || !arr.dtype().is(py::dtype::of<T>()) ||
      !(arr.flags() & py::array::c_style) || arr.ndim() != 1)
    throw InvalidType(detail::concat(name, ": expected a 1-d C-contiguous ", py::str(py::dtype::of<T>()).cast<std::string>(),
                                     " array"));
  return {static_cast<const T*>(arr.data()), static_cast<std::size_t>(arr.size())};
}

/// A read-only numpy view of `values`, which must live as long as `owner`.
template <typename T>
py::array_t<T> view_of(const std::vector<T>& values, const py::handle& owner) {
  py::array_t<T> out({static_cast<py::ssize_t>(values.size())}, {static_cast<py::ssize_t>(sizeof(T))}, values.data(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

/// Moves `values` into a new numpy array without copying the elements.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* heap = new std::vector<T>(std::move(values));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {static_cast<py::ssize_t>(sizeof(T))}, heap->data(),
                        owner);
}

/// Copies a 1-d array argument into a vector (for building state from Python, not for hot data).
template <typename T>
std::vector<T> vector_of(const py::handle& obj, const char* name) {
  const auto s = span_of<T>(obj, name);
  return {s.begin(), s.end()};
}

/// The ReturnPolicy named by the Python `returns=` argument.
inline ReturnPolicy parse_returns(const std::string& s) {
  if (s == "net") return ReturnPolicy::net;
  if (s == "drop") return ReturnPolicy::drop;
  if (s == "error") return ReturnPolicy::error;
  throw InvalidArgument("returns: must be 'net', 'drop' or 'error', got '" + s + "'");
}

/// A log over the columns passed from Python (None = an absent optional column), which the caller keeps referenced during the call.
inline TransactionLog make_log(const py::handle& customer, const py::handle& time, std::int64_t ticks_per_day,
                               const py::handle& amount, const py::handle& order, const py::handle& cost,
                               const py::handle& item = py::none()) {
  TransactionLog log;
  log.customer = span_of<std::int64_t>(customer, "customer");
  log.time = span_of<std::int64_t>(time, "time");
  log.ticks_per_day = ticks_per_day;
  log.amount = span_of<double>(amount, "amount");
  log.order = span_of<std::int64_t>(order, "order");
  log.cost = span_of<double>(cost, "cost");
  log.item = span_of<std::int64_t>(item, "item");
  return log;
}

/// Releases the GIL for the duration of a bound call.
using Release = py::call_guard<py::gil_scoped_release>;

/// A model's bytes in crmine's versioned format (pickling and `to_bytes` use these).
template <typename Model>
py::bytes to_bytes(const Model& m) {
  std::ostringstream out;
  {
    py::gil_scoped_release release;
    m.save(out);
  }
  return py::bytes(out.str());
}

/// The model held by bytes from `to_bytes`; ModelFormatError when they are not a valid record.
template <typename Model>
Model from_bytes(const py::bytes& data) {
  std::istringstream in{std::string(data)};
  py::gil_scoped_release release;
  return Model::load(in);
}

}  // namespace crmine::python
