#include "aws/credentials.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sys/process.hpp"
#include "core/ascii_case.hpp"

namespace m2r::aws {
namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) { return ascii_lower(s); }

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string expand_home(const std::string& path, const EnvLookup& env) {
  if (path.starts_with("~/")) return home_directory(env) + path.substr(1);
  return path;
}

std::optional<std::string> setting(const IniSection& section, const std::string& key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup map_environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string home_directory(const EnvLookup& env) {
  if (auto home = non_empty(env, "HOME")) return *home;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return ".";
}

IniFile parse_ini(std::string_view text) {
  IniFile ini;
  IniSection* current = nullptr;
  std::string last_key;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      std::string name = trim(std::string_view(t).substr(1, t.size() - 2));
      // "[profile  x]" -> "profile x"
      if (name.starts_with("profile") && name.size() > 7 && std::isspace(static_cast<unsigned char>(name[7])))
        name = "profile " + trim(std::string_view(name).substr(8));
      current = &ini.sections[name];
      continue;
    }
    if (!current) continue;
    if (std::isspace(static_cast<unsigned char>(line[0]))) continue;  // nested sub-setting (s3 = ...), not used
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = lower(trim(std::string_view(t).substr(0, eq)));
    std::string value = trim(std::string_view(t).substr(eq + 1));
    // Inline comments need a space before the '#' (a secret may contain '#').
    if (auto hash = value.find(" #"); hash != std::string::npos) value = trim(value.substr(0, hash));
    (*current)[key] = value;
  }
  return ini;
}

SharedConfig SharedConfig::load(const EnvLookup& env) {
  SharedConfig c;
  c.credentials_path =
      expand_home(non_empty(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home_directory(env) + "/.aws/credentials"), env);
  c.config_path = expand_home(non_empty(env, "AWS_CONFIG_FILE").value_or(home_directory(env) + "/.aws/config"), env);
  c.credentials = parse_ini(read_text(c.credentials_path));
  c.config = parse_ini(read_text(c.config_path));
  return c;
}

std::optional<IniSection> SharedConfig::profile(const std::string& name) const {
  std::optional<IniSection> merged;
  auto take = [&](const IniFile& file, const std::string& section) {
    auto it = file.sections.find(section);
    if (it == file.sections.end()) return;
    if (!merged) merged.emplace();
    for (const auto& [k, v] : it->second) (*merged)[k] = v;
  };
  if (name == "default") take(config, "default");
  take(config, "profile " + name);
  take(credentials, name);  // the credentials file wins
  return merged;
}

std::string active_profile(const EnvLookup& env, const std::optional<std::string>& explicit_profile) {
  if (explicit_profile && !explicit_profile->empty()) return *explicit_profile;
  if (auto p = non_empty(env, "AWS_PROFILE")) return *p;
  return "default";
}

// ---- RefreshingCredentialsProvider ----

RefreshingCredentialsProvider::RefreshingCredentialsProvider(Fetch fetch, std::shared_ptr<Clock> clock,
                                                             std::string source, std::chrono::seconds refresh_before)
    : m_fetch(std::move(fetch)), m_clock(std::move(clock)), m_source(std::move(source)), m_refresh_before(refresh_before) {
  if (!m_clock) m_clock = std::make_shared<SystemClock>();
}

int RefreshingCredentialsProvider::fetch_count() const {
  std::lock_guard lock(m_mutex);
  return m_fetches;
}

Expected<Credentials> RefreshingCredentialsProvider::credentials() {
  std::lock_guard lock(m_mutex);
  const auto now = m_clock->now();
  if (m_cached && (!m_cached->expiration || now < *m_cached->expiration - m_refresh_before)) return *m_cached;
  ++m_fetches;
  auto fresh = m_fetch();
  if (!fresh) {
    if (m_cached && m_cached->expiration && now < *m_cached->expiration) return *m_cached;  // still valid
    return tl::unexpected(fresh.error());
  }
  if (fresh->source.empty()) fresh->source = m_source;
  m_cached = std::move(*fresh);
  return *m_cached;
}

// ---- credential_process ----

Expected<std::vector<std::string>> split_command_line(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
      else word += c;
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 (command[i + 1] == '"' || command[i + 1] == '\\' || command[i + 1] == '$' || command[i + 1] == '`')) {
        word += command[++i];
      } else {
        word += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
    } else {
      word += c;
    }
  }
  if (quote) return fail(ErrorKind::invalid_input, "credential_process has an unterminated quote",
                         "close the quote in the credential_process setting");
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return fail(ErrorKind::invalid_input, "credential_process is empty");
  return words;
}

