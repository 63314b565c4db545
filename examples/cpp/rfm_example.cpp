// SPDX-License-Identifier: Apache-2.0
// Reads a CSV transaction log (customer,day,amount) and prints RFM segments and value figures.
//
//   rfm_example transactions.csv      # or no argument: a small built-in log
#include <crmine/crmine.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::int64_t> customer, day;
  std::vector<double> amount;
  if (argc > 1) {
    std::ifstream in(argv[1]);
    if (!in) {
      std::cerr << "cannot open " << argv[1] << "\n";
      return 1;
    }
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::string c, d, a;
      std::getline(row, c, ',');
      std::getline(row, d, ',');
      std::getline(row, a, ',');
      customer.push_back(std::stoll(c));
      day.push_back(std::stoll(d));
      amount.push_back(std::stod(a));
    }
  } else {
    customer = {1, 2, 1, 3, 2, 1, 4, 4, 5, 3};
    day = {19700, 19702, 19710, 19711, 19720, 19725, 19726, 19729, 19730, 19731};
    amount = {20.0, 5.0, 35.5, 12.0, 7.5, 40.0, 3.0, 9.0, 150.0, -2.0};
  }
  crmine::TransactionLog log;
  log.customer = customer;
  log.time = day;  // day numbers: ticks_per_day = 1
  log.amount = amount;
  try {
    const crmine::CustomerSummary summary = crmine::summarize(log);
    crmine::RfmOptions options;
    options.q = 5;
    const crmine::RfmTable table = crmine::rfm(summary, options);
    std::cout << "customer recency frequency monetary RFM segment\n";
    for (std::size_t i = 0; i < table.size(); ++i)
      std::cout << table.customer[i] << ' ' << table.recency[i] << ' ' << table.frequency[i] << ' '
                << table.monetary[i] << ' ' << int(table.r_score[i]) << int(table.f_score[i])
                << int(table.m_score[i]) << ' ' << table.segment_names[static_cast<std::size_t>(table.segment[i])]
                << '\n';
    const crmine::Contribution value = crmine::contribution(summary.customer, summary.revenue);
    std::cout << "gini " << value.gini << ", top 20% hold " << value.top_shares[3] * 100 << "% of revenue\n";
  } catch (const crmine::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
