// SPDX-License-Identifier: Apache-2.0
// Specification of saving and loading CLV models: round trips, a golden record, corrupt bytes.
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace crmine {
namespace {

using test::Cdnow;
using test::cdnow;

std::string bytes_of(const auto& model) {
  std::ostringstream out;
  model.save(out);
  return out.str();
}

template <typename Model>
void expect_round_trip(const Model& fitted, const ClvData& d) {
  std::istringstream in(bytes_of(fitted));
  const Model loaded = Model::load(in);
  for (Eigen::Index j = 0; j < fitted.params().size(); ++j) {
    EXPECT_EQ(loaded.params()[j], fitted.params()[j]);
    const double a = loaded.standard_errors()[j], b = fitted.standard_errors()[j];
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << a << " vs " << b;  // NaN after set_params
  }
  EXPECT_EQ(loaded.report().log_likelihood, fitted.report().log_likelihood);
  EXPECT_EQ(loaded.report().n_iter, fitted.report().n_iter);
  EXPECT_EQ(loaded.report().message, fitted.report().message);
  EXPECT_EQ(loaded.options().penalizer_coef, fitted.options().penalizer_coef);
  EXPECT_EQ(loaded.conditional_probability_alive(d), fitted.conditional_probability_alive(d));
  // The bytes are a fixed point: saving the loaded model reproduces them.
  EXPECT_EQ(bytes_of(loaded), bytes_of(fitted));
}

TEST(ClvSerialization, EveryPurchaseModelRoundTrips) {
  const Cdnow c = cdnow();
  ClvFitOptions o;
  o.penalizer_coef = 0.001;
  BetaGeo bg(o);
  bg.fit(c.data());
  expect_round_trip(bg, c.data());
  ModifiedBetaGeo mbg;
  mbg.fit(c.data());
  expect_round_trip(mbg, c.data());
  ParetoNBD pnbd;
  pnbd.fit(c.data());
  expect_round_trip(pnbd, c.data());
  BetaGeoBetaBinom bgbb;
  bgbb.set_params(Eigen::Vector4d(1.2035, 0.7497, 0.6567, 2.7834));
  const std::vector<double> x{0, 2, 5}, tx{0, 3, 6}, n{6, 6, 6};
  expect_round_trip(bgbb, {x, tx, n, {}});
}

TEST(ClvSerialization, FactoryLoadsWhicheverModelItIs) {
  ParetoNBD pnbd;
  pnbd.set_params(Eigen::Vector4d(0.5533, 10.5776, 0.6062, 11.6678));
  std::istringstream in(bytes_of(pnbd));
  const std::unique_ptr<TransactionModel> loaded = load_transaction_model(in);
  ASSERT_NE(dynamic_cast<ParetoNBD*>(loaded.get()), nullptr);
  EXPECT_EQ(loaded->params(), pnbd.params());
  GammaGamma gg;
  gg.set_params(Eigen::Vector3d(6.25, 3.74, 15.44));
  std::istringstream spend(bytes_of(gg));
  EXPECT_THROW(load_transaction_model(spend), ModelFormatError);
}

TEST(ClvSerialization, GammaGammaRoundTrips) {
  GammaGamma gg;
  gg.set_params(Eigen::Vector3d(6.25, 3.74, 15.44));
  std::istringstream in(bytes_of(gg));
  const GammaGamma loaded = GammaGamma::load(in);
  EXPECT_EQ(loaded.params(), gg.params());
  EXPECT_EQ(bytes_of(loaded), bytes_of(gg));
}

// A BetaGeo record (schema 1) written when the format was introduced: it must keep loading.
// Parameters 0.25, 4.0, 0.8, 2.5 set with set_params, default options.
constexpr const char* kGoldenBetaGeo =
    "8943524d0d0a1a0a0100000042474e4201000000bb000000000000000000000000000000e80300003a8c30e28e79453e"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000001a00000000000000706172616d6574657273207365742c206e6f7420666974746564040000000000000000"
    "0000000000d03f00000000000010409a9999999999e93f00000000000004400400000000000000000000000000f87f00"
    "0000000000f87f000000000000f87f000000000000f87f69e8aaa6";

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

TEST(ClvSerialization, GoldenRecordKeepsLoading) {
  std::istringstream in(from_hex(kGoldenBetaGeo));
  const BetaGeo m = BetaGeo::load(in);
  EXPECT_EQ(m.params(), Eigen::Vector4d(0.25, 4.0, 0.8, 2.5));
  EXPECT_EQ(m.report().message, "parameters set, not fitted");
  EXPECT_EQ(m.options().max_iter, 1000);
}

TEST(ClvSerialization, CorruptOrForeignBytesThrowModelFormatError) {
  BetaGeo bg;
  bg.set_params(Eigen::Vector4d(0.25, 4.0, 0.8, 2.5));
  const std::string good = bytes_of(bg);
  for (std::size_t pos : {std::size_t{0}, std::size_t{9}, std::size_t{13}, std::size_t{30}, good.size() / 2,
                          good.size() - 1}) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    std::istringstream in(bad);
    EXPECT_THROW(BetaGeo::load(in), ModelFormatError) << "byte " << pos;
  }
  std::istringstream truncated(good.substr(0, good.size() - 7));
  EXPECT_THROW(BetaGeo::load(truncated), ModelFormatError);
  std::istringstream as_pareto(good);
  EXPECT_THROW(ParetoNBD::load(as_pareto), ModelFormatError);  // tag mismatch
  std::istringstream empty("");
  EXPECT_THROW(BetaGeo::load(empty), ModelFormatError);
  BetaGeo unfitted;
  std::ostringstream out;
  EXPECT_THROW(unfitted.save(out), NotFittedError);
}

}  // namespace
}  // namespace crmine
