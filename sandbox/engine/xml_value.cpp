#include "engine/xml_value.hpp"

#include <pugixml.hpp>

namespace sandbox::engine {

namespace {

// SQL Server's "line L, character C": C counts characters (not bytes) from the line's start.
std::string position_text(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  int line = 1, character = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (ch == '\n') {
      ++line;
      character = 0;
    } else if ((ch & 0xC0) != 0x80) {
      ++character;
    }
  }
  return "XML parsing: line " + std::to_string(line) + ", character " + std::to_string(std::max(character, 1)) + ", ";
}

Message parse_message(int number, const std::string& text) {
  Message m;
  m.number = number;
  m.severity = 16;
  m.state = 1;
  m.text = text;
  return m;
}

}  // namespace

std::optional<Message> xml_parse_error(const std::string& text) {
  pugi::xml_document doc;
  const unsigned flags = pugi::parse_default | pugi::parse_fragment | pugi::parse_declaration | pugi::parse_doctype |
                         pugi::parse_pi | pugi::parse_comments;
  const pugi::xml_parse_result r = doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8);
  if (r) return std::nullopt;
  const auto offset = static_cast<std::size_t>(r.offset);
  // pugixml reports a document cut short as the construct it was in; SQL Server as the end
  // of the input (9400), its position the input's end.
  const bool ran_out = r.status == pugi::status_end_element_mismatch ? text.find("</") == std::string::npos
                                                                       : text.find('>', offset) == std::string::npos;
  if (ran_out) return parse_message(9400, position_text(text, text.size()) + "unexpected end of input");
  switch (r.status) {
    case pugi::status_end_element_mismatch:
      return parse_message(9436, position_text(text, offset + 1) + "end tag does not match start tag");
    case pugi::status_bad_attribute:
      return parse_message(9413, position_text(text, offset + 1) + "A string literal was expected");
    case pugi::status_unrecognized_tag:
    case pugi::status_bad_start_element:
    case pugi::status_bad_end_element:
      return parse_message(9455, position_text(text, offset + 1) + "illegal qualified name character");
    default:
      // Comments, CDATA, processing instructions, DOCTYPE: the sandbox does not tell SQL
      // Server's finer messages apart.
      return parse_message(9400, position_text(text, offset + 1) + "unexpected end of input");
  }
}

}  // namespace sandbox::engine
