#include "engine/edition.hpp"

#include <algorithm>
#include <cctype>

namespace sandbox {

std::optional<Edition> edition_from_name(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "express") return Edition::express;
  if (n == "web") return Edition::web;
  if (n == "standard") return Edition::standard;
  if (n == "enterprise") return Edition::enterprise;
  if (n == "developer") return Edition::developer;
  return std::nullopt;
}

const char* edition_name(Edition edition) {
  switch (edition) {
    case Edition::express: return "express";
    case Edition::web: return "web";
    case Edition::standard: return "standard";
    case Edition::enterprise: return "enterprise";
    case Edition::developer: return "developer";
  }
  return "developer";
}

namespace editions {

std::string property_text(Edition edition) {
  switch (edition) {
    case Edition::express: return "Express Edition (64-bit)";
    case Edition::web: return "Web Edition (64-bit)";
    case Edition::standard: return "Standard Edition (64-bit)";
    case Edition::enterprise: return "Enterprise Edition (64-bit)";
    case Edition::developer: return "Developer Edition (64-bit)";
  }
  return "Developer Edition (64-bit)";
}

int engine_edition(Edition edition) {
  switch (edition) {
    case Edition::express: return 4;
    case Edition::web: case Edition::standard: return 2;
    case Edition::enterprise: case Edition::developer: return 3;
  }
  return 3;
}

bool can_publish(Edition edition) { return edition != Edition::express && edition != Edition::web; }
bool has_cdc(Edition edition) { return edition != Edition::express && edition != Edition::web; }
bool has_backup_compression(Edition edition) { return edition != Edition::express && edition != Edition::web; }
bool has_agent(Edition edition) { return edition != Edition::express; }

}  // namespace editions
}  // namespace sandbox
