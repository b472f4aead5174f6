#pragma once
// What the lifecycle commands' handlers share: the --config option, loading the config with
// its connections, asking for consent, and rendering a validation report.
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "core/journal.hpp"
#include "core/plan.hpp"
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

// A plan's steps with their statements and calls: numbered text, or `{"result": <result>,
// "plan": [...]}` with --json (extra keys merged in).
void print_plan(const GlobalOptions& global, const std::vector<PlannedStep>& plan, const std::string& result,
                const std::string& heading, const std::string& note, const nlohmann::json& extra);

void print_validation(const GlobalOptions& global, const ValidationReport& report);
nlohmann::json validation_json(const ValidationReport& report);

}  // namespace m2r::cli
