#include "world/world_cli.hpp"

#include <cstdio>
#include <cstdlib>

#include "world/world.hpp"

namespace sandbox::world {

namespace {
constexpr const char* k_usage =
    "usage: mssql2rds-sandbox world up --dir DIR [--pace fast|demo] [--database NAME]\n"
    "       mssql2rds-sandbox world down --dir DIR\n"
    "       mssql2rds-sandbox world env --dir DIR\n";

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
  for (std::size_t i = 1; i < args.size(); ++i) {
    auto value = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (args[i] == "--dir") options.dir = value();
    else if (args[i] == "--pace") options.pace = value();
    else if (args[i] == "--database") options.database = value();
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
  if (verb == "dms-serve") return run_dms_server(options.dir);
  std::fputs(k_usage, stderr);
  return 2;
}

}  // namespace sandbox::world
