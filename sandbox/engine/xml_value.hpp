#pragma once
// The xml type's one rule the sandbox keeps: a value is well-formed XML (an untyped xml
// column or CAST(... AS xml) takes documents and fragments, as SQL Server does). The text is
// stored as given; SQL Server re-serializes it (`<a></a>` reads back as `<a/>`), the sandbox
// does not (README.md "Types and values").
#include <optional>
#include <string>

#include "engine/api.hpp"

namespace sandbox::engine {

// The error SQL Server raises for malformed XML ("XML parsing: line 1, character 3,
// unexpected end of input", Msg 9400 and the 94xx family), or nullopt when `text` parses.
std::optional<Message> xml_parse_error(const std::string& text);

}  // namespace sandbox::engine
