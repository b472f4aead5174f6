// The sandbox's engine served over TDS in-process, driven by independent clients (Node's tedious,
// the FreeTDS ODBC driver): OUTPUT parameters and return status, named transactions, connection
// reset, empty results (issue 11); a created SQL login logging in over the wire.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine_test_support.hpp"
#include "sandbox/support/process.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

using ::testing::HasSubstr;

class TdsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = test::temp_dir("tds-engine");
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = test::k_sa_password;
    m_instance = open_instance(cfg);
    auto s = test::login(*m_instance);
    test::must(*s, "CREATE DATABASE shop");
    s = test::login(*m_instance, "shop");
    test::must(*s, "CREATE TABLE dbo.Orders(id int IDENTITY(1,1) PRIMARY KEY, amount decimal(10,2) NOT NULL, note nvarchar(max) NULL)");
    test::must(*s, "INSERT INTO dbo.Orders(amount, note) VALUES (10.50, N'first'), (4.25, NULL)");
    // xml goes on the wire as XMLTYPE, a PLP stream of UTF-16 (non-ASCII included).
    test::must(*s, "CREATE TABLE dbo.Specs(id int PRIMARY KEY, spec xml NULL)");
    test::must(*s, "INSERT INTO dbo.Specs VALUES (1, N'<spec><w unit=\"g\">12</w><n>caf\u00e9</n></spec>'), (2, NULL)");
    test::must(*s,
               "CREATE PROCEDURE dbo.OrderTotal @min decimal(10,2), @total decimal(10,2) OUTPUT, @n int OUTPUT AS\n"
               "BEGIN\n"
               "  SELECT @total = SUM(amount) FROM dbo.Orders WHERE amount >= @min;\n"
               "  SELECT @n = COUNT(*) FROM dbo.Orders WHERE amount >= @min;\n"
               "END");
    m_server = std::make_unique<tds::TdsServer>(*m_instance, "127.0.0.1", 0);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().message;
    m_port = std::to_string(m_server->port());
  }
  void TearDown() override {
    m_server->stop();
    m_server.reset();
    m_instance.reset();
    std::filesystem::remove_all(m_dir);
  }

  std::vector<nlohmann::json> tedious(const std::string& scenario) {
    const std::string dir = std::string(MSSQL2RDS_SOURCE_DIR) + "/tests/sandbox/conformance";
    if (!std::filesystem::exists(dir + "/node_modules/tedious")) {
      ADD_FAILURE() << "tedious is not installed in " << dir << "; run scripts/install-deps.sh (npm ci)";
      return {};
    }
    const ProcessResult r = run_process({find_program("node"), dir + "/tedious_engine_client.js", m_port, scenario}, "",
                                        {std::string("SANDBOX_PASSWORD=") + test::k_sa_password});
    std::vector<nlohmann::json> events;
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << line;
      else events.push_back(std::move(j));
    }
    EXPECT_EQ(r.exit_code, 0) << r.output;
    for (const auto& e : events) {
      if (e["event"] == "crash" || e["event"] == "connect_failed") ADD_FAILURE() << e.dump();
    }
    return events;
  }
  static std::vector<nlohmann::json> select(const std::vector<nlohmann::json>& events, const std::string& event,
                                            const std::string& label = "") {
    std::vector<nlohmann::json> out;
    for (const auto& e : events) {
      if (e["event"] == event && (label.empty() || e.value("label", "") == label)) out.push_back(e);
    }
    return out;
  }

  std::string m_dir;
  std::unique_ptr<Instance> m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  std::string m_port;
};

TEST_F(TdsEngineTest, TediousReadsOutputParametersOfAProcedureAndOfSpExecutesql) {
  // Given callProcedure with two output parameters and execSql with one, tedious should receive their
  // values (14.75 and 2; 1) and return status 0; passing @min as output should fail with 8162.
  const auto ev = tedious("outputs");
  const auto proc = select(ev, "return_value", "proc");
  ASSERT_EQ(proc.size(), 2u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(proc[0]["name"], "total");
  EXPECT_EQ(proc[0]["value"], 14.75);
  EXPECT_EQ(proc[1]["name"], "n");
  EXPECT_EQ(proc[1]["value"], 2);
  EXPECT_TRUE(select(ev, "request_done", "proc").at(0)["error"].is_null());
  const auto sql = select(ev, "return_value", "executesql");
  ASSERT_EQ(sql.size(), 1u);
  EXPECT_EQ(sql[0]["name"], "cnt");
  EXPECT_EQ(sql[0]["value"], 1);
  EXPECT_TRUE(select(ev, "return_value", "not_output").empty());
  bool saw_8162 = false;
  for (const auto& e : select(ev, "error")) saw_8162 = saw_8162 || e["number"] == 8162;
  EXPECT_TRUE(saw_8162) << nlohmann::json(ev).dump(1);
}

TEST_F(TdsEngineTest, TediousNamedTransactionsCommitAndRollBack) {
  // Given beginTransaction with a name, an insert and commit, then a named transaction rolled back, the
  // connection should survive every step and only the committed insert remain.
  const auto ev = tedious("transactions");
  const auto txs = select(ev, "transaction");
  ASSERT_EQ(txs.size(), 4u) << nlohmann::json(ev).dump(1);
  for (const auto& t : txs) EXPECT_TRUE(t["error"].is_null()) << t.dump();
  EXPECT_EQ(select(ev, "row", "trancount_in").at(0)["row"]["n"], 1);
  const auto count = select(ev, "row", "count");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0]["row"]["n"], 3);
  EXPECT_EQ(count[0]["row"]["tc"], 0);
}

