// Distribution and publishing (replication.hpp). Sources for each behaviour: Microsoft's
// Transact-SQL reference pages of the procedures named, "Configure publishing and distribution"
// (sp_get_distributor, then sp_adddistributor, sp_adddistributiondb and sp_adddistpublisher
// before sp_replicationdboption), and the Database Engine errors list for the numbers and texts.
#include "engine/replication.hpp"

#include <set>

#include "engine/parse_util.hpp"
#include "engine/session.hpp"

namespace sandbox::engine {

namespace {

// sp_addpublication @sync_method (Msg 14014 lists them).
const std::set<std::string> k_sync_methods = {"native",     "character",    "bcp native",        "bcp character",
                                              "concurrent", "concurrent_c", "database snapshot", "database snapshot character"};
// sp_addarticle @type (Msg 14023: "[indexed view ]logbased[ (manualview|manualfilter|manualboth)]",
// "[serializable ]proc exec", "(view|indexed view|proc|func|aggregate|synonym) schema only").
const std::set<std::string> k_article_types = {
    "logbased", "logbased manualview", "logbased manualfilter", "logbased manualboth", "indexed view logbased",
    "indexed view logbased manualview", "indexed view logbased manualfilter", "indexed view logbased manualboth",
    "proc exec", "serializable proc exec", "view schema only", "indexed view schema only", "proc schema only",
    "func schema only", "aggregate schema only", "synonym schema only"};
// sp_adddistpublisher @working_directory: "the default is the ReplData folder of this instance".
constexpr const char* k_default_working_directory = "/var/opt/mssql/ReplData";

bool is_true(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i != 0;
  const std::string s = lower(value_str(v));
  return s == "true" || s == "1";
}

}  // namespace

void create_replication_schema(sqlite3* msdb) {
  exec(msdb,
       "CREATE TABLE IF NOT EXISTS __m2r_distributor(name nvarchar(128) PRIMARY KEY COLLATE NOCASE);"
       "CREATE TABLE IF NOT EXISTS MSdistributiondbs(name nvarchar(128) PRIMARY KEY COLLATE NOCASE,"
       " min_distretention int, max_distretention int, history_retention int);"
       "CREATE TABLE IF NOT EXISTS MSdistpublishers(name nvarchar(128) PRIMARY KEY COLLATE NOCASE,"
       " distribution_db nvarchar(128), working_directory nvarchar(255), security_mode int, login nvarchar(128),"
       " active bit DEFAULT 1, trusted bit DEFAULT 0, thirdparty_flag bit DEFAULT 0, publisher_type nvarchar(20));");
}

bool SessionImpl::replication_procedure(const std::string& proc, const std::map<std::string, Value>& args,
                                        const std::vector<Value>& positional, ResultSink& sink) {
  static const std::set<std::string> distribution = {"sp_get_distributor",  "sp_adddistributor",   "sp_dropdistributor",
                                                     "sp_adddistributiondb", "sp_dropdistributiondb", "sp_adddistpublisher",
                                                     "sp_dropdistpublisher"};
  static const std::set<std::string> publishing = {"sp_replicationdboption", "sp_addpublication", "sp_addarticle",
                                                   "sp_droppublication", "sp_droparticle"};
  if (!distribution.count(proc) && !publishing.count(proc)) return false;

  // A parameter by name or by its documented position; nullopt when absent or NULL.
  auto param = [&](const char* name, std::size_t pos) -> std::optional<std::string> {
    const Value* v = nullptr;
    if (auto it = args.find(name); it != args.end()) v = &it->second;
    else if (pos < positional.size()) v = &positional[pos];
    if (!v || std::holds_alternative<std::monostate>(*v)) return std::nullopt;
    return value_str(*v);
  };
  auto required = [&](const char* name, std::size_t pos) {
    auto v = param(name, pos);
    if (!v) raise(201, 16, "Procedure or function '" + proc + "' expects parameter '" + name + "', which was not supplied.");
    return *v;
  };
  // Express and Web are transactional replication subscribers only (docs/facts.md §13).
  auto refuse_publishing_edition = [&] {
    if (!editions::can_publish(edition_of(m_inst.config()))) {
      raise(21106, 16, "This edition of SQL Server does not support publications.");
    }
  };
  auto finish = [&]() {
    sink.return_status(0);
    sink.done(DoneKind::proc, std::nullopt, false);
    return true;
  };
  const std::string server = m_inst.config().name;  // @@SERVERNAME
  const bool sysadmin = m_inst.principals().is_sysadmin(m_user);
  auto require_sysadmin = [&] {
    if (!sysadmin) raise(21089, 16, "Only members of the sysadmin fixed server role can perform this operation.");
  };

  // The local configuration, read under msdb_mutex.
  struct Distribution {
    std::string distributor;             // empty: none installed
    std::set<std::string> databases;     // MSdistributiondbs
    bool local_publisher = false;        // this server in MSdistpublishers
  };
  auto read_distribution = [&]() {
    Distribution d;
    sqlite3* msdb = m_inst.msdb();
    d.distributor = query_str(msdb, "SELECT name FROM __m2r_distributor");
    Stmt s(msdb, "SELECT name FROM MSdistributiondbs");
    while (s.step()) d.databases.insert(lower(s.str(0)));
    d.local_publisher = query_int(msdb, "SELECT COUNT(*) FROM MSdistpublishers WHERE name = " + quote_literal(server)) > 0;
    return d;
  };

  if (proc == "sp_get_distributor") {
    Distribution d;
    {
      std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
      d = read_distribution();
    }
    // "Any user can execute sp_get_distributor. A non-NULL result set is returned when ... executed
    // by members of the db_owner ... role on the distribution database, or ... on at least one
    // published database": the sandbox answers a sysadmin, or a db_owner of the current database
    // when it is the distribution database or a published one; others get NULLs.
    bool sees = sysadmin;
    if (!sees) {
      auto db = cur_db();
      const bool relevant = db->meta("is_published") == "1" || db->meta("is_distributor") == "1";
      auto login = m_inst.principals().by_name(m_user);
      auto me = login ? database_user_of(cur(), m_inst.principals(), *login) : std::nullopt;
      sees = relevant && me && (me->id == 1 || database_role_member(cur(), me->id, "db_owner"));
    }
    const bool installed = !d.distributor.empty();
    auto flag = [&](bool v) { return sees ? std::string(v ? "1" : "0") : std::string("NULL"); };
    const std::string sql =
        "SELECT CAST(" + flag(installed) + " AS int) AS [installed], CAST(" +
        (sees && installed ? nliteral(d.distributor) : std::string("NULL")) + " AS sysname) AS [distribution server], CAST(" +
        flag(installed && !d.databases.empty()) + " AS int) AS [distribution db installed], CAST(" +
        flag(installed && d.local_publisher) + " AS int) AS [is distribution publisher], CAST(" + flag(false) +
        " AS int) AS [has remote distribution publisher]";
    for (const auto& st : split_statements(sql)) execute_statement(st, sink, true);
    return finish();
  }

  if (proc == "sp_adddistributor") {
    require_sysadmin();
    const std::string distributor = required("@distributor", 0);
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    const Distribution d = read_distribution();
    if (!d.distributor.empty()) {
      raise(14099, 16, "The server '" + d.distributor + "' is already defined as a Distributor. To reconfigure the server as "
                       "a Distributor, you must first uninstall the exisiting Distributor. Use the stored procedure "
                       "sp_dropdistributor, or use the Disable Publishing and Distribution Wizard.");
    }
    // A remote Distributor is reached through a linked server and must list this server as its
    // Publisher first; the rehearsal world has only local ones.
    if (!iequals(distributor, server)) unsupported("sp_adddistributor with a remote Distributor ('" + distributor + "')");
    // @password is distributor_admin's password; the sandbox keeps no such login, so nothing of it is stored.
    Stmt s(m_inst.msdb(), "INSERT INTO __m2r_distributor(name) VALUES(?)");
    s.bind(1, server);
    s.step();
    return finish();
  }

  if (proc == "sp_adddistributiondb") {
    require_sysadmin();
    const std::string database = required("@database", 0);
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    const Distribution d = read_distribution();
    if (d.distributor.empty()) raise(14114, 16, "The server '" + server + "' is not configured as a Distributor.");
    if (d.databases.count(lower(database))) {
      raise(14119, 16, "Could not add the distribution database '" + database + "'. This distribution database already exists.");
    }
    auto db = m_inst.find(database);
    if (!db) db = m_inst.create_database(database);
    {
      std::lock_guard<std::mutex> wl(db->write_mutex);
      db->set_meta(db->admin, "is_distributor", "1");
      db->set_meta(db->admin, "recovery", "SIMPLE");  // as sp_adddistributiondb creates it
    }
    auto number = [&](const char* name, std::size_t pos, std::int64_t def) {
      auto v = param(name, pos);
      if (!v) return def;
      try {
        return static_cast<std::int64_t>(std::stoll(*v));
      } catch (...) {
        raise(8114, 16, "Error converting data type nvarchar to int.");
      }
    };
    // Defaults as documented: @min_distretention 0, @max_distretention 72, @history_retention 48 (hours).
    Stmt s(m_inst.msdb(), "INSERT INTO MSdistributiondbs VALUES(?,?,?,?)");
    s.bind(1, db->name).bind(2, number("@min_distretention", 7, 0)).bind(3, number("@max_distretention", 8, 72))
        .bind(4, number("@history_retention", 9, 48));
    s.step();
    return finish();
  }

  if (proc == "sp_adddistpublisher") {
    require_sysadmin();
    const std::string publisher = required("@publisher", 0);
    const std::string database = required("@distribution_db", 1);
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    const Distribution d = read_distribution();
    if (d.distributor.empty()) raise(14114, 16, "The server '" + server + "' is not configured as a Distributor.");
    if (!d.databases.count(lower(database))) raise(14117, 16, "'" + database + "' is not configured as a distribution database.");
    if (query_int(m_inst.msdb(), "SELECT COUNT(*) FROM MSdistpublishers WHERE name = " + quote_literal(publisher))) {
      raise(14074, 16, "The server '" + publisher + "' is already listed as a Publisher.");
    }
    const std::string mode = param("@security_mode", 2).value_or("1");
    if (mode != "0" && mode != "1") {
      raise(14109, 16, "The @security_mode parameter value must be 0 (SQL Server Authentication) or 1 (Windows Authentication).");
    }
    Stmt s(m_inst.msdb(), "INSERT INTO MSdistpublishers(name, distribution_db, working_directory, security_mode, login,"
                          " publisher_type) VALUES(?,?,?,?,?,'MSSQLSERVER')");
    s.bind(1, publisher).bind(2, database).bind(3, param("@working_directory", 5).value_or(k_default_working_directory))
        .bind(4, static_cast<std::int64_t>(std::stoi(mode)));
    if (auto login = param("@login", 3)) s.bind(5, *login);
    else s.bind_null(5);
    s.step();
    return finish();
  }

  if (proc == "sp_dropdistpublisher") {
    require_sysadmin();
    const std::string publisher = required("@publisher", 0);
    std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
    if (!query_int(m_inst.msdb(), "SELECT COUNT(*) FROM MSdistpublishers WHERE name = " + quote_literal(publisher))) {
      raise(14080, 16, "The remote server \"" + publisher + "\" does not exist, or has not been designated as a valid "
                       "Publisher, or you may not have permission to see available Publishers.");
    }
    exec(m_inst.msdb(), "DELETE FROM MSdistpublishers WHERE name = " + quote_literal(publisher));
    return finish();
  }

  if (proc == "sp_dropdistributiondb") {
    require_sysadmin();
    const std::string database = required("@database", 0);
    std::string name;
    {
      std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
      const Distribution d = read_distribution();
      if (!d.databases.count(lower(database))) raise(14117, 16, "'" + database + "' is not configured as a distribution database.");
      if (query_int(m_inst.msdb(), "SELECT COUNT(*) FROM MSdistpublishers WHERE distribution_db = " + quote_literal(database) +
                                       " COLLATE NOCASE")) {
        raise(14120, 16, "Could not drop the distribution database '" + database +
                             "'. This distributor database is associated with a Publisher.");
      }
      exec(m_inst.msdb(), "DELETE FROM MSdistributiondbs WHERE name = " + quote_literal(database) + " COLLATE NOCASE");
      name = database;
    }
    if (iequals(m_db, name)) raise(3702, 16, "Cannot drop database \"" + name + "\" because it is currently in use.");
    m_inst.drop_database(name);
    return finish();
  }

  if (proc == "sp_dropdistributor") {
    require_sysadmin();
    const bool no_checks = param("@no_checks", 0).has_value() && is_true(Value(*param("@no_checks", 0)));
    std::vector<std::string> databases;
    {
      std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
      const Distribution d = read_distribution();
      if (d.distributor.empty()) raise(21043, 16, "The Distributor is not installed.");
      for (const auto& name : d.databases)
        if (iequals(m_db, name)) raise(3702, 16, "Cannot drop database \"" + name + "\" because it is currently in use.");
      if (!d.databases.empty() && !no_checks) {
        raise(14121, 16, "Could not drop the Distributor '" + d.distributor +
                             "'. This Distributor has associated distribution databases.");
      }
      // @no_checks = 1: "drops all the publishing and distribution objects before uninstalling".
      for (const auto& db : m_inst.databases()) {
        if (db->meta("is_published") != "1") continue;
        std::lock_guard<std::mutex> wl(db->write_mutex);
        db->set_meta(db->admin, "is_published", "0");
      }
      Stmt s(m_inst.msdb(), "SELECT name FROM MSdistributiondbs");
      while (s.step()) databases.push_back(s.str(0));
      exec(m_inst.msdb(), "DELETE FROM MSdistpublishers; DELETE FROM MSdistributiondbs; DELETE FROM __m2r_distributor;");
    }
    for (const auto& name : databases) m_inst.drop_database(name);
    return finish();
  }

  if (proc == "sp_replicationdboption") {
    const std::string dbname = required("@dbname", 0);
    const std::string opt = lower(required("@optname", 1));
    const bool on = is_true(Value(required("@value", 2)));
    auto db = m_inst.find(dbname);
    if (!db) raise(15010, 16, "The database '" + dbname + "' does not exist. Supply a valid database name.");
    if (opt != "publish" && opt != "merge publish" && opt != "subscribe" && opt != "sync with backup") {
      raise(14138, 16, "Invalid option name '" + opt + "'.");
    }
    if (opt != "publish") unsupported("sp_replicationdboption @optname = '" + opt + "'");
    if (m_inst.config().kind == InstanceKind::rds) raise(15247, 16, "User does not have permission to perform this action.");
    require_sysadmin();
    if (on) refuse_publishing_edition();
    {
      // "The Distributor has not been installed correctly": no Distributor, no distribution
      // database, or this server not registered as its Publisher.
      std::lock_guard<std::mutex> lock(m_inst.msdb_mutex());
      const Distribution d = read_distribution();
      if (d.distributor.empty() || d.databases.empty() || !d.local_publisher) {
        if (on) raise(20028, 16, "The Distributor has not been installed correctly. Could not enable database for publishing.");
        raise(20029, 16, "The Distributor has not been installed correctly. Could not disable database for publishing.");
      }
    }
    std::lock_guard<std::mutex> lock(db->write_mutex);
    db->set_meta(db->admin, "is_published", on ? "1" : "0");
    // Publishing holds the log until the log reader (DMS: sp_repldone) has read it.
    if (on && db->meta("repl_done_lsn").empty()) db->set_meta(db->admin, "repl_done_lsn", db->lsn.peek().to_hex());
    return finish();
  }

  // The publication procedures run in the publication database.
  auto db = cur_db();
  const std::string pub = param("@publication", 0).value_or("");
  if (proc == "sp_addpublication") {
    refuse_publishing_edition();
    if (pub.empty()) raise(14003, 16, "You must supply a publication name.");
    if (iequals(pub, "all")) raise(14034, 16, "The publication name (@publication) cannot be the keyword 'all'.");
  }
  if (db->meta("is_published") != "1") raise(14013, 16, "This database is not enabled for publication.");
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = db->admin;
  exec(c, "CREATE TABLE IF NOT EXISTS __m2r_publications(name nvarchar(128) PRIMARY KEY, options nvarchar(-1));"
          "CREATE TABLE IF NOT EXISTS __m2r_articles(publication nvarchar(128), article nvarchar(128), source_owner nvarchar(128),"
          " source_object nvarchar(128), type nvarchar(40));");
  const bool pub_exists = query_int(c, "SELECT COUNT(*) FROM __m2r_publications WHERE name = " + quote_literal(pub)) > 0;
  if (proc == "sp_addpublication") {
    const std::string sync = lower(param("@sync_method", 3).value_or("native"));
    if (!k_sync_methods.count(sync)) {
      raise(14014, 16, "The synchronization method (@sync_method) must be '[bcp] native', '[bcp] character', 'concurrent', "
                       "'concurrent_c', 'database snapshot', or 'database snapshot character'.");
    }
    const std::string freq = lower(param("@repl_freq", 4).value_or("continuous"));
    if (freq != "continuous" && freq != "snapshot") {
      raise(14015, 16, "The replication frequency (@repl_freq) must be either 'continuous' or 'snapshot'.");
    }
    const std::string status = lower(param("@status", 6).value_or("inactive"));
    if (status != "active" && status != "inactive") {
      raise(14012, 16, "The @status parameter value must be either 'active' or 'inactive'.");
    }
    if (pub_exists) raise(14016, 16, "The publication '" + pub + "' already exists.");
    std::string opts;
    for (auto& [k, v] : args) opts += k + "=" + value_str(v) + ";";
    Stmt s(c, "INSERT INTO __m2r_publications VALUES(?, ?)");
    s.bind(1, pub).bind(2, opts);
    s.step();
  } else if (proc == "sp_droppublication") {
    exec(c, "DELETE FROM __m2r_publications WHERE name = " + quote_literal(pub) + "; DELETE FROM __m2r_articles WHERE publication = " + quote_literal(pub));
  } else if (proc == "sp_addarticle") {
    if (!pub_exists) raise(20026, 16, "The publication '" + pub + "' does not exist.");
    const std::string article = required("@article", 1);
    const std::string type = lower(param("@type", 5).value_or("logbased"));
    if (!k_article_types.count(type)) {
      raise(14023, 16, "The type must be '[indexed view ]logbased[ (manualview|manualfilter|manualboth)]', '[serializable ]proc "
                       "exec', or '(view|indexed view|proc|func|aggregate|synonym) schema only'.");
    }
    const std::string owner = param("@source_owner", 18).value_or("dbo");
    const std::string object = param("@source_object", 21).value_or(article);
    Stmt o(c, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
    o.bind(1, sqlite_table_name(owner, object));
    if (!o.step()) raise(14027, 11, object + " does not exist in the current database.");
    const std::int64_t oid = o.i64(0);
    if (query_int(c, "SELECT COUNT(*) FROM __m2r_articles WHERE publication = " + quote_literal(pub) +
                         " AND article = " + quote_literal(article))) {
      raise(14030, 16, "The article '" + article + "' exists in publication '" + pub + "'.");
    }
    if (type.find("logbased") != std::string::npos &&
        !query_int(c, "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'PK' AND parent_object_id = " + std::to_string(oid))) {
      raise(14088, 16, "The table '[" + owner + "].[" + object + "]' must have a primary key to be published using the transaction-based method.");
    }
    Stmt s(c, "INSERT INTO __m2r_articles VALUES(?,?,?,?,?)");
    s.bind(1, pub).bind(2, article).bind(3, owner).bind(4, object).bind(5, type);
    s.step();
    exec(c, "UPDATE __m2r_objects SET is_replicated = 1 WHERE object_id = " + std::to_string(oid));
  } else {  // sp_droparticle
    exec(c, "DELETE FROM __m2r_articles WHERE publication = " + quote_literal(pub) + " AND article = " +
                quote_literal(param("@article", 1).value_or("")));
  }
  return finish();
}

}  // namespace sandbox::engine
