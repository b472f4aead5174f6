#pragma once
// TDS packets ([MS-TDS] 2.2.3): an 8-byte header (type, status, big-endian length
// including the header, big-endian SPID, packet id, window) followed by part of a
// message. A message spans packets until one carries the EOM status bit.
#include <cstdint>
#include <vector>

namespace sandbox::tds {

enum class PacketType : std::uint8_t {
  sql_batch = 1,
  rpc = 3,
  tabular_result = 4,  // every server response
  attention = 6,
  bulk_load = 7,
  transaction_manager = 14,
  login7 = 16,
  sspi = 17,
  prelogin = 18,
};

inline constexpr std::uint8_t k_status_eom = 0x01;
inline constexpr std::uint8_t k_status_ignore = 0x02;
// [MS-TDS] 2.2.3.1.2: reset the session (sp_reset_connection) before running the request;
// SKIPTRAN keeps its open transaction.
inline constexpr std::uint8_t k_status_reset_connection = 0x08;
inline constexpr std::uint8_t k_status_reset_connection_skip_tran = 0x10;
inline constexpr std::size_t k_header_size = 8;
// [MS-TDS] 2.2.6.4: the LOGIN7 PacketSize range the server accepts; 4096 is the
// size used until the login completes.
inline constexpr std::uint32_t k_default_packet_size = 4096;
inline constexpr std::uint32_t k_min_packet_size = 512;
inline constexpr std::uint32_t k_max_packet_size = 32767;

struct PacketHeader {
  PacketType type = PacketType::tabular_result;
  std::uint8_t status = 0;
  std::uint16_t length = 0;  // including the header
  std::uint16_t spid = 0;
  std::uint8_t packet_id = 0;
  std::uint8_t window = 0;
};

PacketHeader parse_header(const std::uint8_t* p);  // throws ProtocolError on a bad length
void write_header(const PacketHeader& h, std::uint8_t* p);

// Splits a message into packets of at most packet_size bytes (header included).
// The last packet carries EOM when end_of_message; packet ids continue from
// *next_packet_id (wrapping at 256), so a message sent in several flushes keeps
// counting.
std::vector<std::uint8_t> frame_packets(PacketType type, const std::vector<std::uint8_t>& payload,
                                        std::uint32_t packet_size, std::uint16_t spid,
                                        bool end_of_message, std::uint8_t* next_packet_id);

}  // namespace sandbox::tds
