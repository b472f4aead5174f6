#include "world/world.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "aws/aws_client.hpp"
#include "sys/moto_locator.hpp"
#include "aws/cloudwatch_client.hpp"
#include "dms/cdc_engine.hpp"
#include "dms/dms_http_server.hpp"
#include "engine/edition.hpp"
#include "dms/dms_service.hpp"
#include "sys/process.hpp"
#include "world/certificates.hpp"

namespace sandbox::world {

namespace fs = std::filesystem;
using nlohmann::json;
using m2r::ErrorKind;
using m2r::Expected;
using m2r::fail;

namespace {

constexpr const char* k_region = "us-east-1";
constexpr const char* k_account = "123456789012";
constexpr const char* k_profile = "rehearsal";
constexpr const char* k_bucket = "mssql2rds-rehearsal";
constexpr const char* k_role = "rds-sqlserver-backup-restore";
constexpr const char* k_option_group = "sqlserver-se-15-backup-restore";
constexpr const char* k_rds_instance = "rehearsal-target";
constexpr const char* k_replication_instance = "rehearsal-ri";
constexpr const char* k_iam_user = "mssql2rds-rehearsal";
constexpr const char* k_parameter_group = "sqlserver-se-15-force-ssl";

std::string random_text(std::size_t n) {
  static const char* k_chars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += k_chars[rd() % 57];
  return s;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& text, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  chmod(path.c_str(), mode);
}

std::string tail(const std::string& text, std::size_t n = 1500) {
  return text.size() > n ? text.substr(text.size() - n) : text;
}

// Starts a child in its own session (so its process group can be killed as one), stdin
// from /dev/null, stdout and stderr to `log`, this environment with `env` set. It outlives
// this process (`world down` is another): the pid goes into pids.json.
Expected<pid_t> spawn_daemon(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                             const fs::path& log) {
  m2r::sys::SpawnOptions options;
  options.argv = args;
  options.env = m2r::sys::Environment::inherited();
  for (const auto& [k, v] : env) options.env->set(k, v);
  options.out = m2r::sys::Stream::file(log.string());
  options.err = m2r::sys::Stream::same_as_stdout();
  options.group = m2r::sys::Group::own_session;
  auto child = M2R_TRY(m2r::sys::Process::spawn(options));
  return child.release();
}

bool alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  // A zombie has exited; only its parent's wait is missing.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= line.size() || line[close_paren + 2] != 'Z';
}

void reap(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, WNOHANG);
}