ProcessRunner default_process_runner(std::chrono::seconds timeout) {
  return [timeout](const std::vector<std::string>& argv) -> Expected<std::string> {
    // As the AWS CLI runs it: no shell, this process's environment, the program looked up on
    // PATH; stdin from /dev/null, and this process's group, so that a program that asks on
    // the terminal (an MFA prompt on /dev/tty) still can.
    sys::SpawnOptions options;
    options.argv = argv;
    options.search_path = sys::SearchPath::yes;
    options.out = sys::Stream::pipe();
    options.err = sys::Stream::pipe();
    auto ran = sys::run(options, {}, timeout);
    if (!ran) {
      return fail(ErrorKind::prerequisite, ran.error().message,
                  "check the program named by credential_process (it is run without a shell)");
    }
    if (ran->timed_out)
      return fail(ErrorKind::timeout, fmt::format("'{}' did not finish within {} s", argv[0], timeout.count()));
    if (!ran->status.success()) {
      const std::string& err = ran->err;
      std::string first = err.substr(0, std::min(err.find('\n'), size_t{200}));
      return fail(ErrorKind::auth,
                  fmt::format("'{}' failed (exit status {}){}", argv[0],
                              ran->status.signal != 0 ? -1 : ran->status.code, first.empty() ? "" : ": " + first),
                  "run the credential_process command by hand to see why it fails");
    }
    return std::move(ran->out);
  };
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  // yyyy-mm-ddThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
    return std::nullopt;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.')
    for (++pos; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
    }
  long offset = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z') {
      ++pos;
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
      int h = num(pos + 1, 2), m = num(pos + 4, 2);
      if (h < 0 || m < 0) return std::nullopt;
      offset = (text[pos] == '+' ? 1 : -1) * (h * 3600L + m * 60L);
      pos += 6;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm) - offset);
}

Expected<Credentials> parse_process_credentials(std::string_view output, const std::string& source) {
  auto json = nlohmann::json::parse(output, nullptr, false);
  const std::string fix = "make the program print JSON with Version 1, AccessKeyId, SecretAccessKey "
                          "[, SessionToken, Expiration]";
  if (!json.is_object())
    return fail(ErrorKind::auth, fmt::format("credential_process of {} did not print a JSON object", source), fix);
  if (!json.contains("Version") || json["Version"] != 1)
    return fail(ErrorKind::auth, fmt::format("credential_process of {} printed an unsupported Version (need 1)", source), fix);
  auto str = [&](const char* key) -> std::string {
    return json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : std::string{};
  };
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("SessionToken");
  c.source = source;
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return fail(ErrorKind::auth, fmt::format("credential_process of {} printed no AccessKeyId or SecretAccessKey", source), fix);
  if (auto exp = str("Expiration"); !exp.empty()) {
    auto t = parse_iso8601(exp);
    if (!t)
      return fail(ErrorKind::auth, fmt::format("credential_process of {} printed an Expiration that is not ISO 8601", source), fix);
    c.expiration = *t;
  }
  return c;
}

// ---- IMDS ----

Expected<Credentials> fetch_imds_credentials(HttpTransport& transport, const std::string& endpoint) {
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest token_req;
  token_req.method = "PUT";
  token_req.url = base + "/latest/api/token";
  token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  auto token = transport.send(token_req);
  if (!token) return tl::unexpected(token.error());
  if (token->status != 200)
    return fail(ErrorKind::auth, fmt::format("instance metadata refused a session token (HTTP {})", token->status));
  const std::vector<Header> auth = {{"X-aws-ec2-metadata-token", trim(token->body)}};

  HttpRequest role_req;
  role_req.url = base + "/latest/meta-data/iam/security-credentials/";
  role_req.headers = auth;
  auto role = transport.send(role_req);
  if (!role) return tl::unexpected(role.error());
  if (role->status != 200)
    return fail(ErrorKind::auth, fmt::format("instance metadata has no IAM role (HTTP {})", role->status),
                "attach an instance profile with a role to this instance");
  std::string role_name = trim(role->body.substr(0, role->body.find('\n')));

  HttpRequest creds_req;
  creds_req.url = base + "/latest/meta-data/iam/security-credentials/" + uri_encode(role_name);
  creds_req.headers = auth;
  auto creds = transport.send(creds_req);
  if (!creds) return tl::unexpected(creds.error());
  auto json = nlohmann::json::parse(creds->body, nullptr, false);
  if (creds->status != 200 || !json.is_object() || json.value("Code", "") != "Success")
    return fail(ErrorKind::auth, fmt::format("instance metadata did not return credentials for role '{}'", role_name));
  Credentials c;
  c.access_key_id = json.value("AccessKeyId", "");
  c.secret_access_key = json.value("SecretAccessKey", "");
  c.session_token = json.value("Token", "");
  c.source = fmt::format("EC2 instance metadata (role '{}')", role_name);
  if (auto t = parse_iso8601(json.value("Expiration", ""))) c.expiration = *t;
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return fail(ErrorKind::auth, "instance metadata returned incomplete credentials");
  return c;
}

