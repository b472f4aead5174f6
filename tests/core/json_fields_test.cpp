#include "core/json_fields.hpp"

#include <gtest/gtest.h>

using namespace m2r;
using nlohmann::json;

namespace {
const JsonSource k_backup = journal_outputs("backup");
}

TEST(JsonFieldsTest, ReadsFieldsOfTheExpectedType) {
  const json j = {{"name", "a"}, {"n", 3}, {"x", 1.5}, {"ok", true}, {"files", {"f1", "f2"}}, {"o", {{"k", 1}}}};
  EXPECT_EQ(string_field(j, "name", k_backup).value(), "a");
  EXPECT_EQ(int_field(j, "n", k_backup).value(), 3);
  EXPECT_DOUBLE_EQ(number_field(j, "x", k_backup).value(), 1.5);
  EXPECT_TRUE(bool_field(j, "ok", k_backup).value());
  EXPECT_EQ(string_list_field(j, "files", k_backup).value(), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(object_field(j, "o", k_backup).value()["k"], 1);
}

TEST(JsonFieldsTest, AMissingKeyNamesTheStepTheKeyAndWhatWasExpected) {
  // Given a backup record without server_files, the error should say which step, which key and what type.
  const auto e = string_list_field(json::object(), "server_files", k_backup);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::journal_damaged);
  EXPECT_EQ(e.error().message,
            "the journal's record of step 'backup': \"server_files\" should be a non-empty array of strings, found "
            "nothing (the key is missing)");
  EXPECT_NE(e.error().hint.find("move it aside"), std::string::npos);
}

TEST(JsonFieldsTest, AWrongTypeSaysWhatWasFound) {
  // Given a hand edit that turned a list into a number, the error should show the number.
  const auto e = string_list_field(json{{"server_files", 42}}, "server_files", k_backup);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("found a number (42)"), std::string::npos) << e.error().message;
  const auto item = string_list_field(json{{"server_files", {"a", 7}}}, "server_files", k_backup);
  ASSERT_FALSE(item);
  EXPECT_NE(item.error().message.find("\"server_files\"[1] should be a string, found a number (7)"), std::string::npos);
  EXPECT_FALSE(string_field(json{{"k", 1}}, "k", k_backup));
  EXPECT_FALSE(int_field(json{{"k", "1"}}, "k", k_backup));
  EXPECT_FALSE(int_field(json{{"k", 1.5}}, "k", k_backup));
  EXPECT_FALSE(bool_field(json{{"k", 1}}, "k", k_backup));
  EXPECT_FALSE(number_field(json{{"k", "x"}}, "k", k_backup));
}

TEST(JsonFieldsTest, NotAnObjectIsAnErrorNotAnException) {
  // Given outputs that are not an object at all, every accessor should return an error.
  const json arr = json::array({1, 2});
  EXPECT_FALSE(string_field(arr, "k", k_backup));
  EXPECT_FALSE(string_field_or(arr, "k", "d", k_backup));
  EXPECT_FALSE(object_field_or(json("text"), "k", k_backup));
}

TEST(JsonFieldsTest, OptionalFieldsFallBackOnlyWhenAbsent) {
  // Given an optional key, absence or null gives the fallback, but a wrong type is still damage.
  EXPECT_EQ(string_field_or(json::object(), "k", "d", k_backup).value(), "d");
  EXPECT_EQ(string_field_or(json{{"k", nullptr}}, "k", "d", k_backup).value(), "d");
  EXPECT_EQ(int_field_or(json::object(), "k", 7, k_backup).value(), 7);
  EXPECT_FALSE(bool_field_or(json::object(), "k", false, k_backup).value());
  EXPECT_EQ(object_field_or(json::object(), "k", k_backup).value(), json::object());
  EXPECT_FALSE(string_field_or(json{{"k", 5}}, "k", "d", k_backup));
  EXPECT_FALSE(int_field_or(json{{"k", "5"}}, "k", 0, k_backup));
  EXPECT_FALSE(object_field_or(json{{"k", 5}}, "k", k_backup));
}
