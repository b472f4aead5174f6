#include "engine/parse_util.hpp"

#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

void unsupported(const std::string& what) {
  raise(40517, 16, "Keyword or statement option '" + what + "' is not supported in this version of SQL Server.");
}

void syntax_near(const std::vector<Token>& t, std::size_t i) {
  raise(102, 15, "Incorrect syntax near '" + (i < t.size() ? t[i].text : std::string("end of statement")) + "'.");
}

std::size_t match_paren(const std::vector<Token>& t, std::size_t open, std::size_t end) {
  int depth = 0;
  for (std::size_t i = open; i < end; ++i) {
    if (is_sym(t[i], "(")) ++depth;
    else if (is_sym(t[i], ")") && --depth == 0) return i;
  }
  syntax_near(t, open);
}

ObjName parse_name(const std::vector<Token>& t, std::size_t& i) {
  std::vector<std::string> parts;
  if (i >= t.size() || !t[i].is_name()) syntax_near(t, i);
  parts.push_back(t[i++].text);
  while (i + 1 < t.size() && is_sym(t[i], ".")) {
    if (t[i + 1].is_name()) { parts.push_back(t[i + 1].text); i += 2; }
    else if (is_sym(t[i + 1], ".")) { parts.push_back(""); i += 1; }
    else break;
  }
  ObjName n;
  n.name = parts.back();
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) n.schema = parts[parts.size() - 2];
  if (parts.size() >= 3) n.db = parts[parts.size() - 3];
  return n;
}

std::vector<std::string> name_list(const std::vector<Token>& t, std::size_t open, std::size_t close) {
  std::vector<std::string> out;
  for (std::size_t k = open + 1; k < close; ++k) {
    if (t[k].is_name() && !t[k].is("ASC") && !t[k].is("DESC")) out.push_back(t[k].text);
  }
  return out;
}

std::string type_decl_text(const std::vector<Token>& t, std::size_t& i) {
  std::string decl = t[i].text;
  ++i;
  if (i < t.size() && is_sym(t[i], "(")) {
    std::size_t close = match_paren(t, i);
    decl += "(";
    for (std::size_t k = i + 1; k < close; ++k) decl += lower(t[k].text) == "max" ? "-1" : t[k].text;
    decl += ")";
    i = close + 1;
  }
  return lower(decl);
}

std::string value_str(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

}  // namespace sandbox::engine
