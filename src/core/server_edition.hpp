#pragma once
// The source server's edition, version and SQL Server Agent, judged (docs/facts.md §13): what
// the edition lets a migration do (publish, MS-CDC, backup compression), whether Agent runs
// MS-CDC's capture job, and whether the version is one RDS for SQL Server restores. Pure: the
// facts come from SERVERPROPERTY and sys.dm_server_services (migrate/source_facts).
#include <string>
#include <string_view>
#include <vector>

#include "core/checks.hpp"

namespace m2r {

enum class EditionKind { express, web, standard, enterprise, developer, other, unknown };

// From SERVERPROPERTY('Edition') ("Express Edition (64-bit)", "Enterprise Edition: Core-based
// Licensing (64-bit)", ...), with SERVERPROPERTY('EngineEdition') where the text says nothing
// known (4 Express; 2 Standard or Web; 3 Enterprise or Developer; 0 = not read).
EditionKind edition_kind(std::string_view edition, int engine_edition);

// Express and Web are transactional replication subscribers only: no publication (Msg 21106).
bool can_publish(EditionKind edition);
// Express and Web have no backup compression (Msg 1844).
bool has_backup_compression(EditionKind edition);

// The statement that reads what edition_kind needs: columns `edition` and `engine_edition`.
std::string edition_query();
// SQL Server Agent's row of sys.dm_server_services (needs VIEW SERVER STATE): `status_desc`.
std::string agent_state_query();

// Whether the backup asks for COMPRESSION: as configured, unless the edition lacks it.
bool backup_compression(bool configured, EditionKind edition);

// The versions RDS for SQL Server restores native backups of, and the product supports:
// SQL Server 2016 (13.x) to 2022 (16.x).
inline constexpr int k_oldest_major_version = 13;
inline constexpr int k_newest_major_version = 16;

// source.edition, source.version and source.agent, appended to `out`.
void evaluate_server_edition(const SourceFacts& facts, std::vector<CheckResult>& out);

}  // namespace m2r
