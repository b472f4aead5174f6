#include "sandbox/support/tds_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sandbox::testing {
namespace {
void le(std::vector<std::uint8_t>& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xFF));
}
}  // namespace

std::vector<std::uint8_t> utf16le(const std::string& ascii) {
  std::vector<std::uint8_t> out;
  for (char c : ascii) {
    out.push_back(static_cast<std::uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

std::vector<std::uint8_t> build_prelogin(std::uint8_t encryption) {
  // VERSION (6 bytes), ENCRYPTION (1), INSTOPT ("\0"), THREADID (4), MARS (1), terminator.
  const std::uint8_t header = 5 * 5 + 1;
  std::vector<std::uint8_t> b = {0x00, 0, header, 0, 6,  0x01, 0, static_cast<std::uint8_t>(header + 6), 0, 1,
                                 0x02, 0, static_cast<std::uint8_t>(header + 7), 0, 1,
                                 0x03, 0, static_cast<std::uint8_t>(header + 8), 0, 4,
                                 0x04, 0, static_cast<std::uint8_t>(header + 12), 0, 1, 0xFF};
  const std::vector<std::uint8_t> data = {11, 0, 0, 0, 0, 0, encryption, 0, 1, 2, 3, 4, 0};
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<std::uint8_t> build_login7(const std::string& user, const std::string& password,
                                       const std::string& database, std::uint32_t tds_version,
                                       std::uint32_t packet_size) {
  std::vector<std::uint8_t> pw = utf16le(password);
  for (auto& c : pw) c = static_cast<std::uint8_t>((((c & 0x0F) << 4) | (c >> 4)) ^ 0xA5);
  const std::vector<std::vector<std::uint8_t>> strings = {
      utf16le("testhost"), utf16le(user), pw, utf16le("tds_test"), utf16le("127.0.0.1"),
      {}, utf16le("tds_client"), utf16le(""), utf16le(database)};
  std::vector<std::uint8_t> fixed;
  le(fixed, 0, 4);  // length, patched below
  le(fixed, tds_version, 4);
  le(fixed, packet_size, 4);
  le(fixed, 7, 4);     // client prog version
  le(fixed, 4242, 4);  // client pid
  le(fixed, 0, 4);     // connection id
  fixed.push_back(0xE0);  // OptionFlags1: USE_DB_ON | INIT_DB_FATAL | SET_LANG_ON
  fixed.push_back(0x03);  // OptionFlags2: INIT_LANG_FATAL | ODBC_ON
  fixed.push_back(0);     // TypeFlags
  fixed.push_back(0);     // OptionFlags3
  le(fixed, 0, 4);        // time zone
  le(fixed, 0x0409, 4);   // LCID
  std::size_t offset = 94;
  std::vector<std::uint8_t> var;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    le(fixed, offset, 2);
    le(fixed, strings[i].size() / 2, 2);
    var.insert(var.end(), strings[i].begin(), strings[i].end());
    offset += strings[i].size();
  }
  for (int i = 0; i < 6; ++i) fixed.push_back(0);  // ClientID
  for (int i = 0; i < 3; ++i) {  // SSPI, AtchDBFile, ChangePassword
    le(fixed, offset, 2);
    le(fixed, 0, 2);
  }
  le(fixed, 0, 4);  // cbSSPILong
  fixed.insert(fixed.end(), var.begin(), var.end());
  const auto total = fixed.size();
  for (int i = 0; i < 4; ++i) fixed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((total >> (8 * i)) & 0xFF);
  return fixed;
}

namespace {
void all_headers(std::vector<std::uint8_t>& b, std::uint64_t transaction_descriptor) {
  le(b, 22, 4);  // ALL_HEADERS total
  le(b, 18, 4);  // header length
  le(b, 2, 2);   // transaction descriptor
  le(b, transaction_descriptor, 8);
  le(b, 1, 4);   // outstanding requests
}
}  // namespace

std::vector<std::uint8_t> build_sql_batch(const std::string& sql, std::uint64_t transaction_descriptor) {
  std::vector<std::uint8_t> b;
  all_headers(b, transaction_descriptor);
  const auto text = utf16le(sql);
  b.insert(b.end(), text.begin(), text.end());
  return b;
}

std::vector<std::uint8_t> build_tm_request(std::uint16_t type, const std::vector<std::uint8_t>& body,
                                           std::uint64_t transaction_descriptor) {
  std::vector<std::uint8_t> b;
  all_headers(b, transaction_descriptor);
  le(b, type, 2);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

void RawTdsClient::send(std::uint8_t type, const std::vector<std::uint8_t>& payload, std::size_t packet_size,
                        std::uint8_t first_status) {
  std::size_t off = 0;
  std::uint8_t id = 1;
  do {
    const std::size_t n = std::min(packet_size - 8, payload.size() - off);
    const bool last = off + n == payload.size();
    const std::uint8_t status = static_cast<std::uint8_t>((last ? 1 : 0) | (off == 0 ? first_status : 0));
    std::vector<std::uint8_t> p = {type, status,
                                   static_cast<std::uint8_t>((n + 8) >> 8), static_cast<std::uint8_t>((n + 8) & 0xFF),
                                   0, 0, id++, 0};
    p.insert(p.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
             payload.begin() + static_cast<std::ptrdiff_t>(off + n));
    [[maybe_unused]] const auto sent = ::send(m_fd, p.data(), p.size(), MSG_NOSIGNAL);
    off += n;
  } while (off < payload.size());
}

bool RawTdsClient::read_packet(RawPacket* p) {
  auto read_exact = [&](std::uint8_t* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::recv(m_fd, buf + got, n - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  };
  std::uint8_t h[8];
  if (!read_exact(h, 8)) return false;
  p->arrived = std::chrono::steady_clock::now();
  p->type = h[0];
  p->status = h[1];
  p->length = static_cast<std::uint16_t>((h[2] << 8) | h[3]);
  p->packet_id = h[6];
  if (p->length < 8) return false;
  p->payload.resize(p->length - 8u);
  return read_exact(p->payload.data(), p->payload.size());
}

std::vector<RawPacket> RawTdsClient::read_message() {
  std::vector<RawPacket> out;
  RawPacket p;
  while (read_packet(&p)) {
    out.push_back(p);
    if (p.status & 1) break;
  }
  return out;
}

std::vector<std::uint8_t> RawTdsClient::join(const std::vector<RawPacket>& packets) {
  std::vector<std::uint8_t> out;
  for (const auto& p : packets) out.insert(out.end(), p.payload.begin(), p.payload.end());
  return out;
}

std::size_t find_bytes(const std::vector<std::uint8_t>& hay, const std::vector<std::uint8_t>& needle) {
  const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return it == hay.end() ? std::string::npos : static_cast<std::size_t>(it - hay.begin());
}

}  // namespace sandbox::testing
