// Conformance of the sandbox's TDS server with independent clients: FreeTDS (tsql,
// bsqldb, the ODBC driver through unixODBC) and Node's tedious. The server runs
// in-process over the fake instance (support/fake_instance.hpp) on a free port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <thread>

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sandbox/support/fake_instance.hpp"
#include "sandbox/support/process.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

using ::testing::HasSubstr;

class TdsConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_server = std::make_unique<tds::TdsServer>(m_instance, "127.0.0.1", 0);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().message;
    m_port = std::to_string(m_server->port());
  }
  void TearDown() override { m_server->stop(); }

  std::string require(const std::string& program) {
    const std::string path = find_program(program);
    if (path.empty()) {
      ADD_FAILURE() << program << " is not installed; run scripts/install-deps.sh";
    }
    return path;
  }

  ProcessResult tsql(const std::string& sql, const std::string& password = k_fake_password) {
    return run_process({require("tsql"), "-H", "127.0.0.1", "-p", m_port, "-U", k_fake_user, "-P", password},
                       sql + "\ngo\nexit\n", {"TDSVER=7.4", "FREETDSCONF=/dev/null"});
  }

  FakeInstance m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  std::string m_port;
};

// ---- FreeTDS tsql -----------------------------------------------------------------

TEST_F(TdsConformanceTest, TsqlReadsEveryType) {
  // Given the all-types result set, tsql (TDS 7.4) should print every value and the NULL row.
  const ProcessResult r = tsql("SELECT * FROM all_types");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1\t-2147483648\t9223372036854775807\t-32768\t255\t1\t37000000295900004\t-123.4500\t2.5\t"
                                  "caf\xC3\xA9\tGr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93\tmax text xxxxxxxxxxxxxxxxxxxx\t"
                                  "\xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 max\t"));
  EXPECT_THAT(r.output, HasSubstr("\t6F9619FF-8B86-D011-B42D-00C04FC964FF\tdeadbeef\tabababababababab"));
  EXPECT_THAT(r.output, HasSubstr("2\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL"));
  EXPECT_THAT(r.output, HasSubstr("(2 rows affected)"));
}

TEST_F(TdsConformanceTest, TsqlSeesInfoAndErrorMessages) {
  // Given PRINT, the slow statement and RAISERROR, tsql should show each message with its number, severity and state.
  const ProcessResult r = tsql("PRINT 'hello'\ngo\nEXEC slow\ngo\nRAISERROR");
  EXPECT_THAT(r.output, HasSubstr("hello"));
  EXPECT_THAT(r.output, HasSubstr("Msg 3211 (severity 0, state 1) from FAKESQL Line 1:\n\t\"30 percent processed.\""));
  EXPECT_THAT(r.output, HasSubstr("\"90 percent processed.\""));
  EXPECT_THAT(r.output, HasSubstr("Msg 50000 (severity 16, state 2) from FAKESQL Line 1:\n\t\"The fake failed on purpose.\""));
}

TEST_F(TdsConformanceTest, TsqlWithAWrongPasswordGetsLoginFailed18456) {
  // Given a wrong password, tsql should report message 18456, severity 14, state 1 and fail to connect.
  const ProcessResult r = tsql("SELECT 1", "not-the-password");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("Msg 18456 (severity 14, state 1) from FAKESQL"));
  EXPECT_THAT(r.output, HasSubstr("Login failed for user 'sa'."));
  EXPECT_TRUE(m_instance.batches().empty());
}

TEST_F(TdsConformanceTest, TsqlReadsAResponseSpanningManyPackets) {
  // Given 3000 rows of nvarchar(max) (~600 KB, ~150 packets of 4 KB), tsql should read them all.
  const ProcessResult r = tsql("SELECT big");
  EXPECT_THAT(r.output, HasSubstr("2999\t" + std::string(100, static_cast<char>('a' + 2999 % 26))));
  EXPECT_THAT(r.output, HasSubstr("(3000 rows affected)"));
}

// ---- FreeTDS bsqldb (DB-Library) -------------------------------------------------------

