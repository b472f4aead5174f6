#pragma once
// Reads a migration's TOML file and resolves paths in it relative to the file's folder.
#include <string>

#include "core/config.hpp"

namespace m2r {

// The journal path and a table-mappings file path are made absolute relative to the
// config's folder; the table mappings file is read and validated here.
Expected<MigrationConfig> load_config_file(const std::string& path);

// The table mappings as DMS takes them (JSON text), from "include-all" or the file named.
Expected<std::string> load_table_mappings(const MigrationConfig& config);

}  // namespace m2r
