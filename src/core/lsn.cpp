#include "core/lsn.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace m2r {

const char* const k_lsn_accepted_forms =
    "accepted forms: fn_dblog hex zero-padded 8:8:4 (00000025:00000b8f:0004), "
    "numeric(25,0) from msdb.dbo.backupset, optionally with 'lsn:' (37000000295900004), "
    "or binary(10) (0x0000002500000B8F0004)";

namespace {

constexpr std::uint64_t k_max_u32 = 0xFFFFFFFFull;
constexpr std::uint64_t k_max_u16 = 0xFFFFull;

tl::unexpected<Error> invalid(std::string_view text, const std::string& why) {
  return fail(ErrorKind::invalid_input, fmt::format("invalid LSN '{}': {}", text, why),
              k_lsn_accepted_forms);
}

bool all_of(std::string_view s, int (*pred)(int)) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (!all_of(s, isxdigit) || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                                                               : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

std::optional<std::uint64_t> parse_dec(std::string_view s) {
  if (!all_of(s, isdigit) || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Expected<Lsn> checked(std::string_view text, std::uint64_t vlf, std::uint64_t block, std::uint64_t slot) {
  if (vlf > k_max_u32) return invalid(text, fmt::format("VLF sequence number {} does not fit in 32 bits", vlf));
  if (block > k_max_u32) return invalid(text, fmt::format("log block offset {} does not fit in 32 bits", block));
  if (slot > k_max_u16) return invalid(text, fmt::format("slot {} does not fit in 16 bits", slot));
  return Lsn(static_cast<std::uint32_t>(vlf), static_cast<std::uint32_t>(block), static_cast<std::uint16_t>(slot));
}

// A colon triplet that is not 8:8:4 hex. Explain both readings instead of guessing.
tl::unexpected<Error> ambiguous_triplet(std::string_view text, const std::vector<std::string_view>& parts) {
  std::string readings;
  const auto h0 = parse_hex(parts[0]), h1 = parse_hex(parts[1]), h2 = parse_hex(parts[2]);
  if (h0 && h1 && h2 && *h0 <= k_max_u32 && *h1 <= k_max_u32 && *h2 <= k_max_u16) {
    readings += fmt::format(" Read as hex with the zeros stripped it would be {};",
                            Lsn(static_cast<std::uint32_t>(*h0), static_cast<std::uint32_t>(*h1),
                                static_cast<std::uint16_t>(*h2)).to_hex());
  }
  const auto d0 = parse_dec(parts[0]), d1 = parse_dec(parts[1]), d2 = parse_dec(parts[2]);
  if (d0 && d1 && d2 && *d0 <= k_max_u32 && *d1 <= k_max_u32 && *d2 <= k_max_u16) {
    readings += fmt::format(" read as a decimal triplet (DBCC) it would be {}.",
                            Lsn(static_cast<std::uint32_t>(*d0), static_cast<std::uint32_t>(*d1),
                                static_cast<std::uint16_t>(*d2)).to_hex());
  }
  return fail(ErrorKind::invalid_input,
              fmt::format("invalid LSN '{}': a colon triplet must be zero-padded hex 8:8:4; a short triplet is "
                          "ambiguous (hex with leading zeros stripped, or decimal from DBCC?) and both mistakes "
                          "are in circulation.{}",
                          text, readings),
              fmt::format("{}. Copy the LSN from fn_dblog's [Current LSN] or msdb.dbo.backupset.last_lsn "
                          "rather than retyping it.",
                          k_lsn_accepted_forms));
}

}  // namespace

Expected<Lsn> Lsn::parse(std::string_view raw) {
  const std::string_view text = trim(raw);
  if (text.empty()) return invalid(raw, "the value is empty");

  // binary(10): 0x + 20 hex digits.
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    const auto digits = text.substr(2);
    if (digits.size() != 20 || !all_of(digits, isxdigit)) {
      return invalid(text, "a binary(10) LSN is 0x followed by exactly 20 hex digits");
    }
    return checked(text, *parse_hex(digits.substr(0, 8)), *parse_hex(digits.substr(8, 8)),
                   *parse_hex(digits.substr(16, 4)));
  }

  // fn_dblog hex: exactly 8:8:4.
  if (text.find(':') != std::string_view::npos && !text.starts_with("lsn:") && !text.starts_with("LSN:")) {
    const auto parts = split(text, ':');
    if (parts.size() != 3) return invalid(text, fmt::format("expected 3 colon-separated parts, found {}", parts.size()));
    for (auto p : parts) {
      if (p.empty()) return invalid(text, "a colon-separated part is empty");
      if (!all_of(p, isxdigit)) return invalid(text, fmt::format("'{}' is not a hex number", p));
    }
    if (parts[0].size() == 8 && parts[1].size() == 8 && parts[2].size() == 4) {
      return checked(text, *parse_hex(parts[0]), *parse_hex(parts[1]), *parse_hex(parts[2]));
    }
    return ambiguous_triplet(text, parts);
  }

  // numeric(25,0), optionally "lsn:"-prefixed. Split from the right: 5 digits of slot,
  // 10 digits of block, the rest is the VLF (docs/facts.md §1). Up to 25 digits overflows
  // 64 bits, so the digits are split as text.
  std::string_view digits = text;
  if (digits.starts_with("lsn:") || digits.starts_with("LSN:")) digits.remove_prefix(4);
  if (digits.empty()) return invalid(text, "no digits after 'lsn:'");
  if (!all_of(digits, isdigit)) {
    const auto bad = std::find_if(digits.begin(), digits.end(),
                                  [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); });
    return invalid(text, fmt::format("unexpected character '{}' in a numeric LSN", *bad));
  }
  if (digits.size() > 25) return invalid(text, fmt::format("{} digits; numeric(25,0) holds at most 25", digits.size()));
  const std::size_t n = digits.size();
  const auto slot_digits = digits.substr(n > 5 ? n - 5 : 0);
  const auto rest = digits.substr(0, n > 5 ? n - 5 : 0);
  const auto block_digits = rest.substr(rest.size() > 10 ? rest.size() - 10 : 0);
  const auto vlf_digits = rest.substr(0, rest.size() > 10 ? rest.size() - 10 : 0);
  const auto vlf = vlf_digits.empty() ? std::optional<std::uint64_t>(0) : parse_dec(vlf_digits);
  const auto block = block_digits.empty() ? std::optional<std::uint64_t>(0) : parse_dec(block_digits);
  const auto slot = parse_dec(slot_digits);
  if (!vlf) return invalid(text, fmt::format("VLF sequence number {} does not fit in 32 bits", vlf_digits));
  return checked(text, *vlf, *block, *slot);
}

std::string Lsn::to_hex() const { return fmt::format("{:08x}:{:08x}:{:04x}", m_vlf, m_block, m_slot); }

std::string Lsn::to_numeric() const {
  if (m_vlf == 0) {
    if (m_block == 0) return fmt::format("{}", m_slot);
    return fmt::format("{}{:05}", m_block, m_slot);
  }
  return fmt::format("{}{:010}{:05}", m_vlf, m_block, m_slot);
}

std::string Lsn::to_decimal_triplet() const { return fmt::format("{}:{}:{}", m_vlf, m_block, m_slot); }

std::string Lsn::to_binary() const { return fmt::format("0x{:08X}{:08X}{:04X}", m_vlf, m_block, m_slot); }

}  // namespace m2r