TEST_F(TdsConformanceTest, BsqldbReadsTypesAndMessages) {
  // Given the DB-Library-printable types, the slow statement and an error, bsqldb should print
  // values, progress messages and the error with its level and state (then exit, as it does on errors).
  const ProcessResult r = run_process(
      {require("bsqldb"), "-S", "127.0.0.1:" + m_port, "-U", k_fake_user, "-P", k_fake_password},
      "SELECT * FROM classic_types\ngo\nEXEC slow\ngo\nRAISERROR\ngo\n", {"TDSVER=7.4", "FREETDSCONF=/dev/null"});
  EXPECT_THAT(r.output, HasSubstr("-2147483648    9223372036854775807      -32768        255      1      37000000295900004"));
  EXPECT_THAT(r.output, HasSubstr("-123.4500"));
  EXPECT_THAT(r.output, HasSubstr("caf\xC3\xA9"));
  EXPECT_THAT(r.output, HasSubstr("2 rows affected"));
  EXPECT_THAT(r.output, HasSubstr("60 percent processed."));
  EXPECT_THAT(r.output, HasSubstr("Msg 50000, Level 16, State 2\nServer 'FAKESQL', Line 1\n\tThe fake failed on purpose."));
}

TEST_F(TdsConformanceTest, BsqldbWithAWrongPasswordGetsLoginFailed18456) {
  // Given a wrong password, bsqldb should print message 18456 at level 14, state 1.
  const ProcessResult r = run_process({require("bsqldb"), "-S", "127.0.0.1:" + m_port, "-U", k_fake_user, "-P", "bad"},
                                      "SELECT 1\ngo\n", {"TDSVER=7.4", "FREETDSCONF=/dev/null"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("Msg 18456, Level 14, State 1\nServer 'FAKESQL', Line 1\n\tLogin failed for user 'sa'."));
}

// ---- FreeTDS ODBC driver through unixODBC ------------------------------------------

constexpr const char* k_freetds_odbc = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so";

struct OdbcDiag {
  std::string state;
  int native = 0;
  std::string text;
};

std::vector<OdbcDiag> odbc_diags(SQLSMALLINT type, SQLHANDLE h) {
  std::vector<OdbcDiag> out;
  for (SQLSMALLINT i = 1;; ++i) {
    SQLCHAR state[6] = {}, msg[1024] = {};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (SQLGetDiagRec(type, h, i, state, &native, msg, sizeof msg, &len) != SQL_SUCCESS) break;
    out.push_back({reinterpret_cast<char*>(state), native, reinterpret_cast<char*>(msg)});
  }
  return out;
}

std::string describe(const std::vector<OdbcDiag>& diags) {
  std::string s;
  for (const auto& d : diags) s += d.state + " " + std::to_string(d.native) + " " + d.text + "\n";
  return s;
}

// One ODBC connection (environment, connection and statement handles).
class Odbc {
 public:
  Odbc() {
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &m_env);
    SQLSetEnvAttr(m_env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLAllocHandle(SQL_HANDLE_DBC, m_env, &m_dbc);
  }
  ~Odbc() {
    if (m_stmt) SQLFreeHandle(SQL_HANDLE_STMT, m_stmt);
    if (m_connected) SQLDisconnect(m_dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, m_dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, m_env);
  }
  Odbc(const Odbc&) = delete;
  Odbc& operator=(const Odbc&) = delete;

  SQLRETURN connect(const std::string& conn_str) {
    SQLCHAR out[1024];
    SQLSMALLINT out_len = 0;
    std::string in = conn_str;
    const SQLRETURN rc = SQLDriverConnect(m_dbc, nullptr, reinterpret_cast<SQLCHAR*>(in.data()), SQL_NTS, out,
                                          sizeof out, &out_len, SQL_DRIVER_NOPROMPT);
    m_connected = SQL_SUCCEEDED(rc);
    if (m_connected) SQLAllocHandle(SQL_HANDLE_STMT, m_dbc, &m_stmt);
    return rc;
  }
  SQLRETURN exec(const std::string& sql) {
    std::string s = sql;
    return SQLExecDirect(m_stmt, reinterpret_cast<SQLCHAR*>(s.data()), SQL_NTS);
  }
  // Every row of the current result set, values as SQL_C_CHAR text ("NULL" for NULL).
  std::vector<std::vector<std::string>> rows() {
    std::vector<std::vector<std::string>> out;
    SQLSMALLINT cols = 0;
    SQLNumResultCols(m_stmt, &cols);
    while (cols > 0 && SQL_SUCCEEDED(SQLFetch(m_stmt))) {
      std::vector<std::string> row;
      for (SQLUSMALLINT c = 1; c <= static_cast<SQLUSMALLINT>(cols); ++c) {
        char buf[512] = {};
        SQLLEN ind = 0;
        SQLGetData(m_stmt, c, SQL_C_CHAR, buf, sizeof buf, &ind);
        row.emplace_back(ind == SQL_NULL_DATA ? "NULL" : buf);
      }
      out.push_back(std::move(row));
    }
    return out;
  }
  void drain() {
    while (SQL_SUCCEEDED(SQLMoreResults(m_stmt))) {
    }
    SQLFreeStmt(m_stmt, SQL_CLOSE);
  }
  SQLHDBC dbc() const { return m_dbc; }
  SQLHSTMT stmt() const { return m_stmt; }

 private:
  SQLHENV m_env = SQL_NULL_HANDLE;
  SQLHDBC m_dbc = SQL_NULL_HANDLE;
  SQLHSTMT m_stmt = SQL_NULL_HANDLE;
  bool m_connected = false;
};

class TdsOdbcTest : public TdsConformanceTest {
 protected:
  std::string conn_str(const std::string& password = k_fake_password) {
    if (::access(k_freetds_odbc, R_OK) != 0) ADD_FAILURE() << k_freetds_odbc << " missing; run scripts/install-deps.sh";
    return fmt::format("Driver={};Server=127.0.0.1;Port={};TDS_Version=7.4;UID={};PWD={{{}}};ClientCharset=UTF-8",
                       k_freetds_odbc, m_port, k_fake_user, password);
  }
};

TEST_F(TdsOdbcTest, ReadsEveryTypeAsText) {
  // Given the all-types result set, the FreeTDS ODBC driver should convert every value exactly,
  // numeric(25,0) and datetime2(7) included.
  Odbc odbc;
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.connect(conn_str()))) << describe(odbc_diags(SQL_HANDLE_DBC, odbc.dbc()));
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.exec("SELECT * FROM all_types"))) << describe(odbc_diags(SQL_HANDLE_STMT, odbc.stmt()));
  const auto rows = odbc.rows();
  ASSERT_EQ(rows.size(), 2u);
  const std::vector<std::string> expected = {
      "1", "-2147483648", "9223372036854775807", "-32768", "255", "1", "37000000295900004", "-123.4500", "2.5",
      "caf\xC3\xA9", "Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93", "max text xxxxxxxxxxxxxxxxxxxx",
      "\xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 max", "2024-02-29 13:45:10.123", "2024-02-29 13:45:10.1234567",
      "6F9619FF-8B86-D011-B42D-00C04FC964FF", "deadbeef", "abababababababab"};
  EXPECT_EQ(rows[0], expected);
  std::vector<std::string> nulls(expected.size(), "NULL");
  nulls[0] = "2";
  EXPECT_EQ(rows[1], nulls);
}

