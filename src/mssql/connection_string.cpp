#include "mssql/connection_string.hpp"
#include "core/ascii_case.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace m2r::mssql {
namespace {

std::string lower(std::string s) { return ascii_lower(s); }

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

struct Attribute {
  std::string key;        // as written (trimmed)
  std::string raw_value;  // as written, braces included
  bool has_value = true;  // false for a segment without '='
};

// Splits "k=v;k={v;v}};..." as ODBC does: a value starting with '{' runs to the matching
// '}' ('}}' inside stands for one '}'). Returns nullopt on an unterminated brace.
std::optional<std::vector<Attribute>> parse_attributes(const std::string& s) {
  std::vector<Attribute> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto eq = s.find('=', i);
    const auto semi = s.find(';', i);
    if (eq == std::string::npos || (semi != std::string::npos && semi < eq)) {
      // A segment without '=' (e.g. a trailing ';'): keep it only if not blank.
      const auto end = semi == std::string::npos ? s.size() : semi;
      if (!trim(s.substr(i, end - i)).empty()) out.push_back({trim(s.substr(i, end - i)), {}, false});
      i = end + 1;
      continue;
    }
    Attribute a;
    a.key = trim(s.substr(i, eq - i));
    std::size_t j = eq + 1;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j < s.size() && s[j] == '{') {
      std::size_t k = j + 1;
      for (;;) {
        if (k >= s.size()) return std::nullopt;
        if (s[k] == '}') {
          if (k + 1 < s.size() && s[k + 1] == '}') {
            k += 2;
            continue;
          }
          break;
        }
        ++k;
      }
      a.raw_value = s.substr(eq + 1, k + 1 - (eq + 1));
      const auto next = s.find(';', k + 1);
      i = next == std::string::npos ? s.size() : next + 1;
    } else {
      const auto end = s.find(';', eq + 1);
      a.raw_value = s.substr(eq + 1, (end == std::string::npos ? s.size() : end) - (eq + 1));
      i = end == std::string::npos ? s.size() : end + 1;
    }
    out.push_back(std::move(a));
  }
  return out;
}

bool is_password_key(const std::string& key) {
  const auto k = lower(key);
  return k == "pwd" || k == "password";
}

bool has_key(const std::vector<Attribute>& attrs, std::initializer_list<const char*> keys) {
  return std::any_of(attrs.begin(), attrs.end(), [&](const Attribute& a) {
    const auto k = lower(a.key);
    return std::any_of(keys.begin(), keys.end(), [&](const char* want) { return k == want; });
  });
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// A stable section name for what the section says (FNV-1a), so each connection finds its own.
std::string section_name(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("mssql2rds-{:016x}", h);
}

// freetds.conf has no quoting: a value runs to the end of its line.
bool fits_freetds_conf(const std::string& value) { return value.find_first_of("\r\n") == std::string::npos; }

}  // namespace

std::string ConnectionSettings::endpoint() const {
  if (!odbc_connection_string.empty() && server.empty()) return "the server in odbc_connection_string";
  return fmt::format("{}:{}", server, port);
}

ConnectionSettings settings_for(const SourceConfig& source) {
  ConnectionSettings s;
  s.server = source.server;
  s.port = source.port;
  s.database = source.database;
  s.login = source.login;
  s.password_env = source.password_env;
  s.driver = source.driver;
  s.encrypt = source.encrypt;
  s.trust_server_certificate = source.trust_server_certificate;
  s.ca_file = source.ca_file;
  s.config_section = "source";
  s.odbc_connection_string = source.odbc_connection_string;
  return s;
}

ConnectionSettings settings_for(const TargetConfig& target, std::string host, std::uint16_t port) {
  ConnectionSettings s;
  s.server = std::move(host);
  s.port = port;
  s.database = target.database;
  s.login = target.login;
  s.password_env = target.password_env;
  s.driver = target.driver;
  s.encrypt = target.encrypt;
  s.trust_server_certificate = target.trust_server_certificate;
  s.ca_file = target.ca_file;
  s.config_section = "target";
  return s;
}

DriverKind driver_kind(const std::string& driver) {
  const auto d = lower(driver);
  if (d.find("freetds") != std::string::npos || d.find("tdsodbc") != std::string::npos) return DriverKind::freetds;
  if (d.find("msodbcsql") != std::string::npos ||
      (d.find("odbc driver") != std::string::npos && d.find("sql server") != std::string::npos)) {
    return DriverKind::microsoft;
  }
  return DriverKind::other;
}

const std::vector<std::string>& freetds_driver_paths() {
  static const std::vector<std::string> k_paths = {
      "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so",   // Debian/Ubuntu tdsodbc
      "/usr/lib/aarch64-linux-gnu/odbc/libtdsodbc.so",
      "/usr/lib64/libtdsodbc.so.0",                     // Fedora/RHEL freetds
      "/usr/local/lib/libtdsodbc.so",                   // built from source
      "/opt/homebrew/lib/libtdsodbc.so",
  };
  return k_paths;
}

