#pragma once
// `mssql2rds-sandbox world up|down|env|dms-serve ...`: the one command that starts and
// stops the whole rehearsal world on loopback (issue 4). main.cpp hands it the words after
// "world":  return sandbox::world::run_world_command({"up", "--dir", "/tmp/w"});
#include <string>
#include <vector>

namespace sandbox::world {

int run_world_command(const std::vector<std::string>& args);

}  // namespace sandbox::world
