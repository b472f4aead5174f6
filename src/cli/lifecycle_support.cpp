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

namespace {

// A terminal shows this many differences per table; --json lists all that were named.
constexpr std::size_t k_printed_differences = 10;

}  // namespace

void print_validation(const GlobalOptions& g, const ValidationReport& r) {
  for (const auto& t : r.tables) {
    const auto rows = [](const std::optional<TableFingerprint>& f) { return f ? std::to_string(f->rows) : "-"; };
    std::cout << fmt::format("  {} {:<32} source {:>10} rows  target {:>10} rows  {}\n",
                             t.matches ? green(g.style, "OK  ") : red(g.style, "DIFF"), t.table, rows(t.source),
                             rows(t.target), t.problem);
    for (std::size_t i = 0; i < t.differences.named.size() && i < k_printed_differences; ++i) {
      const auto& d = t.differences.named[i];
      std::cout << fmt::format("         {}: {}{}\n", difference_kind_text(d.kind), difference_key_text(t.key_columns, d.key),
                               d.copies > 1 ? fmt::format(" ({} copies)", d.copies) : "");
    }
    if (t.differences.named.size() > k_printed_differences) {
      std::cout << fmt::format("         ... {} more named with --json\n", t.differences.named.size() - k_printed_differences);
    }
    for (const auto& c : t.left_out_columns) std::cout << fmt::format("         not compared: {}\n", c);
    if (!t.compared.empty()) std::cout << fmt::format("         {}\n", t.compared);
  }
}

void print_plan(const GlobalOptions& global, const std::vector<PlannedStep>& plan, const std::string& result,
                const std::string& heading, const std::string& note, const nlohmann::json& extra) {
  if (global.style.json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : plan) {
      nlohmann::json actions = nlohmann::json::array();
      for (const auto& a : s.actions) actions.push_back({{"where", a.where}, {"what", a.what}});
      steps.push_back({{"step", s.name}, {"title", s.title}, {"actions", actions}});
    }
    nlohmann::json out = {{"result", result}, {"plan", steps}};
    if (extra.is_object()) out.update(extra);
    if (!note.empty()) out["note"] = note;
    std::cout << out.dump() << std::endl;
    return;
  }
  std::cout << heading << "\n";
  if (!note.empty()) std::cout << yellow(global.style, "note: ") << note << "\n";
  int n = 1;
  for (const auto& s : plan) {
    std::cout << "\n" << bold(global.style, fmt::format("{}. {}", n++, s.name)) << ": " << s.title << "\n";
    for (const auto& a : s.actions) std::cout << fmt::format("   [{}] {}\n", a.where, a.what);
  }
}

nlohmann::json validation_json(const ValidationReport& r) {
  auto tables = nlohmann::json::array();
  for (const auto& t : r.tables) {
    auto differences = nlohmann::json::array();
    for (const auto& d : t.differences.named) {
      auto key = nlohmann::json::object();
      for (std::size_t i = 0; i < d.key.size(); ++i) key[i < t.key_columns.size() ? t.key_columns[i] : "?"] = d.key[i];
      differences.push_back({{"kind", to_string(d.kind)}, {"key", key}, {"copies", d.copies}});
    }
    tables.push_back({{"table", t.table},
                      {"matches", t.matches},
                      {"problem", t.problem},
                      {"method", t.method},
                      {"source_rows", t.source ? nlohmann::json(t.source->rows) : nlohmann::json()},
                      {"target_rows", t.target ? nlohmann::json(t.target->rows) : nlohmann::json()},
                      {"key_columns", t.key_columns},
                      {"left_out_columns", t.left_out_columns},
                      {"compared", t.compared.empty() ? std::string("now") : t.compared},
                      {"missing_on_target", t.differences.missing_on_target},
                      {"extra_on_target", t.differences.extra_on_target},
                      {"differing", t.differences.differing},
                      {"unnamed_differences", t.differences.unnamed()},
                      {"differences", differences}});
  }
  return {{"ok", r.ok()}, {"mismatches", r.mismatches}, {"tables", tables}};
}

}  // namespace m2r::cli
