#include "tds/packet.hpp"

#include <algorithm>

#include "tds/wire.hpp"

namespace sandbox::tds {

PacketHeader parse_header(const std::uint8_t* p) {
  PacketHeader h;
  h.type = static_cast<PacketType>(p[0]);
  h.status = p[1];
  h.length = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
  h.spid = static_cast<std::uint16_t>((p[4] << 8) | p[5]);
  h.packet_id = p[6];
  h.window = p[7];
  if (h.length < k_header_size) throw ProtocolError("packet length smaller than its header");
  return h;
}

void write_header(const PacketHeader& h, std::uint8_t* p) {
  p[0] = static_cast<std::uint8_t>(h.type);
  p[1] = h.status;
  p[2] = static_cast<std::uint8_t>(h.length >> 8);
  p[3] = static_cast<std::uint8_t>(h.length & 0xFF);
  p[4] = static_cast<std::uint8_t>(h.spid >> 8);
  p[5] = static_cast<std::uint8_t>(h.spid & 0xFF);
  p[6] = h.packet_id;
  p[7] = h.window;
}

std::vector<std::uint8_t> frame_packets(PacketType type, const std::vector<std::uint8_t>& payload,
                                        std::uint32_t packet_size, std::uint16_t spid,
                                        bool end_of_message, std::uint8_t* next_packet_id) {
  const std::size_t room = packet_size - k_header_size;
  std::vector<std::uint8_t> out;
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(room, payload.size() - offset);
    const bool last = offset + n == payload.size();
    PacketHeader h;
    h.type = type;
    h.status = (last && end_of_message) ? k_status_eom : 0;
    h.length = static_cast<std::uint16_t>(n + k_header_size);
    h.spid = spid;
    h.packet_id = (*next_packet_id)++;
    std::uint8_t header[k_header_size];
    write_header(h, header);
    out.insert(out.end(), header, header + k_header_size);
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(offset),
               payload.begin() + static_cast<std::ptrdiff_t>(offset + n));
    offset += n;
  } while (offset < payload.size());
  return out;
}

}  // namespace sandbox::tds