// Waits until the log matches `pattern` (returns the matches) or the process dies.
Expected<std::vector<std::smatch>> wait_for_log(const fs::path& log, const std::regex& pattern, std::size_t count,
                                                pid_t pid, int timeout_seconds, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  static std::string text;  // keeps the smatch iterators valid for the caller
  for (;;) {
    text = read_file(log);
    std::vector<std::smatch> found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it)
      found.push_back(*it);
    if (found.size() >= count) return found;
    reap(pid);
    if (!alive(pid))
      return fail(ErrorKind::prerequisite, what + " exited during start-up: " + tail(text), "see " + log.string());
    if (std::chrono::steady_clock::now() > deadline)
      return fail(ErrorKind::timeout, what + " was not ready within " + std::to_string(timeout_seconds) + " s",
                  "see " + log.string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string xml_value(const std::string& xml, const std::string& tag) {
  auto a = xml.find("<" + tag + ">");
  if (a == std::string::npos) return {};
  a += tag.size() + 2;
  auto b = xml.find("</" + tag + ">", a);
  return b == std::string::npos ? std::string{} : xml.substr(a, b - a);
}

Expected<std::string> query(m2r::aws::AwsClient& client, const std::string& action, const m2r::aws::QueryParams& params) {
  auto r = client.call_query(action, params, m2r::aws::Idempotent::no);
  if (!r) return fail(r.error().kind, "seeding moto: " + action + " failed: " + r.error().message, r.error().hint);
  return r->body;
}

std::map<std::string, std::string> read_credentials(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::ifstream in(dir / "aws" / "credentials");
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

// moto computes CRC32C only with its optional crc32c module; without it, it reports a CRC32
// under that name (moto/s3/utils.py compute_checksum), and every upload verified by CRC32C
// (the default, [upload] verify_object = "checksum") would fail against it. So the world asks
// moto for the CRC32C of the check value's input, "123456789" (CRC-32C's check value is
// 0xE3069283, base64 4waSgw==; a CRC32 would be 0xCBF43926), and refuses to start when it is wrong.
Expected<void> check_moto_crc32c(m2r::aws::AwsClient& s3) {
  m2r::aws::AwsRequest put;
  put.operation = "PutObject";
  put.method = "PUT";
  put.path = std::string("/") + k_bucket + "/world/crc32c-check";
  put.body = "123456789";
  put.headers.emplace_back("Content-Type", "application/octet-stream");  // moto reads a form body as a form
  put.headers.emplace_back("x-amz-sdk-checksum-algorithm", "CRC32C");
  auto r = s3.send(put);
  if (!r) return fail(r.error().kind, "seeding moto: PutObject failed: " + r.error().message, r.error().hint);
  const std::string reported = r->header("x-amz-checksum-crc32c").value_or("(none)");
  m2r::aws::AwsRequest del;
  del.operation = "DeleteObject";
  del.method = "DELETE";
  del.path = put.path;
  if (auto d = s3.send(del); !d) return fail(d.error().kind, "seeding moto: DeleteObject failed: " + d.error().message);
  if (reported != "4waSgw==")
    return fail(ErrorKind::prerequisite,
                "moto reports the CRC32C of \"123456789\" as " + reported +
                    ", not 4waSgw== (moto without its optional crc32c module reports a CRC32 under that name), "
                    "so uploads verified by CRC32C would fail against it",
                m2r::k_crc32c_fix);
  return {};
}

// DIR/tls/: ca.pem (the bundle clients name), ca.key, and <instance>.pem / .key.
Expected<json> write_world_certificates(const fs::path& tls_dir, const std::string& rds_endpoint) {
  fs::create_directories(tls_dir);
  chmod(tls_dir.c_str(), 0700);
  const auto ca = M2R_TRY(create_certificate_authority("mssql2rds rehearsal world CA", Validity::from_now(365)));
  write_file(tls_dir / "ca.pem", ca.certificate);
  write_file(tls_dir / "ca.key", ca.private_key, 0600);
  json out = {{"ca_file", (tls_dir / "ca.pem").string()}, {"rds_endpoint", rds_endpoint}};
  std::vector<std::string> rds_names = {"127.0.0.1"};
  if (!rds_endpoint.empty()) rds_names.insert(rds_names.begin(), rds_endpoint);
  for (const auto& [name, names] : {std::pair<std::string, std::vector<std::string>>{"source", {"localhost", "127.0.0.1"}},
                                    {"rds", rds_names}}) {
    const auto cert = M2R_TRY(issue_server_certificate(ca, names, Validity::from_now(365)));
    write_file(tls_dir / (name + ".pem"), cert.certificate);
    write_file(tls_dir / (name + ".key"), cert.private_key, 0600);
    out[name + "_names"] = names;
  }
  return out;
}

void kill_groups(const json& pids) {
  for (const auto& [name, pid] : pids.items()) kill(-pid.get<pid_t>(), SIGTERM);
}

}  // namespace

Expected<void> validate_world_options(const WorldOptions& options) {
  if (!options.source_edition.empty() && !edition_from_name(options.source_edition)) {
    return fail(ErrorKind::invalid_input, "unknown source edition '" + options.source_edition + "'",
                "use --source-edition express, web, standard, enterprise or developer");
  }
  const std::string& v = options.source_version;
  if (!v.empty() && v != "2016" && v != "2017" && v != "2019" && v != "2022") {
    return fail(ErrorKind::invalid_input, "unknown source version '" + v + "'",
                "use --source-version 2016, 2017, 2019 or 2022 (the versions RDS for SQL Server restores)");
  }
  if (!options.source_agent.empty() && options.source_agent != "running" && options.source_agent != "stopped") {
    return fail(ErrorKind::invalid_input, "unknown SQL Server Agent state '" + options.source_agent + "'",
                "use --source-agent running or --source-agent stopped");
  }
  if (edition_from_name(options.source_edition) == Edition::express && options.source_agent == "running") {
    return fail(ErrorKind::invalid_input, "an Express source cannot have SQL Server Agent running: Express has no Agent",
                "leave --source-agent out for an Express source, or choose another --source-edition");
  }
  return {};
}

Expected<json> world_up(const WorldOptions& options) {
  if (options.dir.empty()) return fail(ErrorKind::invalid_input, "world up needs --dir");
  M2R_TRY(validate_world_options(options));  // before anything is started or created
  const fs::path dir = fs::absolute(options.dir);
  if (fs::exists(dir / "world.json") && fs::exists(dir / "pids.json")) {
    json pids = json::parse(read_file(dir / "pids.json"), nullptr, false);
    for (const auto& [name, pid] : pids.items())
      if (pid.is_number() && alive(pid.get<pid_t>()))
        return fail(ErrorKind::conflict, "a world is already running in " + dir.string(),
                    "run `mssql2rds-sandbox world down --dir " + dir.string() + "` first");
  }
  const std::vector<std::string> moto_command =
      options.moto_command.empty() ? M2R_TRY(m2r::locate_moto()).argv : options.moto_command;
  const std::string self = options.sandbox_exe.empty() ? fs::read_symlink("/proc/self/exe").string() : options.sandbox_exe;
  if (options.pace != "fast" && options.pace != "demo")
    return fail(ErrorKind::invalid_input, "unknown pace '" + options.pace + "'", "use --pace fast or --pace demo");
  for (const char* sub : {"logs", "aws", "secrets", "source", "rds"}) fs::create_directories(dir / sub);
  chmod((dir / "secrets").c_str(), 0700);
  chmod((dir / "aws").c_str(), 0700);

  json world = {{"dir", dir.string()}, {"region", k_region}, {"account_id", k_account}, {"pace", options.pace},
                {"database", options.database}};
  json pids = json::object();
  auto save_pids = [&] { write_file(dir / "pids.json", pids.dump(2)); };
  auto abort_up = [&](m2r::Error error) -> Expected<json> {
    kill_groups(pids);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (const auto& [name, pid] : pids.items()) {
      kill(-pid.get<pid_t>(), SIGKILL);
      waitpid(pid.get<pid_t>(), nullptr, 0);
    }
    fs::remove(dir / "pids.json");
    return tl::unexpected(std::move(error));
  };

  // 1. moto, with IAM authentication switched on after three seeding calls (docs/facts.md, recipe),
  // and Debian's crc32c module so that the CRC32C it computes is real (sys/moto_locator.hpp).
  const int moto_port = free_port();
  const char* pythonpath_now = std::getenv("PYTHONPATH");
  const auto pythonpath =
      M2R_TRY(m2r::prepare_moto_pythonpath((dir / "moto-python").string(), pythonpath_now ? pythonpath_now : ""));
  std::vector<std::string> moto_argv = moto_command;
  for (std::string a : {"-H", "127.0.0.1", "-p"}) moto_argv.push_back(a);
  moto_argv.push_back(std::to_string(moto_port));
  auto moto = spawn_daemon(moto_argv, {{"INITIAL_NO_AUTH_ACTION_COUNT", "3"}, {"PYTHONPATH", pythonpath.pythonpath}},
                           dir / "logs" / "moto.log");
  if (!moto) return abort_up(moto.error());
  pids["moto"] = *moto;
  save_pids();
  const std::string moto_url = "http://127.0.0.1:" + std::to_string(moto_port);
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.ready_timeout_seconds);
       !port_open(moto_port);) {
    reap(*moto);
    if (!alive(*moto) || std::chrono::steady_clock::now() > deadline)
      return abort_up(m2r::Error(ErrorKind::prerequisite, "moto did not start: " + tail(read_file(dir / "logs" / "moto.log")),
                                 "see " + (dir / "logs" / "moto.log").string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  world["moto"] = {{"port", moto_port}, {"endpoint", moto_url}, {"command", moto_command},
                   {"crc32c_module", pythonpath.crc32c_module}};

  m2r::aws::RetryOptions no_retry;
  no_retry.max_attempts = 1;
  auto seed_ctx = m2r::aws::AwsContext::for_endpoint({"AKIDSEEDING", "seeding-only", {}, {}, "seed"}, k_region,
                                                     moto_url, nullptr, nullptr, no_retry);
  m2r::aws::AwsClient seed_iam(seed_ctx, m2r::aws::Service::iam);
  const std::string allow_all = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  auto user = query(seed_iam, "CreateUser", {{"UserName", k_iam_user}});
  if (!user) return abort_up(user.error());
  if (auto r = query(seed_iam, "PutUserPolicy", {{"UserName", k_iam_user}, {"PolicyName", "allow-all"}, {"PolicyDocument", allow_all}}); !r)
    return abort_up(r.error());
  auto key = query(seed_iam, "CreateAccessKey", {{"UserName", k_iam_user}});
  if (!key) return abort_up(key.error());
  const std::string key_id = xml_value(*key, "AccessKeyId"), secret = xml_value(*key, "SecretAccessKey");
  if (key_id.empty() || secret.empty()) return abort_up(m2r::Error(ErrorKind::fatal, "moto gave no access key: " + key->substr(0, 300)));
  write_file(dir / "aws" / "credentials",
             std::string("[") + k_profile + "]\naws_access_key_id = " + key_id + "\naws_secret_access_key = " + secret + "\n", 0600);
  write_file(dir / "aws" / "config", std::string("[profile ") + k_profile + "]\nregion = " + k_region + "\noutput = json\n", 0600);
  world["iam_user_arn"] = xml_value(*user, "Arn");

  // 2. From here on every call is signed with that key.
  auto ctx = m2r::aws::AwsContext::for_endpoint({key_id, secret, {}, {}, "world"}, k_region, moto_url, nullptr, nullptr, no_retry);
  m2r::aws::AwsClient iam(ctx, m2r::aws::Service::iam), rds(ctx, m2r::aws::Service::rds), s3(ctx, m2r::aws::Service::s3);
  m2r::aws::AwsRequest bucket;
  bucket.operation = "CreateBucket";
  bucket.method = "PUT";
  bucket.path = std::string("/") + k_bucket;
  if (auto r = s3.send(bucket); !r) return abort_up(m2r::Error(r.error().kind, "seeding moto: CreateBucket failed: " + r.error().message));
  world["bucket"] = k_bucket;
  if (auto crc = check_moto_crc32c(s3); !crc) return abort_up(crc.error());

  // docs/facts.md §5: the role trusts rds.amazonaws.com and may read the bucket.
  const std::string trust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  const std::string bucket_policy = std::string(R"({"Version":"2012-10-17","Statement":[)") +
      R"({"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::)" + k_bucket + R"("},)" +
      R"({"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectAttributes","s3:PutObject","s3:ListMultipartUploadParts","s3:AbortMultipartUpload"],"Resource":"arn:aws:s3:::)" +
      k_bucket + R"(/*"}]})";
  auto role = query(iam, "CreateRole", {{"RoleName", k_role}, {"AssumeRolePolicyDocument", trust}});
  if (!role) return abort_up(role.error());
  const std::string role_arn = xml_value(*role, "Arn");
  if (auto r = query(iam, "PutRolePolicy", {{"RoleName", k_role}, {"PolicyName", "backup-restore-bucket"}, {"PolicyDocument", bucket_policy}}); !r)
    return abort_up(r.error());
  world["role_arn"] = role_arn;

  if (auto r = query(rds, "CreateOptionGroup", {{"OptionGroupName", k_option_group}, {"EngineName", "sqlserver-se"},
                                                {"MajorEngineVersion", "15.00"},
                                                {"OptionGroupDescription", "native backup and restore"}});
      !r)
    return abort_up(r.error());
  if (auto r = query(rds, "ModifyOptionGroup",
                     {{"OptionGroupName", k_option_group},
                      {"OptionsToInclude.OptionConfiguration.1.OptionName", "SQLSERVER_BACKUP_RESTORE"},
                      {"OptionsToInclude.OptionConfiguration.1.OptionSettings.OptionSetting.1.Name", "IAM_ROLE_ARN"},
                      {"OptionsToInclude.OptionConfiguration.1.OptionSettings.OptionSetting.1.Value", role_arn},
                      {"ApplyImmediately", "true"}});
      !r)
    return abort_up(r.error());
  world["option_group"] = k_option_group;

  const std::string sa_password = "Sa-" + random_text(20) + "-1a";
  write_file(dir / "secrets" / "sa_password", sa_password, 0600);
  // RDS requires TLS when the instance's DB parameter group sets rds.force_ssl = 1 (RDS user
  // guide, "Using SSL with a Microsoft SQL Server DB instance"); the sandbox's RDS instance
  // is served with force_ssl=1 to match the group.
  if (auto r = query(rds, "CreateDBParameterGroup", {{"DBParameterGroupName", k_parameter_group},
                                                     {"DBParameterGroupFamily", "sqlserver-se-15.0"},
                                                     {"Description", "rds.force_ssl = 1"}});
      !r)
    return abort_up(r.error());
  if (auto r = query(rds, "ModifyDBParameterGroup", {{"DBParameterGroupName", k_parameter_group},
                                                     {"Parameters.Parameter.1.ParameterName", "rds.force_ssl"},
                                                     {"Parameters.Parameter.1.ParameterValue", "1"},
                                                     {"Parameters.Parameter.1.ApplyMethod", "pending-reboot"}});
      !r)
    return abort_up(r.error());
  auto instance = query(rds, "CreateDBInstance", {{"DBInstanceIdentifier", k_rds_instance}, {"DBInstanceClass", "db.m5.large"},
                                                  {"Engine", "sqlserver-se"}, {"EngineVersion", "15.00.4355.3.v1"},
                                                  {"AllocatedStorage", "100"}, {"MasterUsername", "admin"},
                                                  {"MasterUserPassword", sa_password}, {"OptionGroupName", k_option_group},
                                                  {"DBParameterGroupName", k_parameter_group},
                                                  {"LicenseModel", "license-included"}});
  if (!instance) return abort_up(instance.error());
  world["rds_instance"] = k_rds_instance;
  world["rds_parameter_group"] = k_parameter_group;
  const std::string rds_endpoint = xml_value(xml_value(*instance, "Endpoint"), "Address");

  // The world's CA (DIR/tls/ca.pem, the world's global-bundle.pem) and a certificate per
  // instance naming the host names clients use: the source as localhost / 127.0.0.1, the RDS
  // instance as its endpoint and 127.0.0.1, where host_override points (FreeTDS 1.3 checks
  // the certificate against the host it connects to).
  auto tls = write_world_certificates(dir / "tls", rds_endpoint);
  if (!tls) return abort_up(tls.error());
  world["tls"] = *tls;

  // 3. The SQL Server instances: the on-premises source and the RDS target.
  const bool demo = options.pace == "demo";
  const std::string tls_dir = (dir / "tls").string();
  const std::string source_spec = "name=source,port=0,kind=sqlserver,version=" +
                                  (options.source_version.empty() ? std::string("2019") : options.source_version) +
                                  (options.source_edition.empty() ? "" : ",edition=" + options.source_edition) +
                                  (options.source_agent.empty() ? "" : ",agent=" + options.source_agent) +
                                  ",data=" + (dir / "source").string() +
                                  (demo ? ",backup_throughput=20000000" : "") + ",tls_cert=" + tls_dir +
                                  "/source.pem,tls_key=" + tls_dir + "/source.key";
  const std::string rds_spec = "name=rds,port=0,kind=rds,version=2019,data=" + (dir / "rds").string() +
                               ",task_pace=" + (demo ? "1" : "0") + ",s3_endpoint=" + moto_url + ",region=" + k_region +
                               ",role_arn=" + role_arn + ",tls_cert=" + tls_dir + "/rds.pem,tls_key=" + tls_dir +
                               "/rds.key,force_ssl=1,master_user=admin";  // CreateDBInstance's MasterUsername
  // Each instance is its own process: one that crashes (or whose server stops) cannot take the
  // other down with it, and `world status` names the one that is gone.
  std::map<std::string, int> ports;
  for (const auto& [name, spec] : {std::pair<std::string, std::string>{"source", source_spec}, {"rds", rds_spec}}) {
    const fs::path log = dir / "logs" / (name + ".log");
    auto serve = spawn_daemon({self, "serve", "--instance", spec},
                              {{"MSSQL2RDS_SANDBOX_SA_PASSWORD", sa_password}, {"AWS_ACCESS_KEY_ID", key_id},
                               {"AWS_SECRET_ACCESS_KEY", secret}},
                              log);
    if (!serve) return abort_up(serve.error());
    pids[name] = *serve;
    save_pids();
    auto ready = wait_for_log(log, std::regex("ready name=(\\w+) port=(\\d+)"), 1, *serve, options.ready_timeout_seconds,
                              "mssql2rds-sandbox serve (" + name + ")");
    if (!ready) return abort_up(ready.error());
    ports[name] = std::stoi((*ready)[0][2].str());
  }
  world["source"] = {{"host", "127.0.0.1"}, {"port", ports["source"]}, {"login", "sa"}, {"password_file", (dir / "secrets" / "sa_password").string()},
                     {"ca_file", tls_dir + "/ca.pem"}};
  world["target"] = {{"host", "127.0.0.1"}, {"port", ports["rds"]}, {"login", "sa"}, {"password_file", (dir / "secrets" / "sa_password").string()},
                     {"ca_file", tls_dir + "/ca.pem"}, {"force_ssl", true}, {"endpoint", rds_endpoint},
                     {"master_user", "admin"}};  // not sysadmin; its password is sa's

  // 3b. The migration's own login, as a DBA prepares it (docs/facts.md §3: a non-sysadmin DMS
  // user needs VIEW SERVER STATE, users in master and msdb, SELECT on fn_dblog and on msdb's
  // backupset, backupmediafamily and backupfile; db_owner on the database comes when it exists).
  std::string source_login = "sa", source_password = sa_password;
  if (!options.migration_login.empty()) {
    source_login = options.migration_login;
    source_password = random_text(24) + "-7qQ";  // three character classes, as CHECK_POLICY wants
    write_file(dir / "secrets" / "migration_password", source_password + "\n", 0600);
    dms::EndpointSpec as_sa{.server_name = "127.0.0.1", .port = ports["source"], .database_name = "master",
                            .username = "sa", .password = sa_password};
    auto dba = dms::odbc_session_opener()(as_sa);
    if (!dba) return abort_up(m2r::Error(dba.error().kind, "creating the migration login: " + dba.error().message));
    const std::string l = "[" + source_login + "]";
    // The statement carries the password: the session keeps it out of its log and its errors.
    if (auto r = (*dba)->execute("CREATE LOGIN " + l + " WITH PASSWORD = N'" + source_password + "', CHECK_POLICY = ON", {},
                                 {.carries_secret = true});
        !r)
      return abort_up(m2r::Error(r.error().kind, "creating the migration login: " + r.error().message));
    const std::string grants = "USE master; GRANT VIEW SERVER STATE TO " + l + "; CREATE USER " + l + " FOR LOGIN " + l +
                               "; GRANT SELECT ON sys.fn_dblog TO " + l + "; USE msdb; CREATE USER " + l + " FOR LOGIN " + l +
                               "; GRANT SELECT ON dbo.backupset TO " + l + "; GRANT SELECT ON dbo.backupmediafamily TO " + l +
                               "; GRANT SELECT ON dbo.backupfile TO " + l + "; USE master;";
    if (auto r = (*dba)->execute(grants); !r)
      return abort_up(m2r::Error(r.error().kind, "granting the migration login: " + r.error().message));
    world["source"]["migration_login"] = source_login;
    world["source"]["migration_password_file"] = (dir / "secrets" / "migration_password").string();
  }

  // 4. The DMS API, then its replication instance and endpoints.
  write_file(dir / "world.json", world.dump(2));
  auto dms = spawn_daemon({self, "world", "dms-serve", "--dir", dir.string()}, {}, dir / "logs" / "dms.log");
  if (!dms) return abort_up(dms.error());
  pids["dms"] = *dms;
  save_pids();
  auto dms_ready = wait_for_log(dir / "logs" / "dms.log", std::regex("ready port=(\\d+)"), 1, *dms,
                                options.ready_timeout_seconds, "the DMS API");
  if (!dms_ready) return abort_up(dms_ready.error());
  const int dms_port = std::stoi((*dms_ready)[0][1].str());
  const std::string dms_url = "http://127.0.0.1:" + std::to_string(dms_port);
  world["dms"] = {{"port", dms_port}, {"endpoint", dms_url}};

  auto dms_ctx = m2r::aws::AwsContext::for_endpoint({key_id, secret, {}, {}, "world"}, k_region, dms_url, nullptr, nullptr, no_retry);
  m2r::aws::AwsClient dms_client(dms_ctx, m2r::aws::Service::dms);
  auto ri = dms_client.call_json("CreateReplicationInstance",
                                 {{"ReplicationInstanceIdentifier", k_replication_instance},
                                  {"ReplicationInstanceClass", "dms.t3.medium"}, {"AllocatedStorage", 50}},
                                 m2r::aws::Idempotent::no);
  if (!ri) return abort_up(m2r::Error(ri.error().kind, "seeding DMS: " + ri.error().message));
  world["replication_instance_arn"] = (*ri)["ReplicationInstance"]["ReplicationInstanceArn"];
  for (const auto& [id, type, port] : {std::tuple{"rehearsal-source", "source", ports["source"]},
                                       std::tuple{"rehearsal-target", "target", ports["rds"]}}) {
    const bool source = std::string(type) == "source";
    auto ep = dms_client.call_json("CreateEndpoint",
                                   {{"EndpointIdentifier", id}, {"EndpointType", type}, {"EngineName", "sqlserver"},
                                    {"ServerName", "127.0.0.1"}, {"Port", port}, {"DatabaseName", options.database},
                                    // DMS writes to RDS as its master user: RDS has no sa to give it.
                                    {"Username", source ? source_login : "admin"},
                                    {"Password", source ? source_password : sa_password}},
                                   m2r::aws::Idempotent::no);
    if (!ep) return abort_up(m2r::Error(ep.error().kind, "seeding DMS: " + ep.error().message));
    world[std::string(type) + "_endpoint_arn"] = (*ep)["Endpoint"]["EndpointArn"];
  }

  // 5. What clients use.
  std::string env = "# mssql2rds rehearsal world in " + dir.string() + " (source this file)\n";
  env += "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n";
  env += "export AWS_SHARED_CREDENTIALS_FILE=" + (dir / "aws" / "credentials").string() + "\n";
  env += "export AWS_CONFIG_FILE=" + (dir / "aws" / "config").string() + "\n";
  env += std::string("export AWS_PROFILE=") + k_profile + "\n";
  env += std::string("export AWS_REGION=") + k_region + "\nexport AWS_DEFAULT_REGION=" + k_region + "\n";
  for (const char* service : {"S3", "RDS", "IAM", "STS", "CLOUDWATCH"})
    env += std::string("export AWS_ENDPOINT_URL_") + service + "=" + moto_url + "\n";
  env += "export AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE=" + dms_url + "\n";
  env += "export MSSQL2RDS_WORLD=" + dir.string() + "\n";
  // AWS CLI 2.9 (this machine's) ignores AWS_ENDPOINT_URL_<SERVICE>: scripts pass these to --endpoint-url.
  env += "export MSSQL2RDS_WORLD_MOTO_URL=" + moto_url + "\n";
  env += "export MSSQL2RDS_WORLD_DMS_URL=" + dms_url + "\n";
  write_file(dir / "env", env);
  world["env_file"] = (dir / "env").string();
  world["pids"] = pids;
  write_file(dir / "world.json", world.dump(2));
  return world;
}