// ---- the chain ----

namespace {

struct ChainBuilder {
  const CredentialsDeps& deps;
  const SharedConfig& config;
  EnvLookup env;
  std::shared_ptr<Clock> clock;

  std::string files() const { return fmt::format("{} and {}", config.credentials_path, config.config_path); }

  Expected<std::shared_ptr<CredentialsProvider>> from_profile(const std::string& name, int depth) {
    auto profile = config.profile(name);
    if (!profile)
      return fail(ErrorKind::auth, fmt::format("AWS profile '{}' was not found in {}", name, files()),
                  fmt::format("add [{}] to {} (or [profile {}] to {}), or choose another profile with AWS_PROFILE", name,
                              config.credentials_path, name, config.config_path));
    if (depth > 4)
      return fail(ErrorKind::invalid_input, fmt::format("AWS profile '{}': source_profile chain is too long or circular", name),
                  "make the source_profile chain end in a profile with keys");
    const IniSection& p = *profile;
    const std::string where = fmt::format("profile '{}' ({})", name,
                                          setting(p, "aws_access_key_id") ? config.credentials_path : config.config_path);

    if (auto role_arn = setting(p, "role_arn")) {
      if (setting(p, "mfa_serial"))
        return fail(ErrorKind::invalid_input, fmt::format("AWS profile '{}' needs an MFA code (mfa_serial)", name),
                    "use a profile without mfa_serial, or export temporary credentials in the environment");
      std::shared_ptr<CredentialsProvider> source;
      if (auto source_profile = setting(p, "source_profile")) {
        // A profile may name itself as source to use its own keys (the SDKs allow this).
        if (*source_profile == name && setting(p, "aws_access_key_id")) {
          auto keys = static_keys(name, p);
          if (!keys) return tl::unexpected(keys.error());
          source = *keys;
        } else {
          auto s = from_profile(*source_profile, depth + 1);
          if (!s) return tl::unexpected(s.error());
          source = *s;
        }
      } else if (auto cs = setting(p, "credential_source")) {
        if (*cs == "Environment") {
          auto e = from_environment();
          if (!e) return fail(ErrorKind::auth, fmt::format("AWS profile '{}' uses credential_source = Environment but "
                                                           "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set", name),
                              "export the source keys, or use source_profile");
          source = *e;
        } else if (*cs == "Ec2InstanceMetadata") {
          source = imds_provider();
        } else {
          return fail(ErrorKind::invalid_input, fmt::format("AWS profile '{}': credential_source '{}' is not supported", name, *cs),
                      "use source_profile, or credential_source = Environment / Ec2InstanceMetadata");
        }
      } else {
        return fail(ErrorKind::invalid_input,
                    fmt::format("AWS profile '{}' has role_arn but neither source_profile nor credential_source", name),
                    fmt::format("add source_profile = <profile with keys> to profile '{}' in {}", name, config.config_path));
      }
      if (!deps.assume_role)
        return fail(ErrorKind::fatal, "assume-role credentials are not wired (no STS client)");
      std::string session = setting(p, "role_session_name").value_or("mssql2rds-" + std::to_string(::time(nullptr)));
      std::string external_id = setting(p, "external_id").value_or("");
      auto assume = deps.assume_role;
      std::string role = *role_arn;
      std::string label = fmt::format("profile '{}' (role {} via {})", name, role, source->source());
      auto fetch = [assume, source, role, session, external_id, label]() -> Expected<Credentials> {
        auto c = assume(source, role, session, external_id);
        if (!c) {
          Error e = c.error();
          e.message = fmt::format("assuming {} for {} failed: {}", role, label, e.message);
          return tl::unexpected(e);
        }
        c->source = label;
        return c;
      };
      return std::shared_ptr<CredentialsProvider>(std::make_shared<RefreshingCredentialsProvider>(fetch, clock, label));
    }

    if (auto process = setting(p, "credential_process")) {
      auto argv = split_command_line(*process);
      if (!argv) {
        Error e = argv.error();
        e.message = fmt::format("AWS profile '{}': {}", name, e.message);
        return tl::unexpected(e);
      }
      ProcessRunner run = deps.run_process ? deps.run_process : default_process_runner();
      std::string label = fmt::format("profile '{}' (credential_process in {})", name, config.config_path);
      auto fetch = [run, args = *argv, label]() -> Expected<Credentials> {
        auto out = run(args);
        if (!out) {
          Error e = out.error();
          e.message = fmt::format("credential_process of {} failed: {}", label, e.message);
          return tl::unexpected(e);
        }
        return parse_process_credentials(*out, label);
      };
      return std::shared_ptr<CredentialsProvider>(std::make_shared<RefreshingCredentialsProvider>(fetch, clock, label));
    }

    if (setting(p, "aws_access_key_id") || setting(p, "aws_secret_access_key")) {
      auto keys = static_keys(name, p);
      if (!keys) return tl::unexpected(keys.error());
      return *keys;
    }
    if (setting(p, "sso_start_url") || setting(p, "sso_session"))
      return fail(ErrorKind::auth, fmt::format("AWS profile '{}' uses IAM Identity Center (SSO), which mssql2rds does not read", name),
                  fmt::format("run `aws configure export-credentials --profile {} --format env` and export the result, or "
                              "add credential_process = aws configure export-credentials --profile {}", name, name));
    return fail(ErrorKind::auth, fmt::format("AWS profile '{}' has no credentials (no aws_access_key_id, credential_process "
                                             "or role_arn) in {}", name, files()),
                fmt::format("run `aws configure --profile {}` or add the keys to [{}] in {}", name, name,
                            config.credentials_path));
  }

