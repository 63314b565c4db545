// SPDX-License-Identifier: Apache-2.0
// The versioned binary model format: framing, fixed-width little-endian fields, CRC-32 check.
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/matrix.hpp>

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace crmine {

/// The container version this build writes; readers accept 1..kModelFormatVersion.
inline constexpr std::uint32_t kModelFormatVersion = 1;

/// A four-character model tag such as "KMNS" (faiss fourcc style).
using ModelTag = std::array<char, 4>;

/// Makes a ModelTag from a 4-character literal.
constexpr ModelTag model_tag(const char (&s)[5]) { return {s[0], s[1], s[2], s[3]}; }

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of `bytes`, continuing from `crc`.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

/// Builds one model record in memory, then frames and writes it with `finish`.
/// Layout: docs/developer/model-format.md.
class ModelWriter {
 public:
  /// `schema` is the model's own payload version, raised when its fields change.
  ModelWriter(ModelTag tag, std::uint32_t schema);

  void u8(std::uint8_t v);
  void i32(std::int32_t v);
  void u32(std::uint32_t v);
  void i64(std::int64_t v);
  void u64(std::uint64_t v);
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  void string(std::string_view v);
  void f64_vector(const std::vector<double>& v);
  void i32_vector(const std::vector<std::int32_t>& v);
  /// Rows, columns, then the values row by row.
  void matrix(const RowMatrix& m);

  /// Writes magic, header, payload and checksum to `out`; throws Error if the stream fails.
  void finish(std::ostream& out) const;

 private:
  ModelTag tag_;
  std::uint32_t schema_;
  std::string payload_;
};

/// Reads one model record: checks magic, version, tag, length and checksum up front, then hands
/// out fields in order; every failure is a ModelFormatError naming the model and the field.
class ModelReader {
 public:
  /// Reads and verifies a whole record of model `tag` whose schema is at most `max_schema`.
  ModelReader(std::istream& in, ModelTag tag, std::uint32_t max_schema);

  /// The payload schema version the record was written with (1..max_schema).
  std::uint32_t schema() const { return schema_; }

  std::uint8_t u8(const char* field);
  std::int32_t i32(const char* field);
  std::uint32_t u32(const char* field);
  std::int64_t i64(const char* field);
  std::uint64_t u64(const char* field);
  double f64(const char* field);
  bool boolean(const char* field);
  std::string string(const char* field);
  std::vector<double> f64_vector(const char* field);
  std::vector<std::int32_t> i32_vector(const char* field);
  RowMatrix matrix(const char* field);

  /// Throws unless every payload byte was consumed (a longer payload means a format mismatch).
  void expect_end() const;

  /// Throws ModelFormatError("<tag>: <field>: <problem>") — for semantic checks by the model.
  [[noreturn]] void fail(const char* field, const std::string& problem) const;

 private:
  const char* take(std::size_t n, const char* field);
  std::uint64_t count(const char* field, std::size_t element_size);
  std::string name_;
  std::uint32_t schema_ = 0;
  std::string payload_;
  std::size_t pos_ = 0;
};

/// The tag of the record at the stream's position without consuming it (for factories).
ModelTag peek_model_tag(std::istream& in);

}  // namespace crmine
