#include "core/json_fields.hpp"

#include <fmt/format.h>

namespace m2r {

namespace {

using nlohmann::json;

const json* find(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

tl::unexpected<Error> wrong(const json& object, std::string_view key, const char* expected, const json* found,
                            const JsonSource& source) {
  const std::string where =
      object.is_object() ? fmt::format("\"{}\"", key) : fmt::format("\"{}\" (the value around it is {}, not an object)", key, json_kind(&object));
  return fail(source.kind, fmt::format("{}: {} should be {}, found {}", source.what, where, expected, json_kind(found)),
              source.fix);
}

bool absent(const json* value) { return value == nullptr || value->is_null(); }

}  // namespace

JsonSource journal_outputs(const std::string& step) {
  return {fmt::format("the journal's record of step '{}'", step),
          fmt::format("the journal was edited or damaged: restore it from a copy, or move it aside (or set "
                      "[migration] journal to a new file) and run again, which starts over from the backup; to redo "
                      "only '{}', restore a copy of the journal taken before it ran",
                      step),
          ErrorKind::journal_damaged};
}

std::string json_kind(const json* value) {
  if (value == nullptr) return "nothing (the key is missing)";
  switch (value->type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return fmt::format("a string ({})", value->dump());
    case json::value_t::boolean: return fmt::format("a boolean ({})", value->dump());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return fmt::format("a number ({})", value->dump());
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "a discarded value";
  }
  return "an unknown value";
}

Expected<std::string> string_field(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !v->is_string()) return wrong(object, key, "a string", v, source);
  return v->get<std::string>();
}

Expected<std::int64_t> int_field(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !v->is_number_integer()) return wrong(object, key, "an integer", v, source);
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return wrong(object, key, "an integer that fits 64 bits", v, source);
  }
  return v->get<std::int64_t>();
}

Expected<double> number_field(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !v->is_number()) return wrong(object, key, "a number", v, source);
  return v->get<double>();
}

Expected<bool> bool_field(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !v->is_boolean()) return wrong(object, key, "true or false", v, source);
  return v->get<bool>();
}

Expected<std::vector<std::string>> string_list_field(const json& object, std::string_view key,
                                                     const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !v->is_array() || v->empty()) return wrong(object, key, "a non-empty array of strings", v, source);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string()) {
      return fail(source.kind,
                  fmt::format("{}: \"{}\"[{}] should be a string, found {}", source.what, key, i, json_kind(&item)),
                  source.fix);
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Expected<json> object_field(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (v == nullptr || !(v->is_object() || v->is_array())) return wrong(object, key, "an object or array", v, source);
  return *v;
}

Expected<std::string> string_field_or(const json& object, std::string_view key, std::string fallback,
                                      const JsonSource& source) {
  if (absent(find(object, key)) && (object.is_object() || object.is_null())) return fallback;
  return string_field(object, key, source);
}

Expected<std::int64_t> int_field_or(const json& object, std::string_view key, std::int64_t fallback,
                                    const JsonSource& source) {
  if (absent(find(object, key)) && (object.is_object() || object.is_null())) return fallback;
  return int_field(object, key, source);
}

Expected<double> number_field_or(const json& object, std::string_view key, double fallback, const JsonSource& source) {
  if (absent(find(object, key)) && (object.is_object() || object.is_null())) return fallback;
  return number_field(object, key, source);
}

Expected<bool> bool_field_or(const json& object, std::string_view key, bool fallback, const JsonSource& source) {
  if (absent(find(object, key)) && (object.is_object() || object.is_null())) return fallback;
  return bool_field(object, key, source);
}

Expected<json> object_field_or(const json& object, std::string_view key, const JsonSource& source) {
  const json* v = find(object, key);
  if (absent(v) && (object.is_object() || object.is_null())) return json::object();
  if (v == nullptr || !v->is_object()) return wrong(object, key, "an object", v, source);
  return *v;
}

}  // namespace m2r
