#pragma once
// `check --fix`: what DMS needs on the source and the check found missing (docs/facts.md §3):
// the publication for tables with a primary key, MS-CDC for those without, and the cutover
// marker's table (core/cutover_marker.hpp), published with them; before publishing, a local
// Distributor when the server has none (core/distributor.hpp, §13; a remote one is left as it
// is), its distributor_admin password random, bound as a parameter and never shown. Publishing
// needs sysadmin: without it, or when sp_get_distributor could not be read, it refuses before
// changing anything. Run only with the user's consent; every statement is announced as an
// event before it runs.
#include "core/checks.hpp"
#include "core/events.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

Expected<void> fix_source_capture(mssql::SqlSession& source, const SourceFacts& facts, EventSink& events);

}  // namespace m2r
