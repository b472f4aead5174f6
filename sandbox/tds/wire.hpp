#pragma once
// Little helpers for TDS's byte layouts: little-endian integers (the default in
// TDS), big-endian packet header fields, UCS-2 strings with 1-, 2- or 4-byte
// length prefixes. ByteReader throws ProtocolError on a short or malformed
// message so that one bad packet never reads past its buffer.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox::tds {

// A client sent something the server cannot parse (the connection is closed).
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteWriter {
 public:
  void u8(std::uint8_t v) { m_bytes.push_back(v); }
  void u16(std::uint16_t v) { le(v, 2); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void u16_be(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v & 0xFF));
  }
  void bytes(const std::uint8_t* p, std::size_t n) { m_bytes.insert(m_bytes.end(), p, p + n); }
  void bytes(const std::vector<std::uint8_t>& b) { m_bytes.insert(m_bytes.end(), b.begin(), b.end()); }
  // UTF-16LE text without a prefix.
  void ucs2(std::string_view utf8);
  // B_VARCHAR: 1-byte character count, then UTF-16LE.
  void b_varchar(std::string_view utf8);
  // US_VARCHAR: 2-byte character count, then UTF-16LE.
  void us_varchar(std::string_view utf8);
  // Overwrites a u16 written earlier (token lengths known only at the end).
  void patch_u16(std::size_t at, std::uint16_t v) {
    m_bytes.at(at) = static_cast<std::uint8_t>(v & 0xFF);
    m_bytes.at(at + 1) = static_cast<std::uint8_t>(v >> 8);
  }
  std::size_t size() const { return m_bytes.size(); }
  const std::vector<std::uint8_t>& data() const { return m_bytes; }
  std::vector<std::uint8_t>& data() { return m_bytes; }
  void clear() { m_bytes.clear(); }

 private:
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) m_bytes.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
  }
  std::vector<std::uint8_t> m_bytes;
};

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
  explicit ByteReader(const std::vector<std::uint8_t>& v) : ByteReader(v.data(), v.size()) {}

  std::uint8_t u8() { need(1); return m_data[m_pos++]; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::uint16_t u16_be() {
    need(2);
    auto v = static_cast<std::uint16_t>((m_data[m_pos] << 8) | m_data[m_pos + 1]);
    m_pos += 2;
    return v;
  }
  std::vector<std::uint8_t> bytes(std::size_t n) {
    need(n);
    std::vector<std::uint8_t> out(m_data + m_pos, m_data + m_pos + n);
    m_pos += n;
    return out;
  }
  void skip(std::size_t n) { need(n); m_pos += n; }
  // n UTF-16LE code units, returned as UTF-8.
  std::string ucs2(std::size_t chars);
  std::string b_varchar() { return ucs2(u8()); }
  std::string us_varchar() { return ucs2(u16()); }

  std::size_t pos() const { return m_pos; }
  std::size_t size() const { return m_size; }
  std::size_t remaining() const { return m_size - m_pos; }
  bool at_end() const { return m_pos >= m_size; }
  void seek(std::size_t pos) {
    if (pos > m_size) throw ProtocolError("offset beyond the end of the message");
    m_pos = pos;
  }

 private:
  void need(std::size_t n) const {
    if (n > m_size - m_pos) throw ProtocolError("message shorter than its declared contents");
  }
  std::uint64_t le(int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(m_data[m_pos + static_cast<std::size_t>(i)]) << (8 * i);
    m_pos += static_cast<std::size_t>(n);
    return v;
  }
  const std::uint8_t* m_data;
  std::size_t m_size;
  std::size_t m_pos = 0;
};

// Text conversions. Invalid UTF-8 becomes U+FFFD; characters outside CP1252 become '?'.
std::u16string utf8_to_utf16(std::string_view utf8);
std::string utf16_to_utf8(std::u16string_view utf16);
std::vector<std::uint8_t> utf8_to_cp1252(std::string_view utf8);
std::string cp1252_to_utf8(const std::uint8_t* p, std::size_t n);
std::vector<std::uint8_t> utf8_to_utf16le(std::string_view utf8);
std::string utf16le_to_utf8(const std::uint8_t* p, std::size_t n);

}  // namespace sandbox::tds
