#include "migrate/config_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/dms_task_spec.hpp"

namespace m2r {

namespace fs = std::filesystem;

namespace {
Expected<std::string> read_text(const std::string& path, const char* what, const char* hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::invalid_input, fmt::format("cannot read the {} {}", what, path), hint);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

Expected<MigrationConfig> load_config_file(const std::string& path) {
  const auto text = M2R_TRY(read_text(path, "configuration file", "pass -c PATH, or create one with `mssql2rds init`"));
  auto config = M2R_TRY(parse_config(text, path));
  const fs::path dir = fs::absolute(path).parent_path();
  if (fs::path(config.journal).is_relative()) config.journal = (dir / config.journal).lexically_normal().string();
  if (config.dms.table_mappings != "include-all" && fs::path(config.dms.table_mappings).is_relative()) {
    config.dms.table_mappings = (dir / config.dms.table_mappings).lexically_normal().string();
  }
  // A CA bundle named relative to the config file; one that cannot be read is refused now.
  for (auto* ca_file : {&config.source.ca_file, &config.target.ca_file}) {
    if (ca_file->empty()) continue;
    if (fs::path(*ca_file).is_relative()) *ca_file = (dir / *ca_file).lexically_normal().string();
    M2R_TRY(read_text(*ca_file, "CA bundle (ca_file)",
                      "set ca_file to the PEM file of the CA that signed the server's certificate (for RDS: "
                      "global-bundle.pem from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)"));
  }
  M2R_TRY(load_table_mappings(config));  // refuse a bad mappings file now, before anything runs
  return config;
}

Expected<std::string> load_table_mappings(const MigrationConfig& config) {
  if (config.dms.table_mappings == "include-all") return table_mappings_json("include-all");
  const auto text = M2R_TRY(read_text(config.dms.table_mappings, "table mappings file",
                                      "set [dms] table_mappings to \"include-all\" or the path of a DMS "
                                      "table-mappings JSON file"));
  auto mappings = table_mappings_json(text);
  if (!mappings) {
    return fail(ErrorKind::invalid_input, fmt::format("{}: {}", config.dms.table_mappings, mappings.error().message),
                mappings.error().hint);
  }
  return mappings;
}

}  // namespace m2r
