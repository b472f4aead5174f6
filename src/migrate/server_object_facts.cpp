#include "migrate/server_object_facts.hpp"

#include <map>

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

namespace {

Expected<mssql::QueryResult> read(mssql::SqlSession& s, const std::string& sql) {
  return s.query(sql, {}, {.idempotent = mssql::Idempotent::yes});
}
// A cell as text; "" when NULL or absent (these facts are best effort).
std::string text(const mssql::QueryResult& r, const char* column, std::size_t row) {
  auto v = r.first().value(row, column);
  return v && !v->is_null() ? v->to_text() : "";
}
int number(const mssql::QueryResult& r, const char* column, std::size_t row, int def = 0) {
  auto v = r.first().value(row, column);
  if (!v || v->is_null()) return def;
  auto n = v->as_int64();
  return n ? static_cast<int>(*n) : def;
}

std::string quoted_login(const std::string& login) {
  auto q = tsql::quote_name(login.empty() ? "<the check's login>" : login);
  return q ? *q : "[" + login + "]";
}

void read_agent_jobs(mssql::SqlSession& s, const std::string& login, ServerObjectFacts& f) {
  const std::string user = quoted_login(login);
  const Unreadable needs{"", fmt::format("let the login read the Agent's tables in msdb: USE msdb; CREATE USER {0} FOR LOGIN {0}; "
                                         "GRANT SELECT ON dbo.sysjobs TO {0}; GRANT SELECT ON dbo.sysjobsteps TO {0}; "
                                         "GRANT SELECT ON dbo.sysjobschedules TO {0}; GRANT SELECT ON dbo.sysschedules TO {0}",
                                         user)};
  auto jobs = read(s, "SELECT job_id, name, enabled, description, start_step_id FROM msdb.dbo.sysjobs ORDER BY name");
  auto steps = read(s, "SELECT job_id, step_id, step_name, subsystem, command, database_name, on_success_action, "
                       "on_success_step_id, on_fail_action, on_fail_step_id, retry_attempts, retry_interval "
                       "FROM msdb.dbo.sysjobsteps ORDER BY job_id, step_id");
  auto schedules = read(s, "SELECT js.job_id, sc.name, sc.enabled, sc.freq_type, sc.freq_interval, sc.freq_subday_type, "
                           "sc.freq_subday_interval, sc.freq_relative_interval, sc.freq_recurrence_factor, "
                           "sc.active_start_date, sc.active_end_date, sc.active_start_time, sc.active_end_time "
                           "FROM msdb.dbo.sysjobschedules AS js JOIN msdb.dbo.sysschedules AS sc "
                           "ON sc.schedule_id = js.schedule_id ORDER BY js.job_id, sc.name");
  for (const auto* r : {&jobs, &steps, &schedules}) {
    if (!*r) {
      f.agent_unreadable = needs;
      f.agent_unreadable->error = r->error().message;
      return;
    }
  }
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < jobs->rows().size(); ++i) {
    AgentJob j;
    j.name = text(*jobs, "name", i);
    j.enabled = number(*jobs, "enabled", i, 1) != 0;
    j.description = text(*jobs, "description", i);
    j.start_step_id = number(*jobs, "start_step_id", i, 1);
    by_id[text(*jobs, "job_id", i)] = f.jobs.size();
    f.jobs.push_back(std::move(j));
  }
  for (std::size_t i = 0; i < steps->rows().size(); ++i) {
    auto it = by_id.find(text(*steps, "job_id", i));
    if (it == by_id.end()) continue;
    AgentJobStep st;
    st.step_id = number(*steps, "step_id", i, 1);
    st.name = text(*steps, "step_name", i);
    st.subsystem = text(*steps, "subsystem", i);
    st.command = text(*steps, "command", i);
    st.database_name = text(*steps, "database_name", i);
    st.on_success_action = number(*steps, "on_success_action", i, 1);
    st.on_success_step_id = number(*steps, "on_success_step_id", i);
    st.on_fail_action = number(*steps, "on_fail_action", i, 2);
    st.on_fail_step_id = number(*steps, "on_fail_step_id", i);
    st.retry_attempts = number(*steps, "retry_attempts", i);
    st.retry_interval = number(*steps, "retry_interval", i);
    f.jobs[it->second].steps.push_back(std::move(st));
  }
  for (std::size_t i = 0; i < schedules->rows().size(); ++i) {
    auto it = by_id.find(text(*schedules, "job_id", i));
    if (it == by_id.end()) continue;
    AgentJobSchedule sc;
    sc.name = text(*schedules, "name", i);
    sc.enabled = number(*schedules, "enabled", i, 1) != 0;
    sc.freq_type = number(*schedules, "freq_type", i, 1);
    sc.freq_interval = number(*schedules, "freq_interval", i);
    sc.freq_subday_type = number(*schedules, "freq_subday_type", i);
    sc.freq_subday_interval = number(*schedules, "freq_subday_interval", i);
    sc.freq_relative_interval = number(*schedules, "freq_relative_interval", i);
    sc.freq_recurrence_factor = number(*schedules, "freq_recurrence_factor", i);
    sc.active_start_date = number(*schedules, "active_start_date", i);
    sc.active_end_date = number(*schedules, "active_end_date", i);
    sc.active_start_time = number(*schedules, "active_start_time", i);
    sc.active_end_time = number(*schedules, "active_end_time", i);
    f.jobs[it->second].schedules.push_back(std::move(sc));
  }
}

