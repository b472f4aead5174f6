#include "cli/lifecycle_support.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "core/plan.hpp"
#include "cli/event_renderer.hpp"
#include "migrate/config_file.hpp"

namespace m2r::cli {

void add_config_option(CLI::App& app, std::string& path) {
  app.add_option("-c,--config", path, "the migration's configuration file")->capture_default_str();
}

Expected<Loaded> load(const std::string& path) {
  auto config = M2R_TRY(load_config_file(path));
  auto conn = M2R_TRY(default_connections(config));
  return Loaded{std::move(config), std::move(conn)};
}

bool confirm(const std::string& question) {
  if (isatty(STDIN_FILENO) == 0) return false;
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::string duration_of(const StepRecord& s) {
  if (!s.started_at) return "";
  const auto end = s.finished_at.value_or(std::chrono::system_clock::now());
  return human_duration(std::chrono::duration<double>(end - *s.started_at).count());
}

void print_validation(const GlobalOptions& g, const ValidationReport& r) {
  for (const auto& t : r.tables) {
    const auto rows = [](const std::optional<TableFingerprint>& f) { return f ? std::to_string(f->rows) : "-"; };
    std::cout << fmt::format("  {} {:<32} source {:>10} rows  target {:>10} rows  {}\n",
                             t.matches ? green(g.style, "OK  ") : red(g.style, "DIFF"), t.table, rows(t.source),
                             rows(t.target), t.problem);
  }
}

nlohmann::json validation_json(const ValidationReport& r) {
  auto tables = nlohmann::json::array();
  for (const auto& t : r.tables) {
    tables.push_back({{"table", t.table},
                      {"matches", t.matches},
                      {"problem", t.problem},
                      {"source_rows", t.source ? nlohmann::json(t.source->rows) : nlohmann::json()},
                      {"target_rows", t.target ? nlohmann::json(t.target->rows) : nlohmann::json()}});
  }
  return {{"ok", r.ok()}, {"mismatches", r.mismatches}, {"tables", tables}};
}

}  // namespace m2r::cli
