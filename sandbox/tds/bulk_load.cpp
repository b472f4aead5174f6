#include "tds/bulk_load.hpp"

#include <fmt/format.h>

#include "tds/tokens.hpp"
#include "tds/type_codec.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {

constexpr std::uint16_t k_no_metadata = 0xFFFF;
constexpr std::uint16_t k_flag_nullable = 0x0001;

bool has_text_pointer(std::uint8_t token) { return token == k_text || token == k_ntext || token == k_image; }

}  // namespace

BulkLoadMessage parse_bulk_load(const std::vector<std::uint8_t>& payload, std::uint32_t tds_version) {
  BulkLoadMessage msg;
  std::vector<WireType> wire;
  ByteReader r(payload);
  bool done = false;
  while (!r.at_end() && !done) {
    const std::uint8_t token = r.u8();
    switch (token) {
      case k_token_colmetadata: {
        if (!wire.empty()) throw ProtocolError("a second COLMETADATA in a bulk load");
        const std::uint16_t count = r.u16();
        if (count == k_no_metadata || count == 0) throw ProtocolError("a bulk load without column metadata");
        for (std::uint16_t i = 0; i < count; ++i) {
          if (tds_version >= k_tds_version_72) r.u32();  // UserType
          else r.u16();
          const std::uint16_t flags = r.u16();
          WireType w = read_type_info(r);
          // Clients (tedious, FreeTDS) send a text/ntext/image column's table name as one
          // US_VARCHAR, without the NumParts of a server's COLMETADATA.
          if (has_text_pointer(w.token)) r.us_varchar();
          Column c;
          c.name = r.b_varchar();
          c.type = w.type;
          c.nullable = (flags & k_flag_nullable) != 0;
          msg.columns.push_back(std::move(c));
          wire.push_back(w);
        }
        break;
      }
      case k_token_row: {
        if (wire.empty()) throw ProtocolError("a ROW before COLMETADATA in a bulk load");
        std::vector<Value> row;
        row.reserve(wire.size());
        for (const WireType& w : wire) {
          if (has_text_pointer(w.token)) {
            // TextPointer (B_VARBYTE; empty: NULL), then the 8-byte timestamp and the value.
            const std::uint8_t pointer = r.u8();
            if (pointer == 0) {
              row.emplace_back();
              continue;
            }
            r.skip(pointer + 8u);
          }
          row.push_back(read_value(r, w));
        }
        msg.rows.push_back(std::move(row));
        break;
      }
      case k_token_done:
        done = true;
        break;
      default:
        throw ProtocolError(fmt::format("token 0x{:02X} in a bulk load", token));
    }
  }
  if (wire.empty()) throw ProtocolError("a bulk load without column metadata");
  return msg;
}

}  // namespace sandbox::tds
