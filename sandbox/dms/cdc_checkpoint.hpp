#pragma once
// The RecoveryCheckpoint the sandbox's DMS returns, and takes back as CdcStartPosition.
// Clients treat it as opaque (docs/facts.md §4: "only reuse a RecoveryCheckpoint that DMS
// returned"); its fields are the two LSNs a resume needs when changes are applied in commit
// order: where to read the log from (the begin of the oldest transaction still open at the
// last applied commit) and that commit, so already-applied transactions are skipped.
//   checkpoint:V1#<seq>#<read-from LSN>#<last applied commit LSN>#0#*#0#0
#include <cstdint>
#include <optional>
#include <string>

namespace sandbox::dms {

struct Checkpoint {
  std::uint64_t sequence = 0;
  std::string read_from;     // hex LSN (docs/facts.md §1)
  std::string last_commit;   // hex LSN; empty = nothing applied yet
};

std::string format_checkpoint(const Checkpoint& cp);
std::optional<Checkpoint> parse_checkpoint(const std::string& text);

// True for the zero-padded hex form "00000025:00000b8f:0004" (any case).
bool is_hex_lsn(const std::string& text);

}  // namespace sandbox::dms
