#pragma once
// What an instance's edition and SQL Server Agent allow (docs/facts.md §13, Microsoft's
// "Editions and supported features of SQL Server 2016 ... 2022"): the features the product
// depends on are publishing, MS-CDC, backup compression and the Agent that runs MS-CDC's
// capture job. See README.md "Editions, versions and SQL Server Agent".
#include <optional>
#include <string>

namespace sandbox {

enum class Edition { express, web, standard, enterprise, developer };
enum class AgentState { running, stopped };

// "express" | "web" | "standard" | "enterprise" | "developer" (any case); nullopt otherwise.
std::optional<Edition> edition_from_name(const std::string& name);
const char* edition_name(Edition edition);  // "express", ...

namespace editions {
// SERVERPROPERTY('Edition'), e.g. "Express Edition (64-bit)".
std::string property_text(Edition edition);
// SERVERPROPERTY('EngineEdition'): 2 Standard (and Web), 3 Enterprise/Developer, 4 Express.
int engine_edition(Edition edition);
// Express and Web are transactional replication subscribers only: no publications (Msg 21106).
bool can_publish(Edition edition);
// Change data capture: Enterprise, Developer and Standard (2016 SP1 on), not Web or Express.
bool has_cdc(Edition edition);
// Backup compression is not available on Express and Web (Msg 1844).
bool has_backup_compression(Edition edition);
// Express ships without SQL Server Agent.
bool has_agent(Edition edition);
}  // namespace editions

}  // namespace sandbox
