// Fuzzes the configuration loader: any text gives a config or an error with a position.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = m2r::parse_config(text, "fuzz.toml");
  if (!config && config.error().message.rfind("fuzz.toml:", 0) != 0) std::abort();
  return 0;
}
