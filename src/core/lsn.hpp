#pragma once
// A SQL Server log sequence number (docs/facts.md §1): VLF sequence number (32 bit),
// log block offset (32 bit), slot (16 bit). One value type, every textual form.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace m2r {

class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr Lsn(std::uint32_t vlf, std::uint32_t block, std::uint16_t slot)
      : m_vlf(vlf), m_block(block), m_slot(slot) {}

  // Accepts, with surrounding white space ignored:
  //   fn_dblog hex, zero padded 8:8:4, any case     00000025:00000b8f:0004
  //   numeric(25,0), optionally prefixed "lsn:"     37000000295900004, lsn:37000000295900004
  //   binary(10) as 0x + 20 hex digits              0x0000002500000B8F0004
  // Rejects everything else, in particular short colon triplets (25:b8f:4, 37:2959:4),
  // which are ambiguous between hex and decimal (docs/facts.md §1, "Two common mistakes").
  static Expected<Lsn> parse(std::string_view text);

  constexpr std::uint32_t vlf() const { return m_vlf; }
  constexpr std::uint32_t block() const { return m_block; }
  constexpr std::uint16_t slot() const { return m_slot; }

  // "00000025:00000b8f:0004": fn_dblog's form and the one AWS DMS takes as CdcStartPosition.
  std::string to_hex() const;
  // "37000000295900004": msdb.dbo.backupset, STOPATMARK = 'lsn:...'.
  std::string to_numeric() const;
  // "37:2959:4": DBCC output. Display only; never parsed back (ambiguous).
  std::string to_decimal_triplet() const;
  // "0x0000002500000B8F0004": cdc.* and sys.fn_cdc_* functions.
  std::string to_binary() const;

  constexpr auto operator<=>(const Lsn&) const = default;

 private:
  std::uint32_t m_vlf = 0;
  std::uint32_t m_block = 0;
  std::uint16_t m_slot = 0;
};

// The forms parse() accepts, for error messages and help text.
extern const char* const k_lsn_accepted_forms;

}  // namespace m2r
