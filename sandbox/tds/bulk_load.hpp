#pragma once
// The bulk load message (packet type 7, [MS-TDS] 2.2.6.1 "Bulk Load BCP"): after a batch's
// INSERT BULK, the client sends COLMETADATA describing the columns it sends, one ROW token
// per row, and DONE. This decodes it for Session::bulk_load_rows; the engine matches the
// columns to the INSERT BULK's and converts the values to the table's types.
#include <cstdint>
#include <vector>

#include "engine/api.hpp"

namespace sandbox::tds {

struct BulkLoadMessage {
  std::vector<Column> columns;  // as the client's COLMETADATA describes them (types as sent)
  std::vector<std::vector<Value>> rows;
};

// Throws ProtocolError for a malformed message or a type the sandbox does not decode
// (UDTs).
BulkLoadMessage parse_bulk_load(const std::vector<std::uint8_t>& payload, std::uint32_t tds_version);

}  // namespace sandbox::tds
