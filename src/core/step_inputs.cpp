#include "core/step_inputs.hpp"

#include <map>

#include <fmt/format.h>

#include "core/plan.hpp"

namespace m2r {

nlohmann::json step_config_inputs(const MigrationConfig& c, const std::string& step,
                                  const std::string& table_mappings_digest) {
  using nlohmann::json;
  if (step == steps::backup) {
    return {{"[source] server", c.source.server},
            {"[source] port", c.source.port},
            {"[source] database", c.source.database},
            {"[source] backup_dir_server", c.source.backup_dir_server},
            {"[source] backup_dir_local", c.source.backup_dir_local},
            {"[source] backup_stripes", c.source.backup_stripes},
            {"[source] compression", c.source.compression}};
  }
  if (step == steps::capture_lsn) return {{"[source] database", c.source.database}};
  if (step == steps::upload) {
    return {{"[s3] bucket", c.s3.bucket}, {"[s3] prefix", c.s3.prefix}, {"[s3] region", c.s3.region}};
  }
  if (step == steps::restore) {
    return {{"[target] rds_instance", c.target.rds_instance}, {"[target] database", c.target.database}};
  }
  if (step == steps::prepare_target) {
    return {{"[target] rds_instance", c.target.rds_instance}, {"[target] database", c.target.database}};
  }
  if (step == steps::replicate) {
    json j = {{"[dms] replication_instance", c.dms.replication_instance},
              {"[dms] source_endpoint", c.dms.source_endpoint},
              {"[dms] target_endpoint", c.dms.target_endpoint},
              {"[dms] task_id", c.dms.task_id},
              {"[dms] table_mappings", c.dms.table_mappings},
              // The task's TargetMetadata follows it (core/lob_mode.hpp).
              {"[dms] lob_max_size_kb", c.dms.lob_max_size_kb}};
    if (!table_mappings_digest.empty()) j["[dms] table_mappings (file content sha256)"] = table_mappings_digest;
    return j;
  }
  return json::object();
}

std::vector<ConfigChange> config_changes(const std::vector<RecordedStep>& recorded,
                                         const std::vector<std::pair<std::string, nlohmann::json>>& current) {
  std::map<std::string, const RecordedStep*> by_name;
  for (const auto& r : recorded) by_name[r.name] = &r;
  std::vector<ConfigChange> changes;
  for (const auto& [step, now] : current) {
    const auto it = by_name.find(step);
    if (it == by_name.end() || !it->second->done || !it->second->inputs.is_object() || it->second->inputs.empty()) {
      continue;
    }
    const auto& then = it->second->inputs;
    for (auto field = now.begin(); field != now.end(); ++field) {
      const auto old = then.find(field.key());
      // A key this version depends on but the record lacks (a newer version's input) is not a change.
      if (old == then.end() || *old == field.value()) continue;
      changes.push_back({step, field.key(), *old, field.value()});
    }
  }
  return changes;
}

std::string describe_changes(const std::vector<ConfigChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {} -> {} (step {})", c.key, c.recorded.dump(), c.current.dump(), c.step);
  }
  return out;
}

}  // namespace m2r
