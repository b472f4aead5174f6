#pragma once
// A minimal TDS client for the server's unit tests: builds PRELOGIN, LOGIN7 and
// requests by hand (independently of sandbox/tds's parsers) and reads raw packets
// with their arrival times.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sandbox::testing {

std::vector<std::uint8_t> utf16le(const std::string& ascii);
std::vector<std::uint8_t> build_prelogin(std::uint8_t encryption);
// LOGIN7 with the password obfuscated as the spec describes (swap nibbles, XOR 0xA5).
std::vector<std::uint8_t> build_login7(const std::string& user, const std::string& password,
                                       const std::string& database, std::uint32_t tds_version = 0x74000004,
                                       std::uint32_t packet_size = 4096);
// SQL batch with ALL_HEADERS (the transaction descriptor given, one outstanding request).
std::vector<std::uint8_t> build_sql_batch(const std::string& sql, std::uint64_t transaction_descriptor = 0);
// Transaction manager request ([MS-TDS] 2.2.6.9): ALL_HEADERS, the request type, then `body`.
std::vector<std::uint8_t> build_tm_request(std::uint16_t type, const std::vector<std::uint8_t>& body,
                                           std::uint64_t transaction_descriptor = 0);

struct RawPacket {
  std::uint8_t type = 0;
  std::uint8_t status = 0;
  std::uint16_t length = 0;
  std::uint8_t packet_id = 0;
  std::vector<std::uint8_t> payload;
  std::chrono::steady_clock::time_point arrived;
};

class RawTdsClient {
 public:
  explicit RawTdsClient(int fd) : m_fd(fd) {}
  // first_status: status bits besides EOM on the first packet (RESETCONNECTION 0x08, ...).
  void send(std::uint8_t type, const std::vector<std::uint8_t>& payload, std::size_t packet_size = 4096,
            std::uint8_t first_status = 0);
  bool read_packet(RawPacket* p);  // false on EOF
  // Packets up to and including the next EOM.
  std::vector<RawPacket> read_message();
  static std::vector<std::uint8_t> join(const std::vector<RawPacket>& packets);

 private:
  int m_fd;
};

// Index of the first occurrence of `needle` in `hay`, or npos.
std::size_t find_bytes(const std::vector<std::uint8_t>& hay, const std::vector<std::uint8_t>& needle);

}  // namespace sandbox::testing
