#pragma once
// In-process helpers for the engine's unit tests: a temp data dir, an instance, and a
// ResultSink that records what a statement produced.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "engine/instance_factory.hpp"

namespace sandbox::test {

struct Collected {
  struct ResultSet {
    std::vector<Column> columns;
    std::vector<std::vector<Value>> rows;
  };
  std::vector<ResultSet> sets;
  std::vector<Message> messages;
  std::vector<std::optional<std::int64_t>> counts;
  int errors = 0;
  std::vector<int> statuses;
  struct ReturnValue {
    std::string name;
    ColumnType type;
    Value value;
  };
  std::vector<ReturnValue> return_values;               // OUTPUT parameters of an RPC
  std::vector<ResultSink::Transaction> transactions;    // began / committed / rolled back
  std::vector<std::string> order;                       // "status", "value", "done_proc", ... as they came

  const Message* error() const {
    for (auto& m : messages) if (m.is_error()) return &m;
    return nullptr;
  }
  bool has_message(int number) const {
    for (auto& m : messages) if (m.number == number) return true;
    return false;
  }
};

class CollectSink : public ResultSink {
 public:
  Collected c;
  void columns(const std::vector<Column>& cols) override { c.sets.push_back({cols, {}}); }
  void row(const std::vector<Value>& v) override { c.sets.back().rows.push_back(v); }
  void done(DoneKind kind, std::optional<std::int64_t> n, bool error) override {
    c.counts.push_back(n);
    if (error) ++c.errors;
    if (kind == DoneKind::proc) c.order.push_back("done_proc");
  }
  void message(const Message& m) override { c.messages.push_back(m); }
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int s) override {
    c.statuses.push_back(s);
    c.order.push_back("status");
  }
  void return_value(const std::string& name, const ColumnType& type, const Value& value) override {
    c.return_values.push_back({name, type, value});
    c.order.push_back("value");
  }
  void transaction_changed(Transaction e) override { c.transactions.push_back(e); }
  bool cancelled() override { return false; }
};

inline std::string temp_dir(const std::string& tag) {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() / ("m2r-engine-" + tag + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p.string();
}

// The local Distributor "Configure publishing and distribution" sets up on the instance named
// `server` (run as sa): what a test that publishes a database needs first (20028 otherwise).
inline std::string local_distributor_sql(const std::string& server) {
  return "EXEC sp_adddistributor @distributor = N'" + server + "', @password = N'Dist#Pass1';"
         " EXEC sp_adddistributiondb @database = N'distribution';"
         " EXEC sp_adddistpublisher @publisher = N'" + server + "', @distribution_db = N'distribution';";
}

inline Collected run(Session& s, const std::string& sql) {
  CollectSink sink;
  s.execute_batch(sql, sink);
  return sink.c;
}

inline constexpr const char* k_sa_password = "Secret#1";  // the tests' instances' sa password

// sa on `inst`, in `db` (the login's default database when empty).
inline std::unique_ptr<Session> login(Instance& inst, const std::string& db = "") {
  auto l = inst.login("sa", k_sa_password, db);
  EXPECT_TRUE(l.session) << l.failure.text;
  return std::move(l.session);
}

// Runs `sql`, which should succeed.
inline Collected must(Session& s, const std::string& sql) {
  auto r = run(s, sql);
  EXPECT_EQ(r.errors, 0) << sql << " -> " << (r.error() ? r.error()->text : "");
  return r;
}

// The single value of a one-row SELECT (the last result set's first cell).
inline Value scalar_of(Session& s, const std::string& sql) {
  auto r = must(s, sql);
  if (r.sets.empty() || r.sets.back().rows.empty()) {
    ADD_FAILURE() << sql << " returned no row";
    return {};
  }
  return r.sets.back().rows[0][0];
}

// The error a statement raises (number and text); a failure when it raises none.
inline Message error_of(Session& s, const std::string& sql) {
  auto r = run(s, sql);
  if (!r.error()) {
    ADD_FAILURE() << sql << " raised no error";
    return {};
  }
  return *r.error();
}

inline std::int64_t as_int(const Value& v) { return std::get<std::int64_t>(v); }
inline std::string as_str(const Value& v) { return std::get<std::string>(v); }

// An instance in its own temporary directory, a session on it, and both gone with the directory
// at the end: the base of the fixtures below.
class InstanceTest : public ::testing::Test {
 protected:
  explicit InstanceTest(std::string tag) : m_tag(std::move(tag)) {}
  void TearDown() override {
    m_s.reset();
    m_inst.reset();
    std::filesystem::remove_all(m_dir);
  }
  // Opens the instance `cfg` describes in m_dir (its data_dir and sa_password filled in).
  void open(InstanceConfig cfg) {
    m_dir = temp_dir(m_tag);
    cfg.data_dir = m_dir;
    cfg.sa_password = k_sa_password;
    m_inst = open_instance(cfg);
  }
  std::string m_tag;
  std::string m_dir;
  std::unique_ptr<Instance> m_inst;
  std::unique_ptr<Session> m_s;
};

// An sa session in a new database `shop`: the set-up most engine tests share. Fixtures derive
// from it and add their tables in SetUp.
class ShopInstanceTest : public InstanceTest {
 protected:
  explicit ShopInstanceTest(std::string tag) : InstanceTest(std::move(tag)) {}
  void SetUp() override {
    InstanceConfig cfg;
    cfg.name = "src";
    open(cfg);
    m_s = login(*m_inst);
    must(*m_s, "CREATE DATABASE shop");
    must(*m_s, "USE shop");
  }
};

// An sa session in a new database `db`, with the helpers of tests that read one value at a
// time (types and values).
class ValueQueryTest : public InstanceTest {
 protected:
  ValueQueryTest(std::string tag, std::string db) : InstanceTest(std::move(tag)), m_db(std::move(db)) {}
  void SetUp() override {
    InstanceConfig cfg;
    cfg.name = "src";
    open(cfg);
    m_s = login(*m_inst);
    must(*m_s, "CREATE DATABASE " + m_db + "; USE " + m_db + ";");
  }
  // The single value of a one-row, one-column SELECT.
  Value scalar(const std::string& sql) {
    auto r = must(*m_s, sql);
    if (r.sets.empty() || r.sets.back().rows.empty()) {
      ADD_FAILURE() << sql << " returned no row";
      return {};
    }
    return r.sets.back().rows[0][0];
  }
  ColumnType type_of(const std::string& sql) {
    auto r = must(*m_s, sql);
    if (r.sets.empty() || r.sets.back().columns.empty()) return {};
    return r.sets.back().columns[0].type;
  }
  // The error a statement raises (number and text).
  Message error_of(const std::string& sql) {
    auto r = run(*m_s, sql);
    if (!r.error()) {
      ADD_FAILURE() << sql << " raised no error";
      return {};
    }
    return *r.error();
  }
  std::string m_db;
};

// An RDS instance (kind rds) and a session of its master user "admin" (db_owner of the
// databases it creates, not sysadmin), in master.
class RdsInstanceTest : public InstanceTest {
 protected:
  explicit RdsInstanceTest(std::string tag) : InstanceTest(std::move(tag)) {}
  void SetUp() override {
    InstanceConfig cfg;
    cfg.name = "rds";
    cfg.kind = InstanceKind::rds;
    cfg.admin_user = "admin";
    open(cfg);
    auto l = m_inst->login("admin", k_sa_password, "");
    ASSERT_TRUE(l.session) << l.failure.text;
    m_s = std::move(l.session);
  }
};

}  // namespace sandbox::test
