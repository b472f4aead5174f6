#pragma once
// Checked reads of JSON that came from outside this process: a step's outputs in the journal
// (a hand-edited or damaged file), an API's answer. nlohmann's at(), get<T>() and value() throw
// on a missing key or a wrong type; these return an Error that names where the JSON came
// from, the key, what was expected and what was found, and the fix.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace m2r {

// Where a JSON object came from, for the error: "the journal's outputs of step 'backup'".
struct JsonSource {
  std::string what;
  std::string fix;
  ErrorKind kind = ErrorKind::journal_damaged;
};

// A journaled step's outputs (or inputs): damaged means exit code journal_damaged, and the fix
// is to restore the journal or start over with a new one.
JsonSource journal_outputs(const std::string& step);

// The JSON type's name as the errors say it ("a string", "an array", "missing").
std::string json_kind(const nlohmann::json* value);

// Required fields: missing or of another type is an error.
Expected<std::string> string_field(const nlohmann::json& object, std::string_view key, const JsonSource& source);
Expected<std::int64_t> int_field(const nlohmann::json& object, std::string_view key, const JsonSource& source);
Expected<double> number_field(const nlohmann::json& object, std::string_view key, const JsonSource& source);
Expected<bool> bool_field(const nlohmann::json& object, std::string_view key, const JsonSource& source);
Expected<std::vector<std::string>> string_list_field(const nlohmann::json& object, std::string_view key,
                                                     const JsonSource& source);
// An object or an array, as is.
Expected<nlohmann::json> object_field(const nlohmann::json& object, std::string_view key, const JsonSource& source);

// Optional fields: absent (or null) gives the fallback; present with another type is an error
// (a value that is there but wrong is damage, not absence).
Expected<std::string> string_field_or(const nlohmann::json& object, std::string_view key, std::string fallback,
                                      const JsonSource& source);
Expected<std::int64_t> int_field_or(const nlohmann::json& object, std::string_view key, std::int64_t fallback,
                                    const JsonSource& source);
Expected<double> number_field_or(const nlohmann::json& object, std::string_view key, double fallback,
                                 const JsonSource& source);
Expected<bool> bool_field_or(const nlohmann::json& object, std::string_view key, bool fallback,
                             const JsonSource& source);
Expected<nlohmann::json> object_field_or(const nlohmann::json& object, std::string_view key,
                                         const JsonSource& source);  // {} when absent

}  // namespace m2r
