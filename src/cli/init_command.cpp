#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/config.hpp"

namespace m2r::cli {

std::function<int(const GlobalOptions&)> attach_init(CLI::App& app) {
  struct State {
    std::string path = "mssql2rds.toml";
    bool force = false;
  };
  auto st = std::make_shared<State>();
  app.add_option("path", st->path, "where to write the template")->capture_default_str();
  app.add_flag("--force", st->force, "overwrite an existing file");
  return [st](const GlobalOptions& global) {
    if (std::filesystem::exists(st->path) && !st->force) {
      return report_error(global, {fmt::format("{} already exists", st->path),
                                   "choose another path, or pass --force to overwrite it", "conflict",
                                   exit_code_for(ErrorKind::conflict)});
    }
    std::ofstream out(st->path, std::ios::trunc);
    out << config_template();
    out.close();
    if (!out) {
      return report_error(global, {fmt::format("cannot write {}", st->path), "check the directory exists and is writable",
                                   "error", exit_code_for(ErrorKind::fatal)});
    }
    if (global.style.json) {
      std::cout << nlohmann::json{{"result", "init"}, {"written", st->path}}.dump() << std::endl;
    } else {
      std::cout << fmt::format("wrote {}: fill in the values marked REQUIRED, then run `mssql2rds check -c {}`\n",
                               st->path, st->path);
    }
    return 0;
  };
}

}  // namespace m2r::cli
