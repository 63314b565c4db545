// SPDX-License-Identifier: Apache-2.0
// Scores a customer CSV with a classifier saved by crmine (from Python or C++) and prints the
// top N by P(y=1). Columns are matched to the model's feature names, in any order.
//
//   classify_example model.crm customers.csv [N]   # N = 0 prints every row, ranked
//   classify_example                               # no arguments: train, save, load and score a demo
#include <crmine/classify.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

/// Reads `id,<features...>` rows; columns are placed by the model's feature names.
bool read_table(const char* path, const std::vector<std::string>& names, std::vector<std::int64_t>& ids, crmine::RowMatrix& X) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot open " << path << "\n";
    return false;
  }
  std::string line;
  std::getline(in, line);
  const auto header = split_csv(line);
  std::map<std::string, std::size_t> where;
  for (std::size_t c = 1; c < header.size(); ++c) where[header[c]] = c;
  std::vector<std::size_t> column;
  for (const auto& name : names) {
    const auto it = where.find(name);
    if (it == where.end()) {
      std::cerr << path << ": no column '" << name << "' required by the model\n";
      return false;
    }
    column.push_back(it->second);
  }
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto f = split_csv(line);
    ids.push_back(std::stoll(f.at(0)));
    std::vector<double> row;
    for (const std::size_t c : column) row.push_back(f.at(c).empty() ? std::nan("") : std::stod(f.at(c)));
    rows.push_back(std::move(row));
  }
  X.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(names.size()));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < names.size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  return true;
}

std::vector<std::string> names_of(const crmine::Classifier& model) {
  if (auto* m = dynamic_cast<const crmine::LogisticRegression*>(&model)) return m->feature_names();
  if (auto* m = dynamic_cast<const crmine::DecisionTreeClassifier*>(&model)) return m->feature_names();
  if (auto* m = dynamic_cast<const crmine::NaiveBayes*>(&model)) return m->feature_names();
  if (auto* m = dynamic_cast<const crmine::GradientBoostingClassifier*>(&model)) return m->feature_names();
  if (auto* m = dynamic_cast<const crmine::MLPClassifier*>(&model)) return m->feature_names();
  return {};
}

int demo() {
  // A toy response model: customers with more recent, more frequent purchases respond more.
  crmine::RowMatrix X(200, 2);
  Eigen::VectorXi y(200);
  for (int i = 0; i < 200; ++i) {
    X(i, 0) = (i * 37) % 100;        // days since the last purchase
    X(i, 1) = (i * 13) % 11;         // purchases last year
    y[i] = (X(i, 1) * 8 - X(i, 0) + (i * 53) % 40 - 20) > 0 ? 1 : 0;
  }
  crmine::LogisticRegression model;
  model.fit(X, y);
  model.set_feature_names({"recency", "frequency"});
  std::stringstream file;
  model.save(file);
  const auto loaded = crmine::load_classifier(file);
  const auto top = crmine::select_top(*loaded, X, {}, 5);
  std::cout << "coefficients: recency " << model.coef()[0] << ", frequency " << model.coef()[1] << "\n";
  std::cout << "top-decile lift: " << crmine::top_decile_lift(y, loaded->predict_proba(X).col(1)) << "\n";
  std::cout << "id,score\n";
  for (std::size_t r = 0; r < top.ids.size(); ++r) std::cout << top.ids[r] << "," << top.scores[r] << "\n";
  return top.ids.size() == 5 && model.coef()[1] > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return demo();
  try {
    std::ifstream file(argv[1], std::ios::binary);
    if (!file) {
      std::cerr << "cannot open " << argv[1] << "\n";
      return 1;
    }
    const auto model = crmine::load_classifier(file);
    const auto names = names_of(*model);
    if (names.empty()) {
      std::cerr << argv[1] << ": the model has no feature names; save it from Python or call set_feature_names\n";
      return 1;
    }
    std::vector<std::int64_t> ids;
    crmine::RowMatrix X;
    if (!read_table(argv[2], names, ids, X)) return 1;
    const std::int64_t n = argc > 3 ? std::stoll(argv[3]) : 10;
    const auto top = crmine::select_top(*model, X, ids, n > 0 ? n : X.rows());
    std::cout.precision(17);
    std::cout << "id,score\n";
    for (std::size_t r = 0; r < top.ids.size(); ++r) std::cout << top.ids[r] << "," << top.scores[r] << "\n";
  } catch (const std::exception& e) {
    std::cerr << "classify_example: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