Expected<std::string> resolve_driver(const std::string& driver, const DriverCatalog& catalog) {
  if (driver.find('/') != std::string::npos) {
    if (catalog.file_exists && !catalog.file_exists(driver)) {
      return fail(ErrorKind::prerequisite, fmt::format("the ODBC driver file {} does not exist", driver),
                  "install the driver or fix the driver path in the config");
    }
    return driver;
  }
  for (const auto& name : catalog.registered) {
    if (lower(name) == lower(driver)) return name;
  }
  const auto kind = driver_kind(driver);
  if (kind == DriverKind::freetds && catalog.file_exists) {
    for (const auto& path : freetds_driver_paths()) {
      if (catalog.file_exists(path)) return path;
    }
  }
  const std::string known = catalog.registered.empty() ? "none" : fmt::format("{}", fmt::join(catalog.registered, ", "));
  std::string hint;
  if (kind == DriverKind::freetds) {
    hint = "install FreeTDS's ODBC driver (Debian/Ubuntu: apt-get install tdsodbc unixodbc), or set driver to the path of "
           "libtdsodbc.so";
  } else if (kind == DriverKind::microsoft) {
    hint = "install Microsoft's msodbcsql18 package, or set driver to \"FreeTDS\"";
  } else {
    hint = "set driver to a name registered in odbcinst.ini (odbcinst -q -d lists them) or to the driver's path";
  }
  return fail(ErrorKind::prerequisite,
              fmt::format("the ODBC driver '{}' is not registered with unixODBC (registered: {})", driver, known), hint);
}

std::string odbc_braced(const std::string& value) {
  std::string out = "{";
  for (char c : value) {
    out += c;
    if (c == '}') out += '}';
  }
  return out + "}";
}

std::string odbc_value(const std::string& value) {
  const bool plain = !value.empty() && value.find_first_of(";{}= ") == std::string::npos;
  return plain ? value : odbc_braced(value);
}

std::string redact_connection_string(const std::string& connection_string) {
  const auto attrs = parse_attributes(connection_string);
  if (!attrs) {
    // Unparseable: show nothing after the first password key rather than risk it.
    const auto l = lower(connection_string);
    auto pos = std::min(l.find("pwd"), l.find("password"));
    return pos == std::string::npos ? connection_string : connection_string.substr(0, pos) + "***";
  }
  std::string out;
  for (const auto& a : *attrs) {
    if (!out.empty()) out += ';';
    out += a.key;
    if (is_password_key(a.key)) {
      out += "={***}";
    } else if (a.has_value) {
      out += "=" + a.raw_value;
    }
  }
  return out;
}

