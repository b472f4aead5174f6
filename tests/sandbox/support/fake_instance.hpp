#pragma once
// A hand-written sandbox::Instance for the TDS server's tests, so that they do not
// depend on the SQL engine. It understands a handful of batches (see kCommands in
// fake_instance.cpp) and records what it was asked.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace sandbox::testing {

inline constexpr const char* k_fake_user = "sa";
inline constexpr const char* k_fake_password = "Sandbox!Passw0rd";

// The all-types result set: its columns and its two rows (values; all NULLs but id).
std::vector<Column> all_types_columns();
std::vector<std::vector<Value>> all_types_rows();

// Delay between the three INFO messages of "EXEC slow".
inline constexpr std::chrono::milliseconds k_slow_step{700};

struct RecordedRpc {
  std::string procedure;
  std::vector<RpcParam> params;
};

class FakeInstance final : public Instance {
 public:
  InstanceInfo info() const override;
  LoginResult login(const std::string& user, const std::string& password, const std::string& database) override;

  // What the sessions were asked (thread-safe copies).
  std::vector<std::string> batches() const;
  std::vector<RecordedRpc> rpcs() const;
  int cancelled_statements() const { return m_cancelled.load(); }
  // sp_reset_connection calls, as keep_transaction flags.
  std::vector<bool> resets() const;

  // Called by sessions.
  void record_batch(const std::string& sql);
  void record_rpc(const std::string& proc, const std::vector<RpcParam>& params);
  void record_cancel() { ++m_cancelled; }
  void record_reset(bool keep_transaction);

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_batches;
  std::vector<RecordedRpc> m_rpcs;
  std::vector<bool> m_resets;
  std::atomic<int> m_cancelled{0};
};

}  // namespace sandbox::testing