TEST_F(TdsEngineTest, TediousResetReturnsToTheLoginsDatabaseWithoutTheTransaction) {
  // Given USE other and an open transaction, Connection.reset() should be acknowledged (ENVCHANGE 18)
  // and leave the session in shop, with no transaction.
  const auto ev = tedious("reset");
  EXPECT_EQ(select(ev, "reset_ack").size(), 1u) << nlohmann::json(ev).dump(1);
  EXPECT_TRUE(select(ev, "reset_done").at(0)["error"].is_null());
  const auto after = select(ev, "row", "after");
  ASSERT_EQ(after.size(), 1u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(after[0]["row"]["db"], "shop");
  EXPECT_EQ(after[0]["row"]["tc"], 0);
}

TEST_F(TdsEngineTest, TediousGetsColumnMetadataForAnEmptyResult) {
  // Given a SELECT matching no row, tedious should still get the columns' names and types.
  const auto ev = tedious("empty");
  const auto cols = select(ev, "columns", "empty");
  ASSERT_EQ(cols.size(), 1u) << nlohmann::json(ev).dump(1);
  const auto& c = cols[0]["columns"];
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0]["name"], "id");
  EXPECT_EQ(c[0]["type"], "IntN");
  EXPECT_EQ(c[1]["type"], "DecimalN");
  EXPECT_EQ(c[1]["precision"], 10);
  EXPECT_EQ(c[1]["scale"], 2);
  EXPECT_EQ(c[2]["type"], "NVarChar");
  EXPECT_EQ(select(ev, "row", "empty").size(), 0u);
}

TEST_F(TdsEngineTest, TediousReadsXmlColumns) {
  // Given an xml column with a document and a NULL, and a CAST to xml, tedious should get type Xml and the text.
  const auto ev = tedious("xml");
  const auto cols = select(ev, "columns", "xml");
  ASSERT_EQ(cols.size(), 1u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(cols[0]["columns"][1]["type"], "Xml");
  EXPECT_EQ(cols[0]["columns"][2]["type"], "Xml");
  const auto rows = select(ev, "row", "xml");
  ASSERT_EQ(rows.size(), 2u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(rows[0]["row"]["spec"], "<spec><w unit=\"g\">12</w><n>caf\u00e9</n></spec>");
  EXPECT_TRUE(rows[1]["row"]["spec"].is_null());
  EXPECT_EQ(rows[1]["row"]["cast_xml"], "<a/>");
}

TEST_F(TdsEngineTest, TsqlReadsAnXmlColumn) {
  // Given an xml column, FreeTDS's tsql (TDS 7.4) should print its text.
  const ProcessResult r = run_process({find_program("tsql"), "-H", "127.0.0.1", "-p", m_port, "-U", "sa", "-P", test::k_sa_password},
                                      "USE shop\ngo\nSELECT spec FROM dbo.Specs WHERE id = 1\ngo\nexit\n",
                                      {"TDSVER=7.4", "FREETDSCONF=/dev/null"});
  EXPECT_THAT(r.output, HasSubstr("<spec><w unit=\"g\">12</w>")) << r.output;
}

// ---- FreeTDS ODBC ---------------------------------------------------------------------

constexpr const char* k_freetds_odbc = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so";

std::string odbc_errors(SQLSMALLINT type, SQLHANDLE h) {
  std::string out;
  for (SQLSMALLINT i = 1;; ++i) {
    SQLCHAR state[6] = {}, msg[1024] = {};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (SQLGetDiagRec(type, h, i, state, &native, msg, sizeof msg, &len) != SQL_SUCCESS) break;
    out += fmt::format("{} {} {}\n", reinterpret_cast<char*>(state), native, reinterpret_cast<char*>(msg));
  }
  return out;
}

// A FreeTDS ODBC connection to the sandbox's shop database as sa, with one statement handle,
// freed when it goes out of scope.
struct FreeTdsOdbc {
  SQLHENV env = SQL_NULL_HANDLE;
  SQLHDBC dbc = SQL_NULL_HANDLE;
  SQLHSTMT stmt = SQL_NULL_HANDLE;
  FreeTdsOdbc() {
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
  }
  bool connect(const std::string& port) {
    std::string cs = fmt::format("Driver={};Server=127.0.0.1;Port={};TDS_Version=7.4;UID=sa;PWD={{{}}};Database=shop;"
                                 "ClientCharset=UTF-8", k_freetds_odbc, port, test::k_sa_password);
    SQLCHAR out[1024];
    SQLSMALLINT out_len = 0;
    if (!SQL_SUCCEEDED(SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, out, sizeof out,
                                        &out_len, SQL_DRIVER_NOPROMPT))) {
      return false;
    }
    return SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt));
  }
  ~FreeTdsOdbc() {
    if (stmt != SQL_NULL_HANDLE) SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
  }
  FreeTdsOdbc(const FreeTdsOdbc&) = delete;
  FreeTdsOdbc& operator=(const FreeTdsOdbc&) = delete;
};

