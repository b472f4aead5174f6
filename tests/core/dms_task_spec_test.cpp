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
