// Fuzzes Lsn::parse: it must never crash, and whatever it accepts must round-trip
// through every form it prints.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/lsn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lsn = m2r::Lsn::parse(text);
  if (!lsn) {
    if (lsn.error().message.empty() || lsn.error().hint.empty()) std::abort();
    return 0;
  }
  for (const auto& form : {lsn->to_hex(), lsn->to_numeric(), lsn->to_binary()}) {
    const auto again = m2r::Lsn::parse(form);
    if (!again || *again != *lsn) std::abort();
  }
  return 0;
}