Expected<OdbcConnectionString> build_connection_string(const ConnectionSettings& s, const Secret& password,
                                                       const DriverCatalog& catalog) {
  std::vector<std::pair<std::string, std::string>> attrs;  // key, encoded value
  std::optional<FreeTdsSection> freetds_section;
  if (!s.odbc_connection_string.empty()) {
    const auto parsed = parse_attributes(s.odbc_connection_string);
    if (!parsed) {
      return fail(ErrorKind::invalid_input, "odbc_connection_string has an unterminated '{'",
                  "close every {...} value; a '}' inside a braced value is written '}}'");
    }
    for (const auto& a : *parsed) {
      if (is_password_key(a.key)) {
        return fail(ErrorKind::invalid_input, "odbc_connection_string contains a password",
                    fmt::format("remove PWD from the connection string and put the password in the environment "
                                "variable named by password_env{}",
                                s.password_env.empty() ? "" : " (" + s.password_env + ")"));
      }
      if (a.has_value) attrs.emplace_back(a.key, a.raw_value);
    }
    if (!s.login.empty() && !has_key(*parsed, {"uid", "user id", "user"})) attrs.emplace_back("UID", odbc_braced(s.login));
  } else {
    if (s.server.empty()) {
      return fail(ErrorKind::invalid_input, "no server to connect to", "set server (and port) in the config");
    }
    const auto driver = M2R_TRY(resolve_driver(s.driver, catalog));
    const auto kind = driver_kind(s.driver) == DriverKind::other ? driver_kind(driver) : driver_kind(s.driver);
    attrs.emplace_back("Driver", odbc_braced(driver));
    if (kind == DriverKind::freetds) {
      // FreeTDS: host and port apart; TDS 7.4 is SQL Server 2012+; UTF-8 to and from the
      // client so nvarchar survives. Never Encryption=off: FreeTDS then sends ENCRYPT_NOT_SUP
      // and the password crosses the network merely obfuscated (docs/facts.md §14); "request"
      // encrypts at least the login packet, "require" the whole session.
      const std::string encryption = s.encrypt ? "require" : "request";
      if (s.trust_server_certificate) {
        attrs.emplace_back("Server", odbc_value(s.server));
      } else {
        if (!fits_freetds_conf(s.server) || !fits_freetds_conf(s.ca_file)) {
          return fail(ErrorKind::invalid_input, "server and ca_file may not contain a line break",
                      "fix server or ca_file in the config");
        }
        // "ca file = system" is FreeTDS's word for the system's trust store; with a CA file
        // FreeTDS checks the certificate's host name against the host it connects to.
        std::string text = fmt::format(
            "\thost = {}\n\tport = {}\n\ttds version = 7.4\n\tencryption = {}\n\tca file = {}\n"
            "\tcheck certificate hostname = yes\n",
            s.server, s.port, encryption, s.ca_file.empty() ? "system" : s.ca_file);
        FreeTdsSection section;
        section.name = section_name(text);
        section.text = fmt::format("[{}]\n{}", section.name, text);
        attrs.emplace_back("Servername", section.name);
        freetds_section = std::move(section);
      }
      attrs.emplace_back("Port", std::to_string(s.port));
      attrs.emplace_back("TDS_Version", "7.4");
      attrs.emplace_back("ClientCharset", "UTF-8");
      attrs.emplace_back("Encryption", encryption);
      // FreeTDS 1.5+ checks the certificate against this name; 1.3 ignores the attribute and
      // checks the host it connects to, which then fails closed (a mismatch), never open.
      if (!s.certificate_host_name.empty() && !s.trust_server_certificate) {
        attrs.emplace_back("HostNameInCertificate", odbc_value(s.certificate_host_name));
      }
    } else {
      // Microsoft's driver: Server=tcp:host,port; Encrypt / TrustServerCertificate yes|no
      // (driver 18 defaults Encrypt to yes; Encrypt=no still encrypts the login).
      if (!s.ca_file.empty() && kind == DriverKind::microsoft) {
        return fail(ErrorKind::invalid_input,
                    fmt::format("ca_file ({}) cannot be given to Microsoft's ODBC driver", s.ca_file),
                    "ODBC Driver 18 verifies against the system's trust store: add the CA there (Debian: copy it "
                    "to /usr/local/share/ca-certificates/ as .crt and run update-ca-certificates) and remove "
                    "ca_file, or use driver = \"FreeTDS\"");
      }
      attrs.emplace_back("Server", odbc_value(fmt::format("tcp:{},{}", s.server, s.port)));
      attrs.emplace_back("Encrypt", yes_no(s.encrypt));
      attrs.emplace_back("TrustServerCertificate", yes_no(s.trust_server_certificate));
      if (!s.certificate_host_name.empty()) {
        attrs.emplace_back("HostNameInCertificate", odbc_value(s.certificate_host_name));
      }
    }
    if (!s.database.empty()) attrs.emplace_back("Database", odbc_braced(s.database));
    if (!s.login.empty()) attrs.emplace_back("UID", odbc_braced(s.login));
    attrs.emplace_back("APP", odbc_value(s.application_name));
  }

  // FreeTDS 1.3 (Debian 12's tdsodbc) reads a braced value up to the first "};" and does not
  // undo the standard '}}' escape, which newer FreeTDS and Microsoft's driver require: no
  // spelling of a value with '}' works for both, so such values are refused up front.
  const bool freetds = s.odbc_connection_string.empty()
                           ? driver_kind(s.driver) == DriverKind::freetds
                           : driver_kind(s.odbc_connection_string) == DriverKind::freetds;
  if (freetds && (password.reveal().find('}') != std::string::npos || s.login.find('}') != std::string::npos ||
                  s.database.find('}') != std::string::npos)) {
    return fail(ErrorKind::invalid_input,
                "the FreeTDS ODBC driver cannot take a login, password or database name containing '}'",
                "use a password without '}' for this login, or Microsoft's \"ODBC Driver 18 for SQL Server\"");
  }

  OdbcConnectionString out;
  for (const auto& [key, value] : attrs) {
    const std::string part = key + "=" + value + ";";
    out.value += part;
    out.redacted += part;
  }
  out.value += "PWD=" + odbc_braced(password.reveal()) + ";";
  out.redacted += "PWD={***};";
  out.freetds_section = std::move(freetds_section);
  return out;
}

bool encryption_turned_off(const std::string& odbc_connection_string) {
  const auto attrs = parse_attributes(odbc_connection_string);
  if (!attrs) return false;
  return std::any_of(attrs->begin(), attrs->end(), [](const Attribute& a) {
    return lower(a.key) == "encryption" && lower(trim(a.raw_value)) == "off";
  });
}

std::string describe_encryption(const ConnectionSettings& s) {
  if (!s.odbc_connection_string.empty()) return "as odbc_connection_string says";
  const std::string what = s.encrypt ? "encrypted" : "login packet encrypted, the session in clear";
  if (s.trust_server_certificate) return what + ", any certificate accepted (not verified)";
  return fmt::format("{}, certificate verified with {}{}", what, s.ca_file.empty() ? "the system's CAs" : s.ca_file,
                     s.certificate_host_name.empty() ? "" : " for " + s.certificate_host_name);
}

}  // namespace m2r::mssql
