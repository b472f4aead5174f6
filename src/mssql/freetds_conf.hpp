#pragma once
// The product's own freetds.conf, for the sections of verified FreeTDS connections
// (connection_string.hpp, FreeTdsSection). FreeTDS reads the file named by FREETDSCONF at
// every connect, so the product points FREETDSCONF at a file in a private temporary
// directory (removed at exit) and adds sections as connections need them. A freetds.conf the
// user named in FREETDSCONF before is kept: its text follows the product's sections.
#include "core/error.hpp"
#include "mssql/connection_string.hpp"

namespace m2r::mssql {

// Sets FREETDSCONF (once per process). setenv is not safe while other threads read the
// environment, so main() calls it before starting any; install_freetds_section() calls it too.
Expected<void> prepare_freetds_conf();

// Adds the section to the file (atomically replaced) unless it is there already.
Expected<void> install_freetds_section(const FreeTdsSection& section);

}  // namespace m2r::mssql
