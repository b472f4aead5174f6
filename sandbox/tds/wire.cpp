#include "tds/wire.hpp"

#include <array>

namespace sandbox::tds {
namespace {

constexpr char32_t k_replacement = 0xFFFD;

// CP1252's 0x80-0x9F block (Windows-1252 as published by the Unicode consortium);
// 0 marks the five undefined positions.
constexpr std::array<char16_t, 32> k_cp1252_high = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t cp = 0;
    if (c < 0x80) { cp = c; }
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; extra = 1; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; extra = 2; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; extra = 3; }
    else { out.push_back(k_replacement); ++i; continue; }
    if (i + static_cast<std::size_t>(extra) >= s.size() && extra > 0) {  // truncated sequence
      out.push_back(k_replacement);
      break;
    }
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) { ok = false; break; }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) { out.push_back(k_replacement); ++i; continue; }
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

void encode_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::u16string utf8_to_utf16(std::string_view utf8) {
  std::u16string out;
  for (char32_t cp : decode_utf8(utf8)) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

std::string utf16_to_utf8(std::u16string_view utf16) {
  std::string out;
  for (std::size_t i = 0; i < utf16.size(); ++i) {
    char32_t cp = utf16[i];
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < utf16.size() && utf16[i + 1] >= 0xDC00 &&
        utf16[i + 1] < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (utf16[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp < 0xE000) {
      cp = k_replacement;
    }
    encode_utf8(cp, out);
  }
  return out;
}

std::vector<std::uint8_t> utf8_to_utf16le(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  for (char16_t u : utf8_to_utf16(utf8)) {
    out.push_back(static_cast<std::uint8_t>(u & 0xFF));
    out.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return out;
}

std::string utf16le_to_utf8(const std::uint8_t* p, std::size_t n) {
  std::u16string s;
  s.reserve(n / 2);
  for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<char16_t>(p[i] | (p[i + 1] << 8));
  return utf16_to_utf8(s);
}

std::vector<std::uint8_t> utf8_to_cp1252(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  for (char32_t cp : decode_utf8(utf8)) {
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
      out.push_back(static_cast<std::uint8_t>(cp));
      continue;
    }
    std::uint8_t b = '?';
    for (std::size_t k = 0; k < k_cp1252_high.size(); ++k) {
      if (k_cp1252_high[k] != 0 && k_cp1252_high[k] == cp) b = static_cast<std::uint8_t>(0x80 + k);
    }
    out.push_back(b);
  }
  return out;
}

std::string cp1252_to_utf8(const std::uint8_t* p, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    char32_t cp = p[i];
    if (cp >= 0x80 && cp < 0xA0) {
      cp = k_cp1252_high[cp - 0x80] ? k_cp1252_high[cp - 0x80] : k_replacement;
    }
    encode_utf8(cp, out);
  }
  return out;
}

void ByteWriter::ucs2(std::string_view utf8) { bytes(utf8_to_utf16le(utf8)); }

void ByteWriter::b_varchar(std::string_view utf8) {
  auto b = utf8_to_utf16le(utf8);
  if (b.size() / 2 > 255) b.resize(255 * 2);
  u8(static_cast<std::uint8_t>(b.size() / 2));
  bytes(b);
}

void ByteWriter::us_varchar(std::string_view utf8) {
  auto b = utf8_to_utf16le(utf8);
  if (b.size() / 2 > 65535) b.resize(65535 * 2);
  u16(static_cast<std::uint16_t>(b.size() / 2));
  bytes(b);
}

std::string ByteReader::ucs2(std::size_t chars) {
  need(chars * 2);
  std::string s = utf16le_to_utf8(m_data + m_pos, chars * 2);
  m_pos += chars * 2;
  return s;
}

}  // namespace sandbox::tds
