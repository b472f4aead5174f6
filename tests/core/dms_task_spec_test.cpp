#include "core/dms_task_spec.hpp"

#include <gtest/gtest.h>

using namespace m2r;

TEST(DmsTaskSpecTest, CreateBodyUsesHexStartAndCdcType) {
  // Given a start LSN, the request should carry the zero-padded hex form and nothing else.
  ReplicationTaskRequest r{"sales-cdc", "arn:src", "arn:tgt", "arn:ri", table_mappings_json("include-all").value(),
                           Lsn(0x25, 0xb8f, 4)};
  const auto body = create_replication_task_body(r);
  EXPECT_EQ(body["CdcStartPosition"], "00000025:00000b8f:0004");
  EXPECT_EQ(body["MigrationType"], "cdc");
  EXPECT_FALSE(body.contains("CdcStartTime"));
  EXPECT_TRUE(body["TableMappings"].is_string()) << "TableMappings is a JSON string, not an object (docs/facts.md §4)";
  const auto settings = nlohmann::json::parse(body["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["FullLoadSettings"]["TargetTablePrepMode"], "DO_NOTHING");
  EXPECT_EQ(settings["ErrorBehavior"]["ApplyErrorInsertPolicy"], "INSERT_RECORD");
  // UPDATE_RECORD would turn off LOB replication for the whole task (docs/facts.md §2, §12).
  EXPECT_EQ(settings["ErrorBehavior"]["ApplyErrorUpdatePolicy"], "LOG_ERROR");
}

TEST(DmsTaskSpecTest, MappingsFileIsValidated) {
  EXPECT_TRUE(table_mappings_json(R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"a",
      "object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})"));
  EXPECT_FALSE(table_mappings_json("not json"));
  EXPECT_FALSE(table_mappings_json(R"({"rules":[]})"));
  EXPECT_FALSE(table_mappings_json(R"({"rules":[{"rule-type":"transformation","rule-id":"1","rule-name":"a"}]})"));
  EXPECT_FALSE(table_mappings_json(R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"a"}]})"));
}

TEST(DmsTaskSpecTest, TargetMetadataCarriesTheChosenLobMode) {
  // Given a limited-mode decision of 1024 KB, the task settings should say so explicitly, so
  // that DMS's 32 KB default never applies; a full-mode decision should turn limited mode off.
  ReplicationTaskRequest r{"sales-cdc", "arn:src", "arn:tgt", "arn:ri", table_mappings_json("include-all").value(),
                           Lsn(0x25, 0xb8f, 4)};
  r.lobs = decide_lob_mode({{{{"dbo", "Docs"}, "body", "nvarchar"}, 412 * 1024}});
  auto settings = nlohmann::json::parse(create_replication_task_body(r)["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["SupportLobs"], true);
  EXPECT_EQ(settings["TargetMetadata"]["LimitedSizeLobMode"], true);
  EXPECT_EQ(settings["TargetMetadata"]["FullLobMode"], false);
  EXPECT_EQ(settings["TargetMetadata"]["LobMaxSize"], 824);

  r.lobs = decide_lob_mode({{{{"dbo", "Docs"}, "body", "varbinary"}, std::int64_t{200} * 1024 * 1024}});
  settings = nlohmann::json::parse(create_replication_task_body(r)["ReplicationTaskSettings"].get<std::string>());
  EXPECT_EQ(settings["TargetMetadata"]["FullLobMode"], true);
  EXPECT_EQ(settings["TargetMetadata"]["LimitedSizeLobMode"], false);
  EXPECT_EQ(settings["TargetMetadata"]["LobChunkSize"], 64);
  EXPECT_EQ(settings["ErrorBehavior"]["ApplyErrorUpdatePolicy"], "LOG_ERROR");
}

TEST(DmsTaskSpecTest, TableMappingsSelectIncludesWildcardsAndExcludes) {
  // Given an include of dbo.% and an exclude of dbo.Audit%, dbo.Docs should be selected, dbo.AuditLog
  // and sales.Docs not; include-all should select everything, names compared without case.
  const std::string rules = R"({"rules":[
    {"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"},
    {"rule-type":"selection","rule-id":"2","rule-name":"2","object-locator":{"schema-name":"dbo","table-name":"Audit%"},"rule-action":"exclude"}]})";
  EXPECT_TRUE(table_mappings_select(rules, "dbo", "Docs"));
  EXPECT_TRUE(table_mappings_select(rules, "DBO", "docs"));
  EXPECT_FALSE(table_mappings_select(rules, "dbo", "AuditLog"));
  EXPECT_FALSE(table_mappings_select(rules, "sales", "Docs"));
  const std::string all = table_mappings_json("include-all").value();
  EXPECT_TRUE(table_mappings_select(all, "sales", "Docs"));
  EXPECT_TRUE(table_mappings_select(R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
      "object-locator":{"schema-name":"s%a","table-name":"%x%"},"rule-action":"include"}]})", "sqa", "abxcd"));
  EXPECT_FALSE(table_mappings_select(R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
      "object-locator":{"schema-name":"s%a","table-name":"%x%"},"rule-action":"include"}]})", "sqab", "abxcd"));
}
