// SPDX-License-Identifier: Apache-2.0
// The versioned binary model format (spec: docs/developer/model-format.md).
#include <crmine/core/serialize.hpp>

#include <bit>
#include <cstring>
#include <istream>
#include <limits>
#include <ostream>

namespace crmine {
namespace {

// PNG-style signature: the high byte catches 7-bit channels, CR LF / LF catch newline conversion.
constexpr char kMagic[8] = {'\x89', 'C', 'R', 'M', '\r', '\n', '\x1a', '\n'};
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 4 + 8;  // magic, format, tag, schema, payload size

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

template <typename T>
void put_le(std::string& out, T value) {
  using U = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
  const U bits = std::bit_cast<U>(value);
  for (std::size_t i = 0; i < sizeof(U); ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFFu));
}

template <typename T>
T get_le(const char* p) {
  using U = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
  U bits = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) bits = static_cast<U>(bits | (static_cast<U>(static_cast<unsigned char>(p[i])) << (8 * i)));
  return std::bit_cast<T>(bits);
}

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

std::string tag_name(const ModelTag& tag) { return std::string(tag.data(), tag.size()); }

}  // namespace

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  static const auto table = make_crc_table();
  crc = ~crc;
  for (const char ch : bytes) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

ModelWriter::ModelWriter(ModelTag tag, std::uint32_t schema) : tag_(tag), schema_(schema) {}

void ModelWriter::u8(std::uint8_t v) { payload_.push_back(static_cast<char>(v)); }
void ModelWriter::i32(std::int32_t v) { put_le(payload_, v); }
void ModelWriter::u32(std::uint32_t v) { put_le(payload_, v); }
void ModelWriter::i64(std::int64_t v) { put_le(payload_, v); }
void ModelWriter::u64(std::uint64_t v) { put_le(payload_, v); }
void ModelWriter::f64(double v) { put_le(payload_, v); }
void ModelWriter::string(std::string_view v) {
  u64(v.size());
  payload_.append(v);
}
void ModelWriter::f64_vector(const std::vector<double>& v) {
  u64(v.size());
  for (double x : v) f64(x);
}
void ModelWriter::i32_vector(const std::vector<std::int32_t>& v) {
  u64(v.size());
  for (std::int32_t x : v) i32(x);
}
void ModelWriter::matrix(const RowMatrix& m) {
  u64(static_cast<std::uint64_t>(m.rows()));
  u64(static_cast<std::uint64_t>(m.cols()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) f64(m(i, j));
}

void ModelWriter::finish(std::ostream& out) const {
  std::string header(kMagic, sizeof kMagic);
  put_le(header, kModelFormatVersion);
  header.append(tag_.data(), tag_.size());
  put_le(header, schema_);
  put_le(header, static_cast<std::uint64_t>(payload_.size()));
  std::uint32_t crc = crc32(std::string_view(header).substr(sizeof kMagic));
  crc = crc32(payload_, crc);
  std::string trailer;
  put_le(trailer, crc);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(payload_.data(), static_cast<std::streamsize>(payload_.size()));
  out.write(trailer.data(), static_cast<std::streamsize>(trailer.size()));
  if (!out) throw Error(detail::concat(tag_name(tag_), " save: the output stream failed"));
}

ModelReader::ModelReader(std::istream& in, ModelTag tag, std::uint32_t max_schema) : name_(tag_name(tag)) {
  char header[kHeaderSize];
  in.read(header, static_cast<std::streamsize>(kHeaderSize));
  if (in.gcount() != static_cast<std::streamsize>(kHeaderSize))
    throw ModelFormatError(name_ + " load: truncated header (not a crmine model file?)");
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0)
    throw ModelFormatError(name_ + " load: bad magic bytes (not a crmine model file, or mangled by a text-mode copy)");
  const auto format = get_le<std::uint32_t>(header + 8);
  if (format == 0 || format > kModelFormatVersion)
    throw ModelFormatError(detail::concat(name_, " load: format version ", format, " is newer than this build reads (",
                                          kModelFormatVersion, "); upgrade crmine"));
  const std::string found(header + 12, 4);
  if (found != name_) throw ModelFormatError(detail::concat(name_, " load: the file holds a '", found, "' model, not '", name_, "'"));
  schema_ = get_le<std::uint32_t>(header + 16);
  if (schema_ == 0 || schema_ > max_schema)
    throw ModelFormatError(detail::concat(name_, " load: model schema ", schema_, " is newer than this build reads (",
                                          max_schema, "); upgrade crmine"));
  const auto size = get_le<std::uint64_t>(header + 20);
  // Read in bounded steps so a corrupt size cannot make us allocate terabytes up front.
  constexpr std::uint64_t kStep = 1u << 20;
  for (std::uint64_t left = size; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min(left, kStep));
    const std::size_t at = payload_.size();
    payload_.resize(at + n);
    in.read(payload_.data() + at, static_cast<std::streamsize>(n));
    if (in.gcount() != static_cast<std::streamsize>(n))
      throw ModelFormatError(detail::concat(name_, " load: truncated payload (", size, " bytes announced)"));
    left -= n;
  }
  char trailer[4];
  in.read(trailer, 4);
  if (in.gcount() != 4) throw ModelFormatError(name_ + " load: truncated (checksum missing)");
  std::uint32_t crc = crc32(std::string_view(header + 8, kHeaderSize - 8));
  crc = crc32(payload_, crc);
  if (crc != get_le<std::uint32_t>(trailer))
    throw ModelFormatError(name_ + " load: checksum mismatch (the file is corrupt)");
}

