#include <chrono>
#include <cstdlib>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aws/aws_context.hpp"
#include "aws/dms_client.hpp"
#include "cli/commands.hpp"
#include "cli/lifecycle_support.hpp"
#include "core/plan.hpp"
#include "migrate/aws_facts.hpp"
#include "migrate/connections.hpp"
#include "migrate/config_file.hpp"

namespace m2r::cli {

std::function<int(const GlobalOptions&)> attach_plan(CLI::App& app) {
  auto config_path = std::make_shared<std::string>("mssql2rds.toml");
  app.add_option("-c,--config", *config_path, "the migration's configuration file")->capture_default_str();
  return [config_path](const GlobalOptions& global) {
    auto config = load_config_file(*config_path);
    if (!config) return report_error(global, config.error());
    auto mappings = load_table_mappings(*config);
    if (!mappings) return report_error(global, mappings.error());

    PlanInputs in;
    in.config = *config;
    in.stamp = fmt::format("{:%Y%m%dT%H%M%S}", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    in.table_mappings = *mappings;
    std::string arn_note;
    // Real ARNs when DMS answers; read-only Describe calls change nothing.
    auto aws = aws::AwsContext::from_environment({.region = config->s3.region});
    if (aws) {
      aws::DmsClient dms(*aws);
      if (auto arns = resolve_dms_arns(dms, config->dms)) {
        in.replication_instance_arn = arns->replication_instance;
        in.source_endpoint_arn = arns->source_endpoint;
        in.target_endpoint_arn = arns->target_endpoint;
      } else {
        arn_note = "DMS ARNs not resolved: " + arns.error().message;
      }
    } else {
      arn_note = "AWS not reachable: " + aws.error().message;
    }
    // The backup statement fits the source's edition (no COMPRESSION on Express and Web): read
    // it when the source answers; otherwise the statement is shown as configured.
    std::string edition_note;
    if (auto connections = default_connections(*config)) {
      if (auto source = connections->source()) {
        if (auto e = (*source)->query(edition_query(), {}, {.idempotent = mssql::Idempotent::yes}); e && !e->rows().empty()) {
          const auto text = e->first().value(0, "edition");
          const auto engine = e->first().value(0, "engine_edition");
          in.source_edition = edition_kind(text && !text->is_null() ? text->to_text() : "",
                                           engine && !engine->is_null() ? std::atoi(engine->to_text().c_str()) : 0);
        }
      } else {
        edition_note = "source not reached (" + source.error().message +
                       "): the backup is shown as configured; run leaves COMPRESSION out on Express and Web";
      }
    }
    if (!edition_note.empty()) arn_note += (arn_note.empty() ? "" : "; ") + edition_note;
    if (in.replication_instance_arn.empty()) {
      in.replication_instance_arn = "<ARN of " + config->dms.replication_instance + ">";
      in.source_endpoint_arn = "<ARN of " + config->dms.source_endpoint + ">";
      in.target_endpoint_arn = "<ARN of " + config->dms.target_endpoint + ">";
    }
    print_plan(global, build_plan(in), "plan",
               fmt::format("Plan for migration '{}' (journal {}). Nothing has been changed.", config->name,
                           config->journal),
               arn_note, {{"journal", config->journal}});
    return 0;
  };
}

}  // namespace m2r::cli