Expected<void> world_down(const std::string& dir_text) {
  const fs::path dir = fs::absolute(dir_text);
  if (!fs::exists(dir / "pids.json")) return {};
  json pids = json::parse(read_file(dir / "pids.json"), nullptr, false);
  if (!pids.is_object()) return fail(ErrorKind::fatal, "cannot read " + (dir / "pids.json").string());
  kill_groups(pids);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto any_left = [&] {
    for (const auto& [name, pid] : pids.items()) {
      reap(pid.get<pid_t>());
      // The whole group: kill(-pgid, 0) succeeds while any member lives.
      if (alive(pid.get<pid_t>()) || kill(-pid.get<pid_t>(), 0) == 0) return true;
    }
    return false;
  };
  while (any_left() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (any_left()) {
    for (const auto& [name, pid] : pids.items()) kill(-pid.get<pid_t>(), SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::string left;
  for (const auto& [name, pid] : pids.items()) {
    reap(pid.get<pid_t>());
    if (alive(pid.get<pid_t>())) left += " " + name + "(" + std::to_string(pid.get<pid_t>()) + ")";
  }
  if (!left.empty()) return fail(ErrorKind::fatal, "processes still running after world down:" + left);
  fs::remove(dir / "pids.json");
  return {};
}

Expected<json> world_status(const std::string& dir_text) {
  const fs::path dir = fs::absolute(dir_text);
  if (!fs::exists(dir / "pids.json") || !fs::exists(dir / "world.json"))
    return fail(ErrorKind::not_found, "no world running in " + dir.string(),
                "run `mssql2rds-sandbox world up --dir " + dir.string() + "`");
  const json pids = json::parse(read_file(dir / "pids.json"), nullptr, false);
  const json world = json::parse(read_file(dir / "world.json"), nullptr, false);
  if (!pids.is_object() || !world.is_object()) return fail(ErrorKind::fatal, "cannot read the world's files in " + dir.string());
  // Each component: its process, the port it serves and its log.
  const std::map<std::string, std::pair<json, std::string>> served = {
      {"moto", {world.value("moto", json::object()).value("port", json()), "moto.log"}},
      {"source", {world.value("source", json::object()).value("port", json()), "source.log"}},
      {"rds", {world.value("target", json::object()).value("port", json()), "rds.log"}},
      {"dms", {world.value("dms", json::object()).value("port", json()), "dms.log"}}};
  json report = {{"dir", dir.string()}, {"healthy", true}, {"components", json::array()}};
  for (const auto& [name, pid_value] : pids.items()) {
    if (!pid_value.is_number()) continue;
    const pid_t pid = pid_value.get<pid_t>();
    json c = {{"name", name}, {"pid", pid}};
    auto it = served.find(name);
    const fs::path log = dir / "logs" / (it != served.end() ? it->second.second : name + ".log");
    c["log"] = log.string();
    const bool running = alive(pid);
    const bool answering = running && it != served.end() && it->second.first.is_number() && port_open(it->second.first.get<int>());
    if (it != served.end() && it->second.first.is_number()) c["port"] = it->second.first;
    c["state"] = !running ? "exited" : answering || it == served.end() || !it->second.first.is_number() ? "running" : "not answering";
    if (c["state"] != "running") {
      report["healthy"] = false;
      c["log_tail"] = tail(read_file(log), 600);
    }
    report["components"].push_back(c);
  }
  return report;
}

Expected<std::string> world_env(const std::string& dir) {
  const fs::path path = fs::absolute(dir) / "env";
  if (!fs::exists(path)) return fail(ErrorKind::not_found, "no world in " + dir, "run `mssql2rds-sandbox world up --dir " + dir + "`");
  return read_file(path);
}

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

int run_dms_server(const std::string& dir_text) {
  const fs::path dir = fs::absolute(dir_text);
  json world = json::parse(read_file(dir / "world.json"), nullptr, false);
  auto creds = read_credentials(dir);
  if (!world.is_object() || creds["aws_access_key_id"].empty()) {
    std::fprintf(stderr, "dms-serve: error: %s has no world.json or credentials\n", dir.c_str());
    return 2;
  }
  const std::string key_id = creds["aws_access_key_id"], secret = creds["aws_secret_access_key"];
  const std::string region = world.value("region", std::string(k_region));

  dms::CdcEnvironment env;
  // The world's CA stands for the certificate of endpoints with SslMode verify-ca / verify-full.
  const std::string ca_file = (dir / "tls" / "ca.pem").string();
  env.open_session = dms::odbc_session_opener(ca_file);
  if (world.value("pace", std::string("fast")) == "demo") {
    env.pace.apply_delay = std::chrono::milliseconds(500);
    env.pace.batch_size = 5;
  }
  if (const char* d = std::getenv("M2R_DMS_APPLY_DELAY_MS")) env.pace.apply_delay = std::chrono::milliseconds(std::atoi(d));
  if (const char* b = std::getenv("M2R_DMS_BATCH_SIZE")) env.pace.batch_size = std::max(1, std::atoi(b));
  // A stalled apply, for tests: while the file exists the tasks read the log but apply nothing.
  env.apply_paused = [paused = dir / "dms-apply-paused"] { return fs::exists(paused); };
  // Each task's log (CloudWatch Logs on AWS) as logs/dms-task-<identifier>.log, one line a warning.
  env.task_log = [logs = dir / "logs", mutex = std::make_shared<std::mutex>()](const dms::CdcTaskSpec& spec,
                                                                              const std::string& line) {
    std::lock_guard lock(*mutex);
    std::ofstream(logs / ("dms-task-" + spec.task_identifier + ".log"), std::ios::app) << line << "\n";
  };
  const std::string moto_url = world["moto"].value("endpoint", std::string());
  if (!moto_url.empty()) {
    auto ctx = std::make_shared<m2r::aws::AwsContext>(
        m2r::aws::AwsContext::for_endpoint({key_id, secret, {}, {}, "world"}, region, moto_url));
    auto mutex = std::make_shared<std::mutex>();
    env.publish_latency = [ctx, mutex](const dms::CdcTaskSpec& spec, double source, double target) {
      std::lock_guard lock(*mutex);
      m2r::aws::CloudWatchClient cw(*ctx);
      std::vector<m2r::aws::MetricDimension> dims = {{"ReplicationInstanceIdentifier", spec.instance_identifier},
                                                     {"ReplicationTaskIdentifier", spec.task_resource_id}};
      auto r = cw.put_metric_data("AWS/DMS", {{"CDCLatencySource", source, "Seconds", dims, std::nullopt},
                                              {"CDCLatencyTarget", target, "Seconds", dims, std::nullopt}});
      if (!r) std::fprintf(stderr, "dms-serve: PutMetricData failed: %s\n", r.error().message.c_str());
    };
  }
  dms::DmsService service({.region = region, .state_path = (dir / "dms-state.json").string(),
                           .runner_factory = dms::make_cdc_runner_factory(env),
                           .connection_tester = dms::odbc_connection_tester(ca_file)});
  dms::DmsHttpServer server(service, {.region = region, .access_key_id = key_id, .secret_access_key = secret});
  auto port = server.start();
  if (!port) {
    std::fprintf(stderr, "dms-serve: error: %s\n", port.error().message.c_str());
    return 1;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("ready port=%d\n", *port);
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  service.stop_all();
  std::printf("stopped\n");
  return 0;
}

}  // namespace sandbox::world
