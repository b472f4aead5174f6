#pragma once
// Transactional replication as far as a native CDC start point needs it (README.md
// "Distribution and publishing"): the Distributor (sp_adddistributor, sp_adddistributiondb,
// sp_adddistpublisher, their drop counterparts, sp_get_distributor) and the publishing
// procedures (sp_replicationdboption, sp_addpublication, sp_addarticle, sp_droppublication,
// sp_droparticle), with the argument checks and errors SQL Server documents.
//
// Storage: the Distributor's configuration is server-wide, so it lives in msdb.sqlite
// (msdb.dbo.MSdistributiondbs and MSdistpublishers, as SQL Server names them, and the
// sandbox's __m2r_distributor for what SQL Server keeps in master) and survives a restart;
// the distribution database is a database of the instance (sys.databases.is_distributor = 1).
// Publications and articles travel with their database's file.
#include <sqlite3.h>

namespace sandbox::engine {

// Creates the msdb tables (IF NOT EXISTS).
void create_replication_schema(sqlite3* msdb);

}  // namespace sandbox::engine
