#include "world/world_cli.hpp"

#include <cstdio>
#include <cstdlib>

#include "world/world.hpp"

namespace sandbox::world {

namespace {
constexpr const char* k_usage =
    "usage: mssql2rds-sandbox world up --dir DIR [--pace fast|demo] [--database NAME] [--migration-login NAME]\n"
    "         [--source-edition express|web|standard|enterprise|developer] [--source-version 2016|2017|2019|2022]\n"
    "         [--source-agent running|stopped]   (defaults: MSSQL2RDS_SANDBOX_SOURCE_EDITION, _VERSION, _AGENT)\n"
    "       mssql2rds-sandbox world down --dir DIR\n"
    "       mssql2rds-sandbox world env --dir DIR\n"
    "       mssql2rds-sandbox world status --dir DIR [--json]   (exit 1 when a process is gone)\n";

int report(const m2r::Error& e) {
  std::fprintf(stderr, "mssql2rds-sandbox: error: %s\n", e.message.c_str());
  if (!e.hint.empty()) std::fprintf(stderr, "  hint: %s\n", e.hint.c_str());
  return m2r::exit_code_for(e.kind);
}
}  // namespace

int run_world_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(k_usage, stderr);
    return 2;
  }
  WorldOptions options;
  // Defaults for --source-*, so that a world another program starts (`mssql2rds demo`) can be
  // given them too.
  for (auto [name, field] : {std::pair{"MSSQL2RDS_SANDBOX_SOURCE_EDITION", &WorldOptions::source_edition},
                             {"MSSQL2RDS_SANDBOX_SOURCE_VERSION", &WorldOptions::source_version},
                             {"MSSQL2RDS_SANDBOX_SOURCE_AGENT", &WorldOptions::source_agent}}) {
    if (const char* v = std::getenv(name)) options.*field = v;
  }
  bool as_json = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    auto value = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (args[i] == "--dir") options.dir = value();
    else if (args[i] == "--pace") options.pace = value();
    else if (args[i] == "--database") options.database = value();
    else if (args[i] == "--source-edition") options.source_edition = value();
    else if (args[i] == "--source-version") options.source_version = value();
    else if (args[i] == "--source-agent") options.source_agent = value();
    else if (args[i] == "--migration-login") options.migration_login = value();
    else if (args[i] == "--json") as_json = true;
    else {
      std::fprintf(stderr, "mssql2rds-sandbox: error: unknown argument %s\n%s", args[i].c_str(), k_usage);
      return 2;
    }
  }
  if (options.dir.empty()) {
    std::fputs(k_usage, stderr);
    return 2;
  }
  const std::string& verb = args[0];
  if (verb == "up") {
    auto world = world_up(options);
    if (!world) return report(world.error());
    auto env = world_env(options.dir);
    std::printf("%s\n# world.json:\n%s\n", env ? env->c_str() : "", world->dump(2).c_str());
    return 0;
  }
  if (verb == "down") {
    auto down = world_down(options.dir);
    if (!down) return report(down.error());
    std::printf("world in %s stopped; no process left\n", options.dir.c_str());
    return 0;
  }
  if (verb == "env") {
    auto env = world_env(options.dir);
    if (!env) return report(env.error());
    std::fputs(env->c_str(), stdout);
    return 0;
  }
  if (verb == "status") {
    auto status = world_status(options.dir);
    if (!status) return report(status.error());
    if (as_json) {
      std::printf("%s\n", status->dump(2).c_str());
    } else {
      for (const auto& c : (*status)["components"]) {
        std::string port = c.contains("port") ? " port " + std::to_string(c["port"].get<int>()) : "";
        std::printf("%-7s pid %-7d %s%s\n", c["name"].get<std::string>().c_str(), c["pid"].get<int>(),
                    c["state"].get<std::string>().c_str(), port.c_str());
        if (c.contains("log_tail")) {
          std::printf("  last lines of %s:\n%s\n", c["log"].get<std::string>().c_str(), c["log_tail"].get<std::string>().c_str());
        }
      }
    }
    if (!(*status)["healthy"].get<bool>()) {
      std::fprintf(stderr, "mssql2rds-sandbox: error: the world in %s is degraded: a process is not running\n", options.dir.c_str());
      return 1;
    }
    return 0;
  }
  if (verb == "dms-serve") return run_dms_server(options.dir);
  std::fputs(k_usage, stderr);
  return 2;
}

}  // namespace sandbox::world