TEST_F(TdsEngineTest, FreeTdsOdbcReadsOutputParametersAndTheReturnValue) {
  // Given {? = call dbo.OrderTotal(?, ?, ?)} with the return value and the last two parameters bound as
  // output, SQLExecDirect should fill them: status 0, total 14.75, n 2.
  ASSERT_EQ(::access(k_freetds_odbc, R_OK), 0) << k_freetds_odbc << " missing; run scripts/install-deps.sh";
  FreeTdsOdbc odbc;
  ASSERT_TRUE(odbc.connect(m_port)) << odbc_errors(SQL_HANDLE_DBC, odbc.dbc);
  SQLHSTMT stmt = odbc.stmt;
  SQLINTEGER status = -1, n = -1;
  char min[] = "1.00";
  char total[32] = {};
  SQLLEN status_len = 0, min_len = SQL_NTS, total_len = 0, n_len = 0;
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(stmt, 1, SQL_PARAM_OUTPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &status, 0, &status_len)));
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(stmt, 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_DECIMAL, 10, 2, min, sizeof min, &min_len)));
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(stmt, 3, SQL_PARAM_OUTPUT, SQL_C_CHAR, SQL_DECIMAL, 10, 2, total, sizeof total,
                                             &total_len)));
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(stmt, 4, SQL_PARAM_OUTPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &n, 0, &n_len)));
  char call[] = "{? = call dbo.OrderTotal(?, ?, ?)}";
  const SQLRETURN rc = SQLExecDirect(stmt, reinterpret_cast<SQLCHAR*>(call), SQL_NTS);
  EXPECT_TRUE(SQL_SUCCEEDED(rc)) << odbc_errors(SQL_HANDLE_STMT, stmt);
  while (SQL_SUCCEEDED(SQLMoreResults(stmt))) {
  }
  EXPECT_EQ(status, 0);
  EXPECT_STREQ(total, "14.75");
  EXPECT_EQ(n, 2);
}

TEST_F(TdsEngineTest, FreeTdsOdbcReadsAnXmlColumnAsWideText) {
  // Given an xml column, the FreeTDS ODBC driver (what the product uses) should describe it as
  // SQL_SS_XML (-152) and return its text through SQLGetData(SQL_C_WCHAR), as the product reads it.
  ASSERT_EQ(::access(k_freetds_odbc, R_OK), 0) << k_freetds_odbc << " missing; run scripts/install-deps.sh";
  FreeTdsOdbc odbc;
  ASSERT_TRUE(odbc.connect(m_port)) << odbc_errors(SQL_HANDLE_DBC, odbc.dbc);
  SQLHSTMT stmt = odbc.stmt;
  char query[] = "SELECT spec FROM dbo.Specs WHERE id = 1";
  ASSERT_TRUE(SQL_SUCCEEDED(SQLExecDirect(stmt, reinterpret_cast<SQLCHAR*>(query), SQL_NTS))) << odbc_errors(SQL_HANDLE_STMT, stmt);
  SQLCHAR name[64];
  SQLSMALLINT name_len = 0, type = 0, digits = 0, nullable = 0;
  SQLULEN size = 0;
  SQLDescribeCol(stmt, 1, name, sizeof name, &name_len, &type, &size, &digits, &nullable);
  EXPECT_EQ(type, -152);  // SQL_SS_XML
  ASSERT_TRUE(SQL_SUCCEEDED(SQLFetch(stmt))) << odbc_errors(SQL_HANDLE_STMT, stmt);
  SQLWCHAR wide[256] = {};
  SQLLEN ind = 0;
  ASSERT_TRUE(SQL_SUCCEEDED(SQLGetData(stmt, 1, SQL_C_WCHAR, wide, sizeof wide, &ind))) << odbc_errors(SQL_HANDLE_STMT, stmt);
  std::string text;
  for (std::size_t i = 0; i < sizeof wide / sizeof wide[0] && wide[i] != 0; ++i) {
    text += wide[i] < 0x80 ? static_cast<char>(wide[i]) : '?';
  }
  EXPECT_EQ(text, "<spec><w unit=\"g\">12</w><n>caf?</n></spec>");
}

