// SPDX-License-Identifier: Apache-2.0
// Readers for the CDNOW / donations reference files shared by the CLV tests.
#pragma once

#include <crmine/clv/model.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crmine::test {

/// The numeric columns of a CSV file with a header line (CRLF tolerated).
inline std::vector<std::vector<double>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<double>> cols;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream row(line);
    std::string cell;
    for (std::size_t c = 0; std::getline(row, cell, ','); ++c) {
      if (cols.size() <= c) cols.emplace_back();
      cols[c].push_back(std::stod(cell));
    }
  }
  return cols;
}

inline std::string data_path(const std::string& name) { return std::string(CRMINE_SHARED_DATA_DIR) + "/" + name; }

/// Per-customer (x, t_x, T) columns that outlive the ClvData view over them.
struct Cdnow {
  std::vector<double> x, tx, T;
  ClvData data() const { return {x, tx, T, {}}; }
};

/// Fader & Hardie's CDNOW calibration summary (2,357 customers, weeks).
inline Cdnow cdnow() {
  const auto cols = read_csv(data_path("cdnow/cdnow_customers_summary.csv"));
  return {cols.at(1), cols.at(2), cols.at(3)};
}

}  // namespace crmine::test