std::vector<ConfigurationValue> configuration_of(const mssql::QueryResult& r) {
  std::vector<ConfigurationValue> out;
  for (std::size_t i = 0; i < r.rows().size(); ++i) {
    auto v = r.first().value(i, "value_in_use");
    auto n = v ? v->as_int64() : Expected<std::int64_t>(fail(ErrorKind::fatal, "no value_in_use"));
    if (!n) continue;
    out.push_back({text(r, "name", i), static_cast<long long>(*n)});
  }
  return out;
}

const char* k_configuration_sql = "SELECT name, CAST(value_in_use AS bigint) AS value_in_use FROM sys.configurations ORDER BY name";

}  // namespace

ServerObjectFacts gather_server_object_facts(mssql::SqlSession& s, const std::string& login) {
  ServerObjectFacts f;
  read_agent_jobs(s, login, f);
  // sys.servers / sys.credentials / sys.server_triggers show a login only what it may see
  // (metadata visibility): without VIEW ANY DEFINITION they may answer with fewer rows, not an error.
  const Unreadable catalog_needs{"", fmt::format("GRANT VIEW ANY DEFINITION TO {}", quoted_login(login))};
  auto linked = read(s, "SELECT name, product, provider, data_source FROM sys.servers WHERE is_linked = 1 ORDER BY name");
  auto credentials = read(s, "SELECT name, credential_identity FROM sys.credentials WHERE name NOT LIKE N'##%' ORDER BY name");
  auto triggers = read(s, "SELECT object_id, name, is_disabled FROM sys.server_triggers ORDER BY name");
  for (const auto* r : {&linked, &credentials, &triggers}) {
    if (!*r) {
      f.catalog_unreadable = catalog_needs;
      f.catalog_unreadable->error = r->error().message;
      break;
    }
  }
  if (!f.catalog_unreadable) {
    for (std::size_t i = 0; i < linked->rows().size(); ++i) {
      f.linked_servers.push_back({text(*linked, "name", i), text(*linked, "product", i), text(*linked, "provider", i),
                                  text(*linked, "data_source", i)});
    }
    for (std::size_t i = 0; i < credentials->rows().size(); ++i) {
      f.credentials.push_back({text(*credentials, "name", i), text(*credentials, "credential_identity", i)});
    }
    // The events are a detail of the finding: without them the triggers are still listed.
    auto events = read(s, "SELECT object_id, type_desc FROM sys.server_trigger_events ORDER BY object_id, type_desc");
    for (std::size_t i = 0; i < triggers->rows().size(); ++i) {
      ServerTrigger t;
      t.name = text(*triggers, "name", i);
      t.disabled = number(*triggers, "is_disabled", i) != 0;
      const std::string id = text(*triggers, "object_id", i);
      for (std::size_t k = 0; events && k < events->rows().size(); ++k) {
        if (text(*events, "object_id", k) == id) t.events.push_back(text(*events, "type_desc", k));
      }
      f.triggers.push_back(std::move(t));
    }
  }
  if (auto config = read(s, k_configuration_sql)) {
    f.configuration = configuration_of(*config);
  } else {
    // Every login may read sys.configurations (public): a failure here is the connection's.
    f.configuration_unreadable = Unreadable{config.error().message, "check that the source answers queries"};
  }
  return f;
}

TargetConfiguration gather_target_configuration(mssql::SqlSession& target) {
  TargetConfiguration t;
  if (auto config = read(target, k_configuration_sql)) t.configuration = configuration_of(*config);
  else t.unknown_because = config.error().message;
  return t;
}

}  // namespace m2r