TEST_F(TdsEngineTest, FreeTdsOdbcLogsInAsACreatedSqlLoginAndIsRefusedWithoutAUser) {
  // Given a SQL login created with a password and a user in shop that may read, the FreeTDS ODBC driver should
  // log in with that password over TDS and see itself as the login and the user; a wrong password
  // should fail with 18456 and a login without a user in shop with 4060.
  ASSERT_EQ(::access(k_freetds_odbc, R_OK), 0) << k_freetds_odbc << " missing; run scripts/install-deps.sh";
  auto s = test::login(*m_instance, "shop");
  test::must(*s, "CREATE LOGIN app WITH PASSWORD = 'Wire-Passw0rd', CHECK_POLICY = OFF; CREATE USER app FOR LOGIN app;"
                 "ALTER ROLE db_datareader ADD MEMBER app;"  // a plain user may read nothing (Msg 229)
                 "CREATE LOGIN stranger WITH PASSWORD = 'Wire-Passw0rd', CHECK_POLICY = OFF;");
  SQLHENV env = SQL_NULL_HANDLE;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  auto connect = [&](const std::string& user, const std::string& password, SQLHDBC& dbc) {
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    std::string cs = fmt::format("Driver={};Server=127.0.0.1;Port={};TDS_Version=7.4;UID={};PWD={{{}}};Database=shop;"
                                 "ClientCharset=UTF-8", k_freetds_odbc, m_port, user, password);
    SQLCHAR out[1024];
    SQLSMALLINT out_len = 0;
    return SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, out, sizeof out, &out_len,
                            SQL_DRIVER_NOPROMPT);
  };
  SQLHDBC dbc = SQL_NULL_HANDLE;
  ASSERT_TRUE(SQL_SUCCEEDED(connect("app", "Wire-Passw0rd", dbc))) << odbc_errors(SQL_HANDLE_DBC, dbc);
  SQLHSTMT stmt = SQL_NULL_HANDLE;
  SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
  char query[] = "SELECT SUSER_SNAME() + N'/' + USER_NAME() + N'/' + CAST(COUNT(*) AS nvarchar(10)) FROM dbo.Orders";
  ASSERT_TRUE(SQL_SUCCEEDED(SQLExecDirect(stmt, reinterpret_cast<SQLCHAR*>(query), SQL_NTS))) << odbc_errors(SQL_HANDLE_STMT, stmt);
  ASSERT_TRUE(SQL_SUCCEEDED(SQLFetch(stmt)));
  char who[64] = {};
  SQLLEN who_len = 0;
  SQLGetData(stmt, 1, SQL_C_CHAR, who, sizeof who, &who_len);
  EXPECT_STREQ(who, "app/app/2");
  SQLFreeHandle(SQL_HANDLE_STMT, stmt);
  SQLDisconnect(dbc);
  SQLFreeHandle(SQL_HANDLE_DBC, dbc);

  SQLHDBC wrong = SQL_NULL_HANDLE, stranger = SQL_NULL_HANDLE;
  EXPECT_FALSE(SQL_SUCCEEDED(connect("app", "not-it", wrong)));
  EXPECT_THAT(odbc_errors(SQL_HANDLE_DBC, wrong), HasSubstr("Login failed for user 'app'."));
  EXPECT_FALSE(SQL_SUCCEEDED(connect("stranger", "Wire-Passw0rd", stranger)));
  EXPECT_THAT(odbc_errors(SQL_HANDLE_DBC, stranger), HasSubstr("Cannot open database \"shop\" requested by the login."));
  SQLFreeHandle(SQL_HANDLE_DBC, wrong);
  SQLFreeHandle(SQL_HANDLE_DBC, stranger);
  SQLFreeHandle(SQL_HANDLE_ENV, env);
}

}  // namespace
}  // namespace sandbox::testing
