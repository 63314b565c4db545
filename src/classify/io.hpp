// SPDX-License-Identifier: Apache-2.0
// Model-file helpers private to the classify area: string lists and Eigen vectors.
#pragma once

#include <crmine/core/serialize.hpp>

#include <string>
#include <vector>

namespace crmine::detail {

inline void write_strings(ModelWriter& w, const std::vector<std::string>& v) {
  w.u64(v.size());
  for (const auto& s : v) w.string(s);
}

inline std::vector<std::string> read_strings(ModelReader& r, const char* field) {
  const std::uint64_t n = r.u64(field);
  std::vector<std::string> v;
  for (std::uint64_t i = 0; i < n; ++i) v.push_back(r.string(field));
  return v;
}

inline void write_vector(ModelWriter& w, const Eigen::VectorXd& v) { w.f64_vector(std::vector<double>(v.data(), v.data() + v.size())); }

inline Eigen::VectorXd read_vector(ModelReader& r, const char* field) {
  const auto v = r.f64_vector(field);
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

}  // namespace crmine::detail