  Expected<std::shared_ptr<CredentialsProvider>> static_keys(const std::string& name, const IniSection& p) {
    auto id = setting(p, "aws_access_key_id");
    auto secret = setting(p, "aws_secret_access_key");
    if (!id || !secret)
      return fail(ErrorKind::auth,
                  fmt::format("AWS profile '{}' has {} but not {}", name, id ? "aws_access_key_id" : "aws_secret_access_key",
                              id ? "aws_secret_access_key" : "aws_access_key_id"),
                  fmt::format("add the missing key to [{}] in {}", name, config.credentials_path));
    Credentials c{*id, *secret, setting(p, "aws_session_token").value_or(""), std::nullopt,
                  fmt::format("profile '{}' ({})", name, config.credentials_path)};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(std::move(c)));
  }

  std::optional<std::shared_ptr<CredentialsProvider>> from_environment() {
    auto id = non_empty(env, "AWS_ACCESS_KEY_ID");
    auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
    if (!id || !secret) return std::nullopt;
    Credentials c{*id, *secret, non_empty(env, "AWS_SESSION_TOKEN").value_or(""), std::nullopt,
                  "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"};
    return std::make_shared<StaticCredentialsProvider>(std::move(c));
  }

  std::string imds_endpoint() const {
    return non_empty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  }

  std::shared_ptr<CredentialsProvider> imds_provider() {
    std::shared_ptr<HttpTransport> transport = deps.imds_transport;
    if (!transport) {
      // Short timeouts: off EC2 the address does not answer, and the chain must not hang.
      TransportOptions o;
      o.connect_timeout = std::chrono::milliseconds(1000);
      o.total_timeout = std::chrono::milliseconds(2000);
      transport = std::make_shared<CurlTransport>(o);
    }
    std::string endpoint = imds_endpoint();
    auto fetch = [transport, endpoint]() { return fetch_imds_credentials(*transport, endpoint); };
    return std::make_shared<RefreshingCredentialsProvider>(fetch, clock, "EC2 instance metadata (" + endpoint + ")");
  }
};

}  // namespace

