// Values and errors of the real engine as an independent client sees them: the FreeTDS ODBC
// driver (through unixODBC) against a TdsServer over an in-process engine instance. Exact
// numeric(38)/money, date/time types with datetimeoffset's offset, char padding, and SQL
// Server's error numbers (8134, 245, 2627) in the driver's diagnostics.
#include <gtest/gtest.h>

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/instance_factory.hpp"
#include "tds/tds_server.hpp"

namespace sandbox::testing {
namespace {

constexpr const char* k_driver = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so";
constexpr const char* k_password = "Values#1";

// One ODBC connection; values read as SQL_C_CHAR text.
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

  bool connect(const std::string& conn_str) {
    SQLCHAR out[1024];
    SQLSMALLINT out_len = 0;
    std::string in = conn_str;
    m_connected = SQL_SUCCEEDED(SQLDriverConnect(m_dbc, nullptr, reinterpret_cast<SQLCHAR*>(in.data()), SQL_NTS, out,
                                                 sizeof out, &out_len, SQL_DRIVER_NOPROMPT));
    if (m_connected) SQLAllocHandle(SQL_HANDLE_STMT, m_dbc, &m_stmt);
    return m_connected;
  }
  SQLRETURN exec(const std::string& sql) {
    SQLFreeStmt(m_stmt, SQL_CLOSE);
    std::string s = sql;
    return SQLExecDirect(m_stmt, reinterpret_cast<SQLCHAR*>(s.data()), SQL_NTS);
  }
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
  // The first diagnostic's native error number and text.
  std::pair<int, std::string> error() {
    SQLCHAR state[6] = {}, msg[1024] = {};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (SQLGetDiagRec(SQL_HANDLE_STMT, m_stmt, 1, state, &native, msg, sizeof msg, &len) != SQL_SUCCESS) return {0, ""};
    return {static_cast<int>(native), reinterpret_cast<char*>(msg)};
  }
  SQLHSTMT stmt() const { return m_stmt; }

 private:
  SQLHENV m_env = SQL_NULL_HANDLE;
  SQLHDBC m_dbc = SQL_NULL_HANDLE;
  SQLHSTMT m_stmt = SQL_NULL_HANDLE;
  bool m_connected = false;
};

class TdsValuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    m_dir = (std::filesystem::temp_directory_path() / ("m2r-tds-values-" + std::to_string(rd()))).string();
    std::filesystem::create_directories(m_dir);
    InstanceConfig cfg;
    cfg.name = "src";
    cfg.data_dir = m_dir;
    cfg.sa_password = k_password;
    m_instance = open_instance(cfg);
    m_server = std::make_unique<tds::TdsServer>(*m_instance, "127.0.0.1", 0);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().message;
    if (::access(k_driver, R_OK) != 0) GTEST_FAIL() << k_driver << " missing; run scripts/install-deps.sh";
    ASSERT_TRUE(m_odbc.connect(fmt::format("Driver={};Server=127.0.0.1;Port={};TDS_Version=7.4;UID=sa;PWD={{{}}};ClientCharset=UTF-8",
                                           k_driver, m_server->port(), k_password)));
  }
  void TearDown() override {
    m_server->stop();
    m_server.reset();
    m_instance.reset();
    std::filesystem::remove_all(m_dir);
  }
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    const SQLRETURN rc = m_odbc.exec(sql);
    // A statement without a result set may well be SQL_NO_DATA.
    EXPECT_TRUE(SQL_SUCCEEDED(rc) || rc == SQL_NO_DATA) << sql << ": " << m_odbc.error().second;
    return m_odbc.rows();
  }

  std::string m_dir;
  std::unique_ptr<Instance> m_instance;
  std::unique_ptr<tds::TdsServer> m_server;
  Odbc m_odbc;
};

TEST_F(TdsValuesTest, ExactNumericsAndMoneyReachTheDriverDigitForDigit) {
  query("CREATE DATABASE vals");
  query("USE vals");
  query("CREATE TABLE t (n numeric(38,0), d decimal(18,2), m money)");
  query("INSERT INTO t (n, d, m) VALUES (12345678901234567890123456789012345678, 1234567890123456.78, 922337203685477.5807)");
  const auto rows = query("SELECT n, d, m, n + 1 FROM t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "12345678901234567890123456789012345678");
  EXPECT_EQ(rows[0][1], "1234567890123456.78");
  EXPECT_EQ(rows[0][2], "922337203685477.5807");
  EXPECT_EQ(rows[0][3], "12345678901234567890123456789012345679");
}

TEST_F(TdsValuesTest, DateTimeTypesKeepTheirFormAndOffset) {
  const auto rows = query("SELECT CAST('20261202' AS date), CAST('10:11:12.123' AS time(3)),"
                          " CAST('2026-12-02 10:00:00.12 +05:30' AS datetimeoffset(2)), CAST('ab' AS char(4)),"
                          " CAST('2026-12-02 10:00:29' AS smalldatetime)");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "2026-12-02");
  EXPECT_EQ(rows[0][1], "10:11:12.123");
  EXPECT_EQ(rows[0][2], "2026-12-02 10:00:00.12 +05:30");
  EXPECT_EQ(rows[0][3], "ab  ");
  EXPECT_EQ(rows[0][4], "2026-12-02 10:00:00");
}

TEST_F(TdsValuesTest, ErrorsCarrySqlServersNumbers) {
  EXPECT_EQ(m_odbc.exec("SELECT 1/0"), SQL_ERROR);
  auto e = m_odbc.error();
  EXPECT_EQ(e.first, 8134);
  EXPECT_NE(e.second.find("Divide by zero error encountered."), std::string::npos) << e.second;
  EXPECT_EQ(m_odbc.exec("SELECT CAST('abc' AS int)"), SQL_ERROR);
  e = m_odbc.error();
  EXPECT_EQ(e.first, 245);
  EXPECT_NE(e.second.find("Conversion failed when converting the varchar value 'abc' to data type int."), std::string::npos)
      << e.second;
}

}  // namespace
}  // namespace sandbox::testing
