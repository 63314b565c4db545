// SPDX-License-Identifier: Apache-2.0
// The model container: CRC-32 reference value, field round trips, corrupt and truncated records.
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include <gtest/gtest.h>

#include <sstream>

namespace crmine {
namespace {

std::string sample_record() {
  ModelWriter w(model_tag("TEST"), 2);
  w.u8(7);
  w.i32(-42);
  w.u32(0xDEADBEEFu);
  w.i64(-1234567890123LL);
  w.u64(0xFEDCBA9876543210ULL);
  w.f64(-0.1);
  w.boolean(true);
  w.string("h\xC3\xA9llo");
  w.f64_vector({1.5, -2.25});
  w.i32_vector({3, -4, 5});
  RowMatrix m(2, 3);
  m << 1, 2, 3, 4, 5, 6.5;
  w.matrix(m);
  std::ostringstream out;
  w.finish(out);
  return out.str();
}

TEST(Crc32, MatchesTheStandardCheckValue) { EXPECT_EQ(crc32("123456789"), 0xCBF43926u); }

TEST(ModelFormat, RoundTripsEveryFieldType) {
  std::istringstream in(sample_record());
  ModelReader r(in, model_tag("TEST"), 2);
  EXPECT_EQ(r.schema(), 2u);
  EXPECT_EQ(r.u8("a"), 7);
  EXPECT_EQ(r.i32("b"), -42);
  EXPECT_EQ(r.u32("c"), 0xDEADBEEFu);
  EXPECT_EQ(r.i64("d"), -1234567890123LL);
  EXPECT_EQ(r.u64("e"), 0xFEDCBA9876543210ULL);
  EXPECT_EQ(r.f64("f"), -0.1);
  EXPECT_TRUE(r.boolean("g"));
  EXPECT_EQ(r.string("h"), "h\xC3\xA9llo");
  EXPECT_EQ(r.f64_vector("i"), (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(r.i32_vector("j"), (std::vector<std::int32_t>{3, -4, 5}));
  const RowMatrix m = r.matrix("k");
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  EXPECT_EQ(m(1, 2), 6.5);
  r.expect_end();
}

TEST(ModelFormat, IsLittleEndianWithTheDocumentedHeader) {
  const std::string bytes = sample_record();
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89" "CRM\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x01\x00\x00\x00", 4));  // format version 1
  EXPECT_EQ(bytes.substr(12, 4), "TEST");
  EXPECT_EQ(bytes.substr(16, 4), std::string("\x02\x00\x00\x00", 4));  // schema 2
  EXPECT_EQ(static_cast<unsigned char>(bytes[28]), 7);                  // first payload byte
}

TEST(ModelFormat, EveryTruncationIsAModelFormatError) {
  const std::string bytes = sample_record();
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::istringstream in(bytes.substr(0, len));
    EXPECT_THROW(ModelReader(in, model_tag("TEST"), 2), ModelFormatError) << "length " << len;
  }
}

TEST(ModelFormat, EveryFlippedByteIsAModelFormatError) {
  const std::string bytes = sample_record();
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    std::istringstream in(bad);
    EXPECT_THROW(ModelReader(in, model_tag("TEST"), 2), ModelFormatError) << "byte " << at;
  }
}

TEST(ModelFormat, RejectsNewerVersionsAndOtherTags) {
  std::string newer = sample_record();
  newer[8] = 2;  // format version 2
  std::istringstream a(newer);
  EXPECT_THROW(ModelReader(a, model_tag("TEST"), 2), ModelFormatError);
  std::istringstream b(sample_record());
  EXPECT_THROW(ModelReader(b, model_tag("TEST"), 1), ModelFormatError);  // schema 2 > 1
  std::istringstream c(sample_record());
  try {
    ModelReader(c, model_tag("KMNS"), 1);
    FAIL() << "no exception";
  } catch (const ModelFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("TEST"), std::string::npos);
  }
}

TEST(ModelFormat, ReadingPastTheEndOrLeavingBytesFails) {
  std::istringstream in(sample_record());
  ModelReader r(in, model_tag("TEST"), 2);
  EXPECT_THROW(r.expect_end(), ModelFormatError);
  (void)r.u8("a");
  EXPECT_THROW(r.matrix("huge"), ModelFormatError);  // reads -42 etc. as an absurd shape
}

TEST(ModelFormat, PeekTagDoesNotConsume) {
  std::istringstream in(sample_record());
  const ModelTag tag = peek_model_tag(in);
  EXPECT_EQ(std::string(tag.data(), 4), "TEST");
  EXPECT_NO_THROW(ModelReader(in, model_tag("TEST"), 2));
}

TEST(Random, StreamsAreReproducibleAndDistinct) {
  Random a(5, 1), b(5, 1), c(5, 2);
  for (int i = 0; i < 100; ++i) {
    const auto x = a();
    EXPECT_EQ(x, b());
    EXPECT_NE(x, c());
  }
  Random u(9);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = u.uniform();
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
    sum += v;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(u.below(7), 7u);
}

}  // namespace
}  // namespace crmine
