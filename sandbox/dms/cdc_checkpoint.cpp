#include "dms/cdc_checkpoint.hpp"

#include <cctype>
#include <vector>

namespace sandbox::dms {

bool is_hex_lsn(const std::string& text) {
  if (text.size() != 22 || text[8] != ':' || text[17] != ':') return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (i != 8 && i != 17 && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  return true;
}

std::string format_checkpoint(const Checkpoint& cp) {
  return "checkpoint:V1#" + std::to_string(cp.sequence) + "#" + cp.read_from + "#" +
         (cp.last_commit.empty() ? std::string("-") : cp.last_commit) + "#0#*#0#0";
}

std::optional<Checkpoint> parse_checkpoint(const std::string& text) {
  const std::string prefix = "checkpoint:V1#";
  if (text.rfind(prefix, 0) != 0) return std::nullopt;
  std::vector<std::string> parts;
  std::string rest = text.substr(prefix.size());
  for (std::size_t pos = 0;;) {
    auto hash = rest.find('#', pos);
    parts.push_back(rest.substr(pos, hash == std::string::npos ? std::string::npos : hash - pos));
    if (hash == std::string::npos) break;
    pos = hash + 1;
  }
  if (parts.size() != 7 || parts[0].empty()) return std::nullopt;
  for (char c : parts[0])
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  Checkpoint cp;
  cp.sequence = std::stoull(parts[0]);
  cp.read_from = parts[1];
  cp.last_commit = parts[2] == "-" ? std::string{} : parts[2];
  if (!is_hex_lsn(cp.read_from) || (!cp.last_commit.empty() && !is_hex_lsn(cp.last_commit))) return std::nullopt;
  return cp;
}

}  // namespace sandbox::dms
