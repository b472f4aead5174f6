#pragma once
// SQL Server types on the wire ([MS-TDS] 2.2.5.4 data types, 2.2.5.6 TYPE_INFO):
// the TYPE_INFO of a column and the encoding of its values, and the reverse for
// RPC parameters sent by clients.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {

// Type tokens ([MS-TDS] 2.2.5.4.1-3).
enum TypeToken : std::uint8_t {
  k_null_type = 0x1F, k_int1 = 0x30, k_bit = 0x32, k_int2 = 0x34, k_int4 = 0x38,
  k_datetim4 = 0x3A, k_flt4 = 0x3B, k_money = 0x3C, k_datetime = 0x3D, k_flt8 = 0x3E,
  k_money4 = 0x7A, k_int8 = 0x7F,
  k_guid = 0x24, k_intn = 0x26, k_bitn = 0x68, k_decimaln = 0x6A, k_numericn = 0x6C,
  k_fltn = 0x6D, k_moneyn = 0x6E, k_datetimn = 0x6F, k_daten = 0x28, k_timen = 0x29,
  k_datetime2n = 0x2A, k_datetimeoffsetn = 0x2B,
  k_char = 0x2F, k_varchar = 0x27, k_binary = 0x2D, k_varbinary = 0x25,
  k_bigvarbin = 0xA5, k_bigvarchr = 0xA7, k_bigbinary = 0xAD, k_bigchar = 0xAF,
  k_nvarchar = 0xE7, k_nchar = 0xEF,
  k_text = 0x23, k_image = 0x22, k_ntext = 0x63,
  k_xml = 0xF1,  // XMLTYPE: TYPE_INFO is SCHEMA_PRESENT (0: untyped), the value a PLP stream of UTF-16LE
  k_ssvariant = 0x62,  // SSVARIANTTYPE: TYPE_INFO a 4-byte max length, values SSVARIANT_INSTANCE
};

// The max length a sql_variant column announces (8000 bytes of value plus 9 of header, as SQL Server sends).
inline constexpr std::uint32_t k_ssvariant_max_length = 8009;

// SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, flags IgnoreCase|IgnoreKana|IgnoreWidth,
// sort id 52 ([MS-TDS] 2.2.5.1.2).
inline constexpr std::array<std::uint8_t, 5> k_default_collation = {0x09, 0x04, 0xD0, 0x00, 0x34};

// Bytes a DECIMALN value takes for a precision ([MS-TDS] 2.2.5.5.1.6): 5, 9, 13 or 17.
int decimal_storage_size(int precision);

void write_type_info(ByteWriter& w, const ColumnType& t);
// Writes a value as it appears in a ROW (NULL included); NBCROW leaves NULLs out
// and calls this only for non-NULL values. Throws std::invalid_argument when the
// value cannot be represented in the type.
void write_value(ByteWriter& w, const ColumnType& t, const Value& v);

// Reads TYPE_INFO then the value of an RPC parameter. Types outside the sandbox's
// list are mapped to the nearest one (date -> datetime2(0), money -> decimal(19,4),
// char -> varchar, ...); untyped XML decodes to xml; sql_variant (SSVARIANT_INSTANCE) decodes
// to a sql_variant in the engine's stored form (engine/sql_variant.hpp); UDT throws ProtocolError.
struct DecodedValue {
  ColumnType type;
  Value value;
};
DecodedValue read_type_and_value(ByteReader& r);

// The two halves of read_type_and_value, for values that follow their TYPE_INFO at a
// distance (a bulk load's COLMETADATA, then its ROWs: tds/bulk_load.hpp).
struct WireType {
  std::uint8_t token = 0;        // the type token as sent
  ColumnType type;               // what the sandbox makes of it
  std::uint32_t max_length = 0;  // TYPE_INFO's length field (bytes)
  bool plp = false;              // a (max) type or xml: the value is a PLP stream
  std::uint8_t fixed_token = 0;  // INTN/BITN/FLTN/MONEYN/DATETIMN: the fixed type of the values
};
WireType read_type_info(ByteReader& r);
// A value as an RPC parameter or a ROW carries it (NULL as monostate). text/ntext/image:
// from the 4-byte length on (a ROW's text pointer is the caller's to read).
Value read_value(ByteReader& r, const WireType& type);

// Value conversions shared with the tests.
std::vector<std::uint8_t> guid_to_wire(const std::string& text);  // mixed-endian
std::string guid_from_wire(const std::uint8_t* p);
// Canonical decimal text <-> sign + little-endian magnitude of `bytes` bytes.
std::vector<std::uint8_t> decimal_to_wire(const std::string& text, int precision, int scale);
std::string decimal_from_wire(const std::uint8_t* p, std::size_t n, int scale);
// "YYYY-MM-DD HH:MM:SS[.fffffff]" <-> datetime days/ticks and datetime2 bytes.
std::vector<std::uint8_t> datetime_to_wire(const std::string& text);
std::string datetime_from_wire(const std::uint8_t* p);
std::vector<std::uint8_t> datetime2_to_wire(const std::string& text, int scale);
std::string datetime2_from_wire(const std::uint8_t* p, std::size_t n, int scale);
// A non-NULL sql_variant in the engine's stored form as SSVARIANT_INSTANCE ([MS-TDS] 2.2.5.5.4):
// total length (4 bytes), base type, property byte count, properties, the base type's value.
std::vector<std::uint8_t> variant_to_wire(const std::string& stored);

}  // namespace sandbox::tds