TEST_F(TdsOdbcTest, SeesInfoMessagesAndErrorsWithTheirNumbers) {
  // Given the slow statement, SQLExecDirect should succeed with info and carry the three 3211 messages
  // in order; given RAISERROR it should fail with native error 50000 (SQLSTATE 42000).
  Odbc odbc;
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.connect(conn_str())));
  EXPECT_EQ(odbc.exec("EXEC slow"), SQL_SUCCESS_WITH_INFO);
  const auto diags = odbc_diags(SQL_HANDLE_STMT, odbc.stmt());
  ASSERT_EQ(diags.size(), 3u) << describe(diags);
  EXPECT_EQ(diags[0].native, 3211);
  EXPECT_EQ(diags[0].state, "01000");
  EXPECT_THAT(diags[0].text, HasSubstr("30 percent processed."));
  EXPECT_THAT(diags[2].text, HasSubstr("90 percent processed."));
  odbc.drain();
  EXPECT_EQ(odbc.exec("RAISERROR"), SQL_ERROR);
  const auto err = odbc_diags(SQL_HANDLE_STMT, odbc.stmt());
  ASSERT_FALSE(err.empty());
  EXPECT_EQ(err[0].native, 50000);
  EXPECT_EQ(err[0].state, "42000");
  EXPECT_THAT(err[0].text, HasSubstr("The fake failed on purpose."));
}

