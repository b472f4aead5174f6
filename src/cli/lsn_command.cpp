#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/lsn.hpp"

namespace m2r::cli {

std::function<int(const GlobalOptions&)> attach_lsn(CLI::App& app) {
  auto value = std::make_shared<std::string>();
  app.add_option("value", *value,
                 "the LSN: fn_dblog hex 00000025:00000b8f:0004, numeric 37000000295900004 (or lsn:...), "
                 "or binary 0x0000002500000B8F0004")
      ->required();
  return [value](const GlobalOptions& global) {
    const auto lsn = Lsn::parse(*value);
    if (!lsn) {
      return report_error(global, lsn.error());
    }
    if (global.style.json) {
      nlohmann::json j = {{"result", "lsn"}, {"input", *value},
                          {"hex", lsn->to_hex()},
                          {"numeric", lsn->to_numeric()},
                          {"decimal_triplet", lsn->to_decimal_triplet()},
                          {"binary", lsn->to_binary()},
                          {"dms_cdc_start_position", lsn->to_hex()},
                          {"vlf", lsn->vlf()},
                          {"block", lsn->block()},
                          {"slot", lsn->slot()}};
      std::cout << j.dump() << std::endl;
      return 0;
    }
    const auto& s = global.style;
    std::cout << fmt::format("{:<16} {}   {}\n", "hex (fn_dblog)", bold(s, lsn->to_hex()),
                             green(s, "<- AWS DMS CdcStartPosition"));
    std::cout << fmt::format("{:<16} {}   (msdb.dbo.backupset, STOPATMARK = 'lsn:...')\n", "numeric(25,0)",
                             lsn->to_numeric());
    std::cout << fmt::format("{:<16} {}   (DBCC output; display only, ambiguous as input)\n", "decimal triplet",
                             lsn->to_decimal_triplet());
    std::cout << fmt::format("{:<16} {}   (cdc.* and sys.fn_cdc_* functions)\n", "binary(10)", lsn->to_binary());
    return 0;
  };
}

}  // namespace m2r::cli
