#include "core/distributor.hpp"

#include <fmt/format.h>

#include "core/ascii_case.hpp"
#include "core/tsql.hpp"

namespace m2r {

DistributorState distributor_state(const SourceFacts& f) {
  const auto& d = f.distributor;
  if (!d.known) return DistributorState::unknown;
  if (!d.installed || d.server.empty()) return DistributorState::missing;
  // @@SERVERNAME and the distribution server compare as SQL Server compares names: ignoring case.
  if (ascii_lower(d.server) != ascii_lower(f.server_name)) return DistributorState::remote;
  return d.database_installed && d.is_publisher ? DistributorState::local_ready : DistributorState::local_incomplete;
}

std::vector<DistributorStep> local_distributor_steps(const SourceFacts& f) {
  const auto state = distributor_state(f);
  if (state != DistributorState::missing && state != DistributorState::local_incomplete) return {};
  const auto server = tsql::quote_literal(f.server_name);
  const auto database = tsql::quote_literal(k_distribution_database);
  std::vector<DistributorStep> steps;
  if (state == DistributorState::missing) {
    const auto add = fmt::format("EXEC sp_adddistributor @distributor = {}, @password = ", server);
    steps.push_back({add + "?", add + "N'<password, not shown>'", true});
  }
  if (state == DistributorState::missing || !f.distributor.database_installed) {
    const auto sql = fmt::format("EXEC sp_adddistributiondb @database = {}", database);
    steps.push_back({sql, sql, false});
  }
  if (state == DistributorState::missing || !f.distributor.is_publisher) {
    const auto sql = fmt::format("EXEC sp_adddistpublisher @publisher = {}, @distribution_db = {}", server, database);
    steps.push_back({sql, sql, false});
  }
  return steps;
}

std::string local_distributor_script(const SourceFacts& f) {
  std::string out;
  for (const auto& step : local_distributor_steps(f)) {
    if (!out.empty()) out += "; ";
    out += step.takes_password ? step.sql.substr(0, step.sql.size() - 1) + "N'<a strong password>'" : step.sql;
  }
  return out;
}

}  // namespace m2r