TEST_F(TdsOdbcTest, SendsParametersThroughSpExecutesql) {
  // Given bound parameters (int, numeric(25,0) as text, nvarchar), the driver's RPC should reach the
  // session as sp_executesql with exactly those values, and the echoed row should match.
  Odbc odbc;
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.connect(conn_str())));
  SQLINTEGER i = -42;
  char lsn[] = "37000000295900004";
  SQLLEN lsn_len = SQL_NTS, i_len = 0;
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(odbc.stmt(), 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &i, 0, &i_len)));
  ASSERT_TRUE(SQL_SUCCEEDED(SQLBindParameter(odbc.stmt(), 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_NUMERIC, 25, 0, lsn,
                                             sizeof lsn, &lsn_len)));
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.exec("SELECT ?, ?"))) << describe(odbc_diags(SQL_HANDLE_STMT, odbc.stmt()));
  const auto rows = odbc.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"-42", "37000000295900004"}));
  const auto rpcs = m_instance.rpcs();
  ASSERT_FALSE(rpcs.empty());
  EXPECT_EQ(rpcs.back().procedure, "sp_executesql");
  ASSERT_EQ(rpcs.back().params.size(), 4u);
  EXPECT_EQ(rpcs.back().params[2].value, Value{std::int64_t{-42}});
  EXPECT_EQ(rpcs.back().params[3].type.type, SqlType::decimal);
  EXPECT_EQ(rpcs.back().params[3].value, Value{std::string("37000000295900004")});
}

TEST_F(TdsOdbcTest, AutocommitOffUsesTransactionManagerRequests) {
  // Given autocommit off and SQLEndTran(COMMIT), the session should see BEGIN and COMMIT TRANSACTION.
  Odbc odbc;
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.connect(conn_str())));
  ASSERT_TRUE(SQL_SUCCEEDED(SQLSetConnectAttr(odbc.dbc(), SQL_ATTR_AUTOCOMMIT,
                                              reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF), 0)))
      << describe(odbc_diags(SQL_HANDLE_DBC, odbc.dbc()));
  ASSERT_TRUE(SQL_SUCCEEDED(odbc.exec("PRINT 'in a transaction'")));
  odbc.drain();
  ASSERT_TRUE(SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, odbc.dbc(), SQL_COMMIT)))
      << describe(odbc_diags(SQL_HANDLE_DBC, odbc.dbc()));
  const auto batches = m_instance.batches();
  EXPECT_THAT(batches, ::testing::Contains("BEGIN TRANSACTION"));
  EXPECT_THAT(batches, ::testing::Contains("COMMIT TRANSACTION"));
}

TEST_F(TdsOdbcTest, AWrongPasswordGetsNativeError18456) {
  // Given a wrong password, SQLDriverConnect should fail with native error 18456.
  Odbc odbc;
  EXPECT_EQ(odbc.connect(conn_str("bad")), SQL_ERROR);
  const auto diags = odbc_diags(SQL_HANDLE_DBC, odbc.dbc());
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].native, 18456) << describe(diags);
  EXPECT_THAT(diags[0].text, HasSubstr("Login failed for user 'sa'."));
}

TEST_F(TdsOdbcTest, RequiringEncryptionFailsToConnect) {
  // Given Encryption=require, the driver should refuse to go on without TLS (the server answers
  // ENCRYPT_NOT_SUP), and the server should have logged why.
  std::vector<std::string> log;
  std::mutex log_mutex;
  m_server->stop();
  m_server = std::make_unique<tds::TdsServer>(m_instance, "127.0.0.1", 0, [&](const std::string& line) {
    std::lock_guard lock(log_mutex);
    log.push_back(line);
  });
  ASSERT_TRUE(m_server->start());
  m_port = std::to_string(m_server->port());
  Odbc odbc;
  EXPECT_EQ(odbc.connect(conn_str() + ";Encryption=require"), SQL_ERROR);
  m_server->stop();
  std::lock_guard lock(log_mutex);
  EXPECT_THAT(log, ::testing::Contains(HasSubstr("does not support encryption; connect with encryption off")));
  EXPECT_TRUE(m_instance.batches().empty());
}

// ---- Node's tedious ---------------------------------------------------------------------

class TdsTediousTest : public TdsConformanceTest {
 protected:
  std::vector<nlohmann::json> tedious(const std::string& scenario, const std::string& password = k_fake_password) {
    const std::string dir = std::string(MSSQL2RDS_SOURCE_DIR) + "/tests/sandbox/conformance";
    if (!std::filesystem::exists(dir + "/node_modules/tedious")) {
      ADD_FAILURE() << "tedious is not installed in " << dir << "; run scripts/install-deps.sh (npm ci)";
      return {};
    }
    const ProcessResult r = run_process({require("node"), dir + "/tedious_client.js", m_port, scenario}, "",
                                        {"SANDBOX_PASSWORD=" + password});
    std::vector<nlohmann::json> events;
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << line;
      else events.push_back(std::move(j));
    }
    EXPECT_EQ(r.exit_code, 0) << r.output;
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
};

