#pragma once
// What the lifecycle commands' handlers share: the --config option, loading the config with
// its connections, asking for consent, and rendering a validation report.
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "core/journal.hpp"
#include "core/validation.hpp"
#include "migrate/connections.hpp"

namespace m2r::cli {

void add_config_option(CLI::App& app, std::string& path);

struct Loaded {
  MigrationConfig config;
  Connections connections;
};
Expected<Loaded> load(const std::string& path);

// Asks on the terminal; false without one (consent is never assumed).
bool confirm(const std::string& question);

std::string duration_of(const StepRecord& step);

void print_validation(const GlobalOptions& global, const ValidationReport& report);
nlohmann::json validation_json(const ValidationReport& report);

}  // namespace m2r::cli