Expected<std::shared_ptr<CredentialsProvider>> resolve_credentials(const CredentialsDeps& deps,
                                                                   const std::optional<std::string>& explicit_profile) {
  EnvLookup env = deps.env ? deps.env : process_environment();
  SharedConfig config = SharedConfig::load(env);
  ChainBuilder chain{deps, config, env, deps.clock ? deps.clock : std::make_shared<SystemClock>()};
  const bool profile_chosen = (explicit_profile && !explicit_profile->empty());

  // 1. Environment (skipped when a profile is chosen explicitly, as the SDKs do).
  if (!profile_chosen)
    if (auto e = chain.from_environment()) return *e;
  if (!profile_chosen && (non_empty(env, "AWS_ACCESS_KEY_ID") || non_empty(env, "AWS_SECRET_ACCESS_KEY")))
    return fail(ErrorKind::auth,
                fmt::format("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in the environment"),
                "export both variables, or unset the one that is set to use a profile");

  // 2. The profile. A profile named explicitly or through AWS_PROFILE must exist.
  const std::string profile = active_profile(env, explicit_profile);
  const bool profile_named = profile_chosen || non_empty(env, "AWS_PROFILE").has_value();
  if (config.profile(profile) || profile_named) return chain.from_profile(profile, 0);

  // 3. EC2 instance metadata.
  const std::string looked = fmt::format("environment variables, profile 'default' in {} and {}", config.credentials_path,
                                         config.config_path);
  const std::string fix = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or set AWS_PROFILE";
  if (lower(non_empty(env, "AWS_EC2_METADATA_DISABLED").value_or("")) == "true")
    return fail(ErrorKind::auth, fmt::format("no AWS credentials found (looked at {}; instance metadata is disabled)", looked), fix);
  auto imds = chain.imds_provider();
  auto first = imds->credentials();
  if (!first)
    return fail(ErrorKind::auth,
                fmt::format("no AWS credentials found (looked at {} and EC2 instance metadata at {}: {})", looked,
                            chain.imds_endpoint(), first.error().message),
                fix);
  return imds;
}

// ---- region and endpoints ----

Expected<std::string> resolve_region(const EnvLookup& env, const SharedConfig& config, const std::string& profile) {
  if (auto r = non_empty(env, "AWS_REGION")) return *r;
  if (auto r = non_empty(env, "AWS_DEFAULT_REGION")) return *r;
  if (auto p = config.profile(profile))
    if (auto r = setting(*p, "region")) return *r;
  return fail(ErrorKind::invalid_input, fmt::format("no AWS region is configured for profile '{}'", profile),
              fmt::format("set AWS_REGION, or add `region = <region>` to the profile in {}", config.config_path));
}

const ServiceInfo& service_info(Service service) {
  static const ServiceInfo k_services[] = {
      {Service::s3, "s3", "s3", "S3", "s3"},
      {Service::rds, "rds", "rds", "RDS", "rds"},
      {Service::dms, "dms", "dms", "DATABASE_MIGRATION_SERVICE", "database_migration_service"},
      {Service::sts, "sts", "sts", "STS", "sts"},
      {Service::cloudwatch, "monitoring", "monitoring", "CLOUDWATCH", "cloudwatch"},
      {Service::iam, "iam", "iam", "IAM", "iam"},
  };
  return k_services[static_cast<int>(service)];
}

EndpointResolver::EndpointResolver(EnvLookup env, std::string region, std::optional<std::string> profile_endpoint)
    : m_env(std::move(env)), m_region(std::move(region)), m_profile_endpoint(std::move(profile_endpoint)) {}

std::optional<std::string> EndpointResolver::configured(Service service) const {
  if (m_env) {
    if (auto v = non_empty(m_env, std::string("AWS_ENDPOINT_URL_") + service_info(service).env_suffix)) return v;
    if (auto v = non_empty(m_env, "AWS_ENDPOINT_URL")) return v;
  }
  if (m_profile_endpoint && !m_profile_endpoint->empty()) return m_profile_endpoint;
  return std::nullopt;
}

std::string EndpointResolver::endpoint(Service service) const {
  if (auto c = configured(service)) {
    std::string url = *c;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  if (service == Service::iam) return "https://iam.amazonaws.com";
  const char* suffix = m_region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return fmt::format("https://{}.{}.{}", service_info(service).endpoint_prefix, m_region, suffix);
}

bool EndpointResolver::is_custom(Service service) const { return configured(service).has_value(); }

std::string EndpointResolver::signing_region(Service service) const {
  if (service == Service::iam && !is_custom(service)) return "us-east-1";
  return m_region;
}

}  // namespace m2r::aws
