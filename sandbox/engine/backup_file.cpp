#include "engine/backup_file.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "aws/checksums.hpp"

namespace sandbox::engine {

std::string encode_stripe(const BackupHeader& h, const std::string& payload) {
  nlohmann::json j = {
      {"format", h.format}, {"database", h.database}, {"type", h.type}, {"server_major", h.server_major},
      {"product_version", h.product_version}, {"first_lsn", h.first_lsn}, {"last_lsn", h.last_lsn},
      {"checkpoint_lsn", h.checkpoint_lsn}, {"database_backup_lsn", h.database_backup_lsn},
      {"is_copy_only", h.is_copy_only}, {"compressed", h.compressed}, {"has_checksum", h.has_checksum},
      {"stripe", h.stripe}, {"stripes", h.stripes}, {"backup_set_uuid", h.backup_set_uuid},
      {"payload_size", h.payload_size}, {"stripe_size", payload.size()},
      {"stripe_crc32c", m2r::aws::crc32c(payload)}, {"payload_crc32c", h.payload_crc32c},
      {"start_date", h.start_date}, {"finish_date", h.finish_date}, {"recovery_model", h.recovery_model},
      {"lsn_state", h.lsn_state}};
  const std::string header = j.dump();
  std::string out(k_backup_magic, 8);
  const auto n = static_cast<std::uint32_t>(header.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  out += payload;
  return out;
}

bool decode_stripe(const std::string& file, BackupHeader& h, std::string& payload, std::string& error) {
  if (file.size() < 12 || std::memcmp(file.data(), k_backup_magic, 8) != 0) {
    error = "not a sandbox backup";
    return false;
  }
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(file[8 + static_cast<std::size_t>(i)])) << (8 * i);
  if (file.size() < 12 + static_cast<std::size_t>(n)) {
    error = "truncated header";
    return false;
  }
  try {
    auto j = nlohmann::json::parse(file.substr(12, n));
    h.format = j.at("format");
    if (h.format != 1) {
      error = "unsupported format version " + std::to_string(h.format);
      return false;
    }
    h.database = j.at("database");
    h.type = j.at("type");
    h.server_major = j.at("server_major");
    h.product_version = j.at("product_version");
    h.first_lsn = j.at("first_lsn");
    h.last_lsn = j.at("last_lsn");
    h.checkpoint_lsn = j.at("checkpoint_lsn");
    h.database_backup_lsn = j.at("database_backup_lsn");
    h.is_copy_only = j.at("is_copy_only");
    h.compressed = j.at("compressed");
    h.has_checksum = j.at("has_checksum");
    h.stripe = j.at("stripe");
    h.stripes = j.at("stripes");
    h.backup_set_uuid = j.at("backup_set_uuid");
    h.payload_size = j.at("payload_size");
    h.stripe_size = j.at("stripe_size");
    h.stripe_crc32c = j.at("stripe_crc32c");
    h.payload_crc32c = j.at("payload_crc32c");
    h.start_date = j.at("start_date");
    h.finish_date = j.at("finish_date");
    h.recovery_model = j.at("recovery_model");
    h.lsn_state = j.at("lsn_state");
  } catch (const std::exception& e) {
    error = std::string("damaged header: ") + e.what();
    return false;
  }
  payload = file.substr(12 + n);
  if (payload.size() != h.stripe_size || m2r::aws::crc32c(payload) != h.stripe_crc32c) {
    error = "checksum mismatch";
    return false;
  }
  return true;
}

}  // namespace sandbox::engine