const char* ModelReader::take(std::size_t n, const char* field) {
  if (payload_.size() - pos_ < n) fail(field, "payload ends early");
  const char* p = payload_.data() + pos_;
  pos_ += n;
  return p;
}

std::uint64_t ModelReader::count(const char* field, std::size_t element_size) {
  const std::uint64_t n = u64(field);
  if (element_size > 0 && n > (payload_.size() - pos_) / element_size) fail(field, detail::concat("length ", n, " exceeds the payload"));
  return n;
}

void ModelReader::fail(const char* field, const std::string& problem) const {
  throw ModelFormatError(detail::concat(name_, " load: ", field, ": ", problem));
}

std::uint8_t ModelReader::u8(const char* field) { return static_cast<std::uint8_t>(*take(1, field)); }
std::int32_t ModelReader::i32(const char* field) { return get_le<std::int32_t>(take(4, field)); }
std::uint32_t ModelReader::u32(const char* field) { return get_le<std::uint32_t>(take(4, field)); }
std::int64_t ModelReader::i64(const char* field) { return get_le<std::int64_t>(take(8, field)); }
std::uint64_t ModelReader::u64(const char* field) { return get_le<std::uint64_t>(take(8, field)); }
double ModelReader::f64(const char* field) { return get_le<double>(take(8, field)); }
bool ModelReader::boolean(const char* field) {
  const auto v = u8(field);
  if (v > 1) fail(field, "not a boolean");
  return v == 1;
}
std::string ModelReader::string(const char* field) {
  const auto n = count(field, 1);
  const char* p = take(static_cast<std::size_t>(n), field);
  return {p, static_cast<std::size_t>(n)};
}
std::vector<double> ModelReader::f64_vector(const char* field) {
  const auto n = count(field, 8);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = f64(field);
  return v;
}
std::vector<std::int32_t> ModelReader::i32_vector(const char* field) {
  const auto n = count(field, 4);
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = i32(field);
  return v;
}
RowMatrix ModelReader::matrix(const char* field) {
  const auto rows = u64(field);
  const auto cols = u64(field);
  if (cols != 0 && rows > (payload_.size() - pos_) / 8 / cols) fail(field, "matrix size exceeds the payload");
  if (rows > static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max()) ||
      cols > static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max()))
    fail(field, "matrix too large");
  RowMatrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = f64(field);
  return m;
}

void ModelReader::expect_end() const {
  if (pos_ != payload_.size())
    throw ModelFormatError(detail::concat(name_, " load: ", payload_.size() - pos_, " unread payload bytes (schema mismatch)"));
}

ModelTag peek_model_tag(std::istream& in) {
  const auto start = in.tellg();
  char header[16];
  in.read(header, 16);
  const bool ok = in.gcount() == 16 && std::memcmp(header, kMagic, sizeof kMagic) == 0;
  in.clear();
  in.seekg(start);
  if (!ok) throw ModelFormatError("load: not a crmine model file (bad or missing magic bytes)");
  return {header[12], header[13], header[14], header[15]};
}

}  // namespace crmine
