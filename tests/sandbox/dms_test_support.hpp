#pragma once
// Shared by the DMS and world integration tests: running a child process (the AWS CLI v2)
// with a given environment, and a DMS API server in-process on a free loopback port.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dms/dms_http_server.hpp"
#include "dms/dms_service.hpp"
#include "sys/process.hpp"

namespace m2r::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// An env value meaning "remove this variable".
inline constexpr const char* k_unset = "\x01unset";

// Runs argv[0] with the current environment plus `env` overrides (no shell).
inline ProcessResult run_process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  m2r::sys::SpawnOptions options;
  options.argv = args;
  options.env = m2r::sys::Environment::inherited();
  for (const auto& [k, v] : env) {
    if (v == k_unset) options.env->unset(k);
    else options.env->set(k, v);
  }
  options.out = m2r::sys::Stream::pipe();
  options.err = m2r::sys::Stream::pipe();
  ProcessResult result;
  auto ran = m2r::sys::run(options);
  if (!ran) {
    result.err = ran.error().message;
    return result;
  }
  result.exit_code = ran->status.shell_code();
  result.out = std::move(ran->out);
  result.err = std::move(ran->err);
  return result;
}

// A runner that goes running at once and stops when asked: the API tests need the state
// machine, not data movement (cdc_engine has its own tests).
class ImmediateRunner final : public sandbox::dms::CdcRunner {
 public:
  ImmediateRunner(const sandbox::dms::CdcTaskSpec& spec, sandbox::dms::TaskStatusSink& sink)
      : m_arn(spec.task_arn), m_sink(sink) {
    m_thread = std::thread([this] {
      m_sink.task_running(m_arn);
      sandbox::dms::TableStats s;
      s.schema_name = "dbo";
      s.table_name = "orders";
      s.last_update_time = sandbox::dms::epoch_seconds_now();
      m_sink.task_progress(m_arn, "checkpoint:V1#1#00000025:00000b8f:0004#-#0#*#0#0", {s});
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [this] { return m_stop; });
      lock.unlock();
      m_sink.task_stopped(m_arn);
    });
  }
  ~ImmediateRunner() override {
    request_stop();
    join();
  }
  void request_stop() override {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_cv.notify_all();
  }
  void join() override {
    if (m_thread.joinable()) m_thread.join();
  }

 private:
  std::string m_arn;
  sandbox::dms::TaskStatusSink& m_sink;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::thread m_thread;
};

struct InProcessDms {
  static constexpr const char* k_key = "AKIASANDBOXTESTKEY01";
  static constexpr const char* k_secret = "sandbox/test/secret+key/0123456789abcdefghij";
  std::unique_ptr<sandbox::dms::DmsService> service;
  std::unique_ptr<sandbox::dms::DmsHttpServer> server;

  // tester: what TestConnection runs; empty = every login accepted (the API tests need the state
  // machine; dms_connection_itest logs in to real servers with odbc_connection_tester).
  explicit InProcessDms(sandbox::dms::CdcRunnerFactory factory = nullptr, std::string state_path = {},
                        sandbox::dms::ConnectionTester tester = nullptr) {
    if (!factory)
      factory = [](const sandbox::dms::CdcTaskSpec& spec, sandbox::dms::TaskStatusSink& sink) {
        return std::make_unique<ImmediateRunner>(spec, sink);
      };
    if (!tester) tester = [](const sandbox::dms::EndpointSpec&) { return std::optional<std::string>{}; };
    service = std::make_unique<sandbox::dms::DmsService>(
        sandbox::dms::DmsServiceConfig{.state_path = std::move(state_path), .runner_factory = std::move(factory),
                                       .connection_tester = std::move(tester)});
    server = std::make_unique<sandbox::dms::DmsHttpServer>(
        *service, sandbox::dms::DmsServerConfig{.access_key_id = k_key, .secret_access_key = k_secret});
  }
  ~InProcessDms() {
    server->stop();
    service->stop_all();
  }
  std::string endpoint() const { return server->endpoint_url(); }
};

// Runs `/usr/bin/aws dms <args> --endpoint-url <url>` with the given keys; AWS CLI v2 only
// (the `aws` first on PATH is v1). Config files are ignored so the machine's settings
// cannot leak in.
inline ProcessResult aws_dms(const std::string& endpoint, const std::vector<std::string>& args,
                             const std::string& key = InProcessDms::k_key,
                             const std::string& secret = InProcessDms::k_secret) {
  std::vector<std::string> argv = {"/usr/bin/aws", "dms"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"});
  return run_process(argv, {{"AWS_ACCESS_KEY_ID", key},
                            {"AWS_SECRET_ACCESS_KEY", secret},
                            {"AWS_CONFIG_FILE", "/dev/null"},
                            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                            {"AWS_PAGER", ""},
                            {"AWS_MAX_ATTEMPTS", "1"},
                            {"AWS_EC2_METADATA_DISABLED", "true"}});
}

}  // namespace m2r::test