TEST_F(TdsTediousTest, ASessionReadsTypesMessagesErrorsAndCancels) {
  // Given one tedious session that runs every kind of request, each should behave as against SQL Server.
  const auto ev = tedious("session");
  ASSERT_EQ(select(ev, "connected").size(), 1u) << nlohmann::json(ev).dump(1);
  for (const auto& e : select(ev, "crash")) ADD_FAILURE() << e.dump();

  // Every type, then the NULL row.
  const auto rows = select(ev, "row", "types");
  ASSERT_EQ(rows.size(), 2u);
  const auto& r = rows[0]["row"];
  EXPECT_EQ(r["c_int"], -2147483648LL);
  EXPECT_EQ(r["c_bigint"], "9223372036854775807");
  EXPECT_EQ(r["c_smallint"], -32768);
  EXPECT_EQ(r["c_tinyint"], 255);
  EXPECT_EQ(r["c_bit"], true);
  // tedious turns decimals into JavaScript numbers: numeric(25,0) survives only to double precision.
  EXPECT_NEAR(r["c_lsn"].get<double>(), 37000000295900004.0, 8.0);
  EXPECT_EQ(r["c_decimal"], -123.45);
  EXPECT_EQ(r["c_float"], 2.5);
  EXPECT_EQ(r["c_varchar"], "caf\xC3\xA9");
  EXPECT_EQ(r["c_nvarchar"], "Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93");
  EXPECT_EQ(r["c_varchar_max"], "max text xxxxxxxxxxxxxxxxxxxx");
  EXPECT_EQ(r["c_nvarchar_max"], "\xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 max");
  EXPECT_EQ(r["c_datetime"]["date"], "2024-02-29T13:45:10.123Z");
  EXPECT_EQ(r["c_datetime2"]["date"], "2024-02-29T13:45:10.123Z");
  EXPECT_EQ(r["c_guid"], "6F9619FF-8B86-D011-B42D-00C04FC964FF");
  EXPECT_EQ(r["c_varbinary"]["hex"], "deadbeef");
  EXPECT_EQ(r["c_varbinary_max"]["hex"], "abababababababab");
  for (const auto& [name, value] : rows[1]["row"].items()) {
    if (name != "id") {
      EXPECT_TRUE(value.is_null()) << name;
    }
  }
  EXPECT_EQ(select(ev, "request_done", "types").at(0)["rowCount"], 2);

  // RPC (sp_executesql with typed parameters): the session got the exact values.
  const auto echoed = select(ev, "row", "rpc");
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_EQ(echoed[0]["row"]["i"], -42);
  EXPECT_EQ(echoed[0]["row"]["b"], "9007199254740993");
  EXPECT_EQ(echoed[0]["row"]["s"], "Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93");
  EXPECT_EQ(echoed[0]["row"]["n"], 12345.678);
  EXPECT_EQ(echoed[0]["row"]["g"], "6F9619FF-8B86-D011-B42D-00C04FC964FF");
  EXPECT_EQ(echoed[0]["row"]["dt"]["date"], "2024-02-29T13:45:10.123Z");
  EXPECT_EQ(echoed[0]["row"]["bin"]["hex"], "deadbeef");
  EXPECT_TRUE(echoed[0]["row"]["nul"].is_null());
  bool saw_rpc = false;
  for (const auto& call : m_instance.rpcs()) {
    if (call.params.size() != 12) continue;
    saw_rpc = true;
    EXPECT_EQ(call.procedure, "sp_executesql");
    EXPECT_EQ(call.params[0].name, "@stmt");
    EXPECT_EQ(call.params[3].name, "@b");
    EXPECT_EQ(call.params[3].value, Value{std::int64_t{9007199254740993LL}});
    EXPECT_EQ(call.params[5].value, Value{std::string("12345.678")});
    EXPECT_EQ(call.params[6].type.type, SqlType::datetime2);
    EXPECT_EQ(call.params[6].value, Value{std::string("2024-02-29 13:45:10.123")});
  }
  EXPECT_TRUE(saw_rpc);

  // PRINT and RAISERROR.
  const auto infos = select(ev, "info");
  EXPECT_TRUE(std::any_of(infos.begin(), infos.end(), [](const auto& e) { return e["message"] == "hello from the fake"; }));
  const auto errors = select(ev, "error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["number"], 50000);
  EXPECT_EQ(errors[0]["class"], 16);
  EXPECT_EQ(errors[0]["state"], 2);
  EXPECT_EQ(select(ev, "request_done", "error").at(0)["code"], "EREQUEST");

  // The slow statement: each 3211 arrives on its own, while the statement still runs.
  std::vector<long> at;
  for (const auto& e : infos) {
    if (e["number"] == 3211) at.push_back(e["t"].get<long>());
  }
  ASSERT_EQ(at.size(), 3u);
  const long done_at = select(ev, "request_done", "slow").at(0)["t"].get<long>();
  const long step = k_slow_step.count();
  EXPECT_GE(at[1] - at[0], step / 2);
  EXPECT_GE(at[2] - at[1], step / 2);
  EXPECT_GE(done_at - at[0], step) << "the first message should arrive well before the statement ends";

  // Cancel (attention): acknowledged, the statement stopped, the connection still usable.
  EXPECT_EQ(select(ev, "request_done", "cancel").at(0)["code"], "ECANCEL");
  EXPECT_GE(m_instance.cancelled_statements(), 1);
  EXPECT_TRUE(std::any_of(infos.begin(), infos.end(), [](const auto& e) { return e["message"] == "still alive"; }));

  // Transactions through transaction manager requests, and USE.
  for (const auto& e : select(ev, "transaction")) EXPECT_TRUE(e["error"].is_null()) << e.dump();
  const auto batches = m_instance.batches();
  EXPECT_THAT(batches, ::testing::Contains("BEGIN TRANSACTION"));
  EXPECT_THAT(batches, ::testing::Contains("COMMIT TRANSACTION"));
  const auto dbs = select(ev, "database");
  ASSERT_FALSE(dbs.empty());
  EXPECT_EQ(dbs.back()["name"], "otherdb");
}

TEST_F(TdsTediousTest, AWrongPasswordGetsLoginFailed18456) {
  // Given a wrong password, tedious should receive error 18456, class 14, state 1, and fail with ELOGIN.
  const auto ev = tedious("wrong_password", "bad");
  const auto errors = select(ev, "error");
  ASSERT_EQ(errors.size(), 1u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(errors[0]["number"], 18456);
  EXPECT_EQ(errors[0]["class"], 14);
  EXPECT_EQ(errors[0]["state"], 1);
  EXPECT_EQ(errors[0]["message"], "Login failed for user 'sa'.");
  EXPECT_EQ(select(ev, "connect_failed").at(0)["code"], "ELOGIN");
}

TEST_F(TdsTediousTest, RequiringEncryptionGetsAClearError) {
  // Given encrypt: true, tedious should fail with the server's explanation.
  const auto ev = tedious("encrypt");
  const auto failed = select(ev, "connect_failed");
  ASSERT_EQ(failed.size(), 1u) << nlohmann::json(ev).dump(1);
  EXPECT_EQ(failed[0]["message"], "this sandbox server does not support encryption; connect with encryption off");
  EXPECT_TRUE(m_instance.batches().empty());
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(TdsConformanceTest, ServesSeveralClientsAtOnceAndStopsCleanly) {
  // Given four tsql clients running the slow statement at the same time, all should finish in about
  // one statement's time (one thread per connection), and stop() should leave no connection or
  // file descriptor behind.
  m_server->stop();
  const std::size_t fds_before = open_fds();
  m_server = std::make_unique<tds::TdsServer>(m_instance, "127.0.0.1", 0);
  ASSERT_TRUE(m_server->start());
  m_port = std::to_string(m_server->port());
  std::vector<std::thread> clients;
  std::vector<ProcessResult> results(4);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < results.size(); ++i) {
    clients.emplace_back([&, i] { results[i] = tsql("EXEC slow"); });
  }
  for (auto& t : clients) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (const auto& r : results) EXPECT_THAT(r.output, HasSubstr("90 percent processed.")) << r.output;
  EXPECT_LT(elapsed, 3 * k_slow_step * 2) << "the sessions ran one after another";
  m_server->stop();
  EXPECT_EQ(m_server->active_connections(), 0u);
  EXPECT_EQ(open_fds(), fds_before);
}

TEST_F(TdsConformanceTest, StopEndsARunningStatementAndItsConnection) {
  // Given a client stuck in a long statement, stop() should cancel it and return promptly.
  std::thread client([&] { tsql("WAITFOR DELAY '00:01:00'"); });
  // Wait until the statement runs (tsql may take a while to start under sanitizers).
  for (int i = 0; i < 200 && m_instance.batches().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(m_instance.batches().empty()) << "tsql never sent its statement";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  m_server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  client.join();
  EXPECT_EQ(m_instance.cancelled_statements(), 1);
}

}  // namespace
}  // namespace sandbox::testing
