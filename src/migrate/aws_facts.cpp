#include "migrate/aws_facts.hpp"

#include <chrono>

#include <fmt/format.h>

namespace m2r {

namespace {

bool is_arn(const std::string& s) { return s.rfind("arn:", 0) == 0; }

Expected<aws::DmsEndpoint> find_endpoint(aws::DmsClient& dms, const std::string& id_or_arn, const char* which) {
  // DMS answers ResourceNotFoundFault when no endpoint matches the filter.
  auto found = dms.describe_endpoints({{is_arn(id_or_arn) ? "endpoint-arn" : "endpoint-id", {id_or_arn}}});
  if (!found && found.error().kind != ErrorKind::not_found) return tl::unexpected(found.error());
  if (!found || found->empty()) {
    return fail(ErrorKind::not_found, fmt::format("no DMS {} endpoint '{}'", which, id_or_arn),
                fmt::format("check [dms] {}_endpoint; `aws dms describe-endpoints` lists them", which));
  }
  return found->front();
}

}  // namespace

int major_from_engine_version(const std::string& v) { return std::atoi(v.c_str()); }

Expected<aws::DmsConnection> test_dms_connection(aws::DmsClient& dms, const std::string& instance_arn,
                                                 const std::string& endpoint_arn, aws::Clock& clock,
                                                 std::chrono::seconds timeout, std::chrono::milliseconds poll) {
  auto started = dms.test_connection(instance_arn, endpoint_arn);
  // One test at a time per endpoint and instance: a running one is as good as ours.
  if (!started && started.error().message.find("already being tested") == std::string::npos)
    return tl::unexpected(started.error());
  aws::DmsConnection last;
  last.replication_instance_arn = instance_arn;
  last.endpoint_arn = endpoint_arn;
  last.status = "testing";
  const auto deadline = clock.now() + timeout;
  for (;;) {
    auto conns = dms.describe_connections({{"endpoint-arn", {endpoint_arn}}});
    if (!conns && conns.error().kind != ErrorKind::not_found) return tl::unexpected(conns.error());
    if (conns) {
      for (const auto& c : *conns)
        if (c.replication_instance_arn == instance_arn) last = c;
    }
    if (last.status != "testing" || clock.now() > deadline) return last;
    clock.sleep_for(poll);
  }
}

Expected<DmsArns> resolve_dms_arns(aws::DmsClient& dms, const DmsConfig& c) {
  DmsArns arns;
  auto instances = dms.describe_replication_instances(
      {{is_arn(c.replication_instance) ? "replication-instance-arn" : "replication-instance-id",
        {c.replication_instance}}});
  if (!instances && instances.error().kind != ErrorKind::not_found) return tl::unexpected(instances.error());
  if (!instances || instances->empty()) {
    return fail(ErrorKind::not_found, fmt::format("no DMS replication instance '{}'", c.replication_instance),
                "check [dms] replication_instance; `aws dms describe-replication-instances` lists them");
  }
  arns.replication_instance = instances->front().arn;
  arns.source_endpoint = M2R_TRY(find_endpoint(dms, c.source_endpoint, "source")).arn;
  arns.target_endpoint = M2R_TRY(find_endpoint(dms, c.target_endpoint, "target")).arn;
  return arns;
}

RdsFacts gather_rds_facts(aws::RdsClient& rds, const TargetConfig& target, const std::string& region) {
  RdsFacts f;
  f.instance_id = target.rds_instance;
  f.region = region;
  auto instance = rds.describe_db_instance(target.rds_instance);
  if (!instance) {
    if (instance.error().kind == ErrorKind::not_found) {
      f.reachable = true;
      return f;
    }
    f.error = instance.error().message + (instance.error().hint.empty() ? "" : " (" + instance.error().hint + ")");
    return f;
  }
  f.reachable = true;
  f.instance_exists = true;
  f.engine = instance->engine;
  f.engine_version = instance->engine_version;
  f.major_version = major_from_engine_version(instance->engine_version);
  f.status = instance->status;
  f.allocated_storage_gb = instance->allocated_storage;
  f.endpoint = fmt::format("{}:{}", instance->endpoint_address, instance->endpoint_port);
  for (const auto& membership : instance->option_groups) {
    auto groups = rds.describe_option_groups(membership.name);
    if (!groups || groups->empty()) continue;
    const auto* option = groups->front().option("SQLSERVER_BACKUP_RESTORE");
    if (!option) continue;
    f.option_group_has_backup_restore = true;
    f.option_group_name = membership.name;
    f.option_group_status = membership.status;
    f.iam_role_arn = option->setting("IAM_ROLE_ARN").value_or("");
    break;
  }
  if (f.option_group_name.empty() && !instance->option_groups.empty()) {
    f.option_group_name = instance->option_groups.front().name;
    f.option_group_status = instance->option_groups.front().status;
  }
  return f;
}

namespace {

DmsEndpointFacts endpoint_facts(aws::DmsClient& dms, const std::string& id_or_arn, const char* which) {
  DmsEndpointFacts e;
  e.identifier = id_or_arn;
  auto ep = find_endpoint(dms, id_or_arn, which);
  if (!ep) return e;
  e.exists = true;
  e.identifier = ep->identifier;
  e.engine = ep->engine_name;
  e.server = ep->server_name;
  e.port = ep->port;
  e.database = ep->database_name;
  return e;
}

void test_endpoint(aws::DmsClient& dms, const std::string& instance_arn, const std::string& endpoint_id,
                   DmsEndpointFacts& facts, aws::Clock& clock, int timeout_s) {
  auto eps = dms.describe_endpoints({{"endpoint-id", {endpoint_id}}});
  if (!eps || eps->empty()) return;
  auto tested = test_dms_connection(dms, instance_arn, eps->front().arn, clock, std::chrono::seconds(timeout_s));
  if (!tested) {
    facts.connection_status = "failed";
    facts.connection_message = tested.error().message;
    return;
  }
  facts.connection_status = tested->status;
  facts.connection_message = tested->last_failure_message;
}

}  // namespace

DmsFacts gather_dms_facts(aws::DmsClient& dms, const DmsConfig& c, bool test_connections, aws::Clock& clock,
                          int timeout_s) {
  DmsFacts f;
  auto instances = dms.describe_replication_instances(
      {{is_arn(c.replication_instance) ? "replication-instance-arn" : "replication-instance-id", {c.replication_instance}}});
  if (!instances && instances.error().kind != ErrorKind::not_found) {
    f.error = instances.error().message + (instances.error().hint.empty() ? "" : " (" + instances.error().hint + ")");
    return f;
  }
  f.reachable = true;
  if (instances && !instances->empty()) {
    f.instance_exists = true;
    f.instance_status = instances->front().status;
  }
  f.source = endpoint_facts(dms, c.source_endpoint, "source");
  f.target = endpoint_facts(dms, c.target_endpoint, "target");
  if (test_connections && f.instance_exists) {
    if (f.source.exists) test_endpoint(dms, instances->front().arn, f.source.identifier, f.source, clock, timeout_s);
    if (f.target.exists) test_endpoint(dms, instances->front().arn, f.target.identifier, f.target, clock, timeout_s);
  }
  auto tasks = dms.describe_replication_tasks({{"replication-task-id", {c.task_id}}});
  if (tasks && !tasks->empty()) {
    f.task_exists = true;
    f.task_status = tasks->front().status;
  }
  return f;
}

}  // namespace m2r
