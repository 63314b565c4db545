// SPDX-License-Identifier: Apache-2.0
// The exception hierarchy every crmine function throws for bad input, bad state or bad files.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace crmine {

/// Base of every exception crmine throws on purpose; catch this to catch them all.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A value, shape or option the caller passed is wrong (Python: ValueError).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// An argument has the wrong kind, e.g. a float column where ids are expected (Python: TypeError).
class InvalidType : public Error {
 public:
  using Error::Error;
};

/// A model was used before `fit` (Python: crmine.exceptions.NotFittedError).
class NotFittedError : public Error {
 public:
  using Error::Error;
};

/// A saved model is corrupt, truncated, of another model type or of a newer format version.
class ModelFormatError : public Error {
 public:
  using Error::Error;
};

/// A caller-given or built-in resource limit (memory, item count) would be exceeded.
class LimitExceeded : public Error {
 public:
  using Error::Error;
};

namespace detail {

/// Concatenates the streamable arguments; std::format is missing from GCC 12, our minimum.
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  out.precision(17);
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

/// Throws InvalidArgument with the message "<where>: <argument>: <problem...>".
template <typename... Parts>
[[noreturn]] void throw_invalid(const char* where, const char* argument, Parts&&... problem) {
  throw InvalidArgument(concat(where, ": ", argument, ": ", std::forward<Parts>(problem)...));
}

}  // namespace detail
}  // namespace crmine
