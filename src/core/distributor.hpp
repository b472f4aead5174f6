#pragma once
// The source's Distributor, judged from what sp_get_distributor says (docs/facts.md §13): a
// self-managed source must have one before a database can be published (Msg 20028 otherwise),
// and the DMS guide has it configured first. Pure: the statements that configure a local one
// are built here, run by migrate/source_capture_fix.
#include <string>
#include <vector>

#include "core/checks.hpp"

namespace m2r {

enum class DistributorState {
  local_ready,       // this server is its own Distributor, with a distribution database, and registered as its Publisher
  local_incomplete,  // a local Distributor some of whose steps are missing
  remote,            // another server distributes: publishing uses it, and we never touch it
  missing,           // none configured (or none this login may see)
  unknown,           // sp_get_distributor could not be run
};

DistributorState distributor_state(const SourceFacts& facts);

// The database "Configure publishing and distribution" creates and the one --fix makes.
inline constexpr const char* k_distribution_database = "distribution";

// One statement of the set-up: `sql` with a `?` where the distributor_admin password goes
// (bound as a parameter, never written into the text), `shown` with it redacted.
struct DistributorStep {
  std::string sql;
  std::string shown;
  bool takes_password = false;
};

// The steps still missing for a local Distributor on `facts.server_name`, in the documented
// order: sp_adddistributor, sp_adddistributiondb, sp_adddistpublisher. Empty unless the
// state is missing or local_incomplete.
std::vector<DistributorStep> local_distributor_steps(const SourceFacts& facts);

// The same steps as T-SQL for a person to run (check's fix text).
std::string local_distributor_script(const SourceFacts& facts);

}  // namespace m2r
