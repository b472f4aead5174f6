#include "sandbox/support/fake_instance.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

namespace sandbox::testing {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

Message info_message(int number, std::string text, int state = 1) {
  Message m;
  m.number = number;
  m.state = state;
  m.severity = 10;
  m.text = std::move(text);
  return m;
}

// Batches the fake understands (matched on the upper-cased, trimmed text):
//   SELECT * FROM ALL_TYPES  -> all_types_columns / all_types_rows, "(2 rows affected)"
//   PRINT 'x'                -> INFO 0 "x"
//   RAISERROR                -> ERROR 50000, severity 16, state 2, "The fake failed on purpose."
//   EXEC SLOW                -> three INFO 3211 "N percent processed." k_slow_step apart
//   WAITFOR                  -> runs until cancelled (attention), at most 10 s
//   USE db                   -> database change
//   SELECT BIG               -> 3000 rows of nvarchar(max) (responses across many packets)
//   anything else            -> a DONE without a count (SET options, BEGIN TRANSACTION, ...)
class FakeSession final : public Session {
 public:
  FakeSession(FakeInstance& inst, std::string db) : m_inst(inst), m_db(std::move(db)) {}

  void execute_batch(const std::string& sql, ResultSink& sink) override {
    m_inst.record_batch(sql);
    std::string s = sql;
    s.erase(0, s.find_first_not_of(" \t\r\n"));
    s.erase(s.find_last_not_of(" \t\r\n;") + 1);
    const std::string u = upper(s);
    if (u == "SELECT * FROM ALL_TYPES") {
      sink.columns(all_types_columns());
      for (const auto& r : all_types_rows()) sink.row(r);
      sink.done(DoneKind::statement, 2, false);
    } else if (u == "SELECT * FROM CLASSIC_TYPES") {
      // The all-types set without uniqueidentifier and datetime2, which FreeTDS's
      // DB-Library (bsqldb) cannot print.
      std::vector<Column> cols;
      std::vector<std::vector<Value>> rows(2);
      const auto all_cols = all_types_columns();
      const auto all_rows = all_types_rows();
      for (std::size_t i = 0; i < all_cols.size(); ++i) {
        if (all_cols[i].name == "c_guid" || all_cols[i].name == "c_datetime2") continue;
        cols.push_back(all_cols[i]);
        for (std::size_t r = 0; r < rows.size(); ++r) rows[r].push_back(all_rows[r][i]);
      }
      sink.columns(cols);
      for (const auto& r : rows) sink.row(r);
      sink.done(DoneKind::statement, 2, false);
    } else if (u.rfind("PRINT ", 0) == 0) {
      std::string text = s.substr(6);
      if (text.size() >= 2 && text.front() == '\'') text = text.substr(1, text.size() - 2);
      sink.message(info_message(0, text));
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u.rfind("RAISERROR", 0) == 0) {
      Message m;
      m.number = 50000;
      m.state = 2;
      m.severity = 16;
      m.text = "The fake failed on purpose.";
      sink.message(m);
      sink.done(DoneKind::statement, std::nullopt, true);
    } else if (u == "EXEC FAILING_PROC") {
      // A procedure whose statement failed and which ran on to its end (SELECT 1/0 in a body).
      Message m;
      m.number = 8134;
      m.severity = 16;
      m.text = "Divide by zero error encountered.";
      sink.message(m);
      sink.done(DoneKind::in_proc, std::nullopt, true);
      sink.return_status(-6);
      sink.done(DoneKind::proc, std::nullopt, false);
    } else if (u == "EXEC SLOW") {
      for (int pct : {30, 60, 90}) {
        std::this_thread::sleep_for(k_slow_step);
        if (sink.cancelled()) {
          m_inst.record_cancel();
          return;
        }
        sink.message(info_message(3211, std::to_string(pct) + " percent processed."));
      }
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u.rfind("WAITFOR", 0) == 0) {
      for (int i = 0; i < 1000; ++i) {
        if (sink.cancelled()) {
          m_inst.record_cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u.rfind("USE ", 0) == 0) {
      std::string db = s.substr(4);
      if (!db.empty() && db.front() == '[') db = db.substr(1, db.size() - 2);
      const std::string old = m_db;
      m_db = db;
      sink.database_changed(old, db);
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u.rfind("BEGIN TRANSACTION", 0) == 0) {
      if (m_trancount++ == 0) sink.transaction_changed(ResultSink::Transaction::began);
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u.rfind("COMMIT TRANSACTION", 0) == 0 || u.rfind("ROLLBACK TRANSACTION", 0) == 0) {
      const bool commit = u[0] == 'C';
      if (m_trancount == 0) {
        Message m;
        m.number = commit ? 3902 : 3903;
        m.severity = 16;
        m.text = commit ? "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION."
                        : "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.";
        sink.message(m);
        sink.done(DoneKind::statement, std::nullopt, true);
        return;
      }
      m_trancount = commit ? m_trancount - 1 : 0;
      if (m_trancount == 0) {
        sink.transaction_changed(commit ? ResultSink::Transaction::committed : ResultSink::Transaction::rolled_back);
      }
      sink.done(DoneKind::statement, std::nullopt, false);
    } else if (u == "SELECT BIG") {
      sink.columns({{"n", {SqlType::int_, 0, 0, 0}, false}, {"text", {SqlType::nvarchar, k_max_length, 0, 0}, true}});
      for (int i = 0; i < 3000; ++i) sink.row({std::int64_t{i}, std::string(100, static_cast<char>('a' + i % 26))});
      sink.done(DoneKind::statement, 3000, false);
    } else {
      sink.done(DoneKind::statement, std::nullopt, false);
    }
  }

  // sp_executesql echoes its parameters (after @stmt and @params) as one row, one
  // column per parameter named after it, in the type the client sent; any other
  // procedure returns status 7 and hands each OUTPUT parameter back, its integer value doubled.
  void execute_rpc(const std::string& procedure, const std::vector<RpcParam>& params, ResultSink& sink) override {
    m_inst.record_rpc(procedure, params);
    if (procedure == "sp_executesql") {
      std::vector<Column> cols;
      std::vector<Value> row;
      for (std::size_t i = 2; i < params.size(); ++i) {
        std::string name = params[i].name;
        if (!name.empty() && name.front() == '@') name.erase(0, 1);
        cols.push_back({name, params[i].type, true});
        row.push_back(params[i].value);
      }
      if (!cols.empty()) {
        sink.columns(cols);
        sink.row(row);
        sink.done(DoneKind::in_proc, 1, false);
      }
      sink.return_status(0);
      sink.done(DoneKind::proc, std::nullopt, false);
      return;
    }
    sink.return_status(7);
    for (const auto& p : params) {
      if (!p.output) continue;
      const auto* i = std::get_if<std::int64_t>(&p.value);
      // Folded to lower case, as the engine keeps variable names.
      std::string folded = p.name.empty() ? "@out" : p.name;
      for (char& ch : folded) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      sink.return_value(folded, p.type, i ? Value{*i * 2} : p.value);
    }
    sink.done(DoneKind::proc, std::nullopt, false);
  }

  std::string current_database() const override { return m_db; }

  // Back to the login's database; the transaction goes unless keep_transaction.
  void reset(bool keep_transaction) override {
    m_inst.record_reset(keep_transaction);
    m_db = m_login_db;
    if (!keep_transaction) m_trancount = 0;
  }

 private:
  FakeInstance& m_inst;
  std::string m_db;
  std::string m_login_db = m_db;
  int m_trancount = 0;
};

}  // namespace

std::vector<Column> all_types_columns() {
  return {
      {"id", {SqlType::int_, 0, 0, 0}, false},
      {"c_int", {SqlType::int_, 0, 0, 0}, true},
      {"c_bigint", {SqlType::bigint, 0, 0, 0}, true},
      {"c_smallint", {SqlType::smallint, 0, 0, 0}, true},
      {"c_tinyint", {SqlType::tinyint, 0, 0, 0}, true},
      {"c_bit", {SqlType::bit, 0, 0, 0}, true},
      {"c_lsn", {SqlType::decimal, 0, 25, 0}, true},
      {"c_decimal", {SqlType::decimal, 0, 10, 4}, true},
      {"c_float", {SqlType::float_, 0, 0, 0}, true},
      {"c_varchar", {SqlType::varchar, 50, 0, 0}, true},
      {"c_nvarchar", {SqlType::nvarchar, 50, 0, 0}, true},
      {"c_varchar_max", {SqlType::varchar, k_max_length, 0, 0}, true},
      {"c_nvarchar_max", {SqlType::nvarchar, k_max_length, 0, 0}, true},
      {"c_datetime", {SqlType::datetime, 0, 0, 0}, true},
      {"c_datetime2", {SqlType::datetime2, 0, 0, 7}, true},
      {"c_guid", {SqlType::uniqueidentifier, 0, 0, 0}, true},
      {"c_varbinary", {SqlType::varbinary, 16, 0, 0}, true},
      {"c_varbinary_max", {SqlType::varbinary, k_max_length, 0, 0}, true},
  };
}

std::vector<std::vector<Value>> all_types_rows() {
  std::vector<Value> full = {
      std::int64_t{1},
      std::int64_t{-2147483647 - 1},
      std::int64_t{9223372036854775807},
      std::int64_t{-32768},
      std::int64_t{255},
      std::int64_t{1},
      std::string("37000000295900004"),
      std::string("-123.4500"),
      2.5,
      std::string("caf\xC3\xA9"),                              // café
      std::string("Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93"),      // Grüße ✓
      std::string("max text ") + std::string(20, 'x'),
      std::string("\xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9 max"),  // ünïcödé max
      std::string("2024-02-29 13:45:10.123"),
      std::string("2024-02-29 13:45:10.1234567"),
      std::string("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
      Bytes{{0xDE, 0xAD, 0xBE, 0xEF}},
      Bytes{std::vector<std::uint8_t>(8, 0xAB)},
  };
  std::vector<Value> nulls(full.size());
  nulls[0] = std::int64_t{2};
  return {full, nulls};
}

InstanceInfo FakeInstance::info() const {
  InstanceInfo i;
  i.server_name = "FAKESQL";
  i.product_version = "15.0.4355.3";
  i.version_banner = "Microsoft SQL Server 2019 (sandbox fake)";
  i.edition = "Developer Edition (64-bit)";
  return i;
}

LoginResult FakeInstance::login(const std::string& user, const std::string& password, const std::string& database) {
  LoginResult r;
  if (user != k_fake_user || password != k_fake_password) {
    r.failure.number = 18456;
    r.failure.severity = 14;
    r.failure.state = 1;
    r.failure.text = "Login failed for user '" + user + "'.";
    return r;
  }
  r.session = std::make_unique<FakeSession>(*this, database.empty() ? "master" : database);
  return r;
}

std::vector<std::string> FakeInstance::batches() const {
  std::lock_guard lock(m_mutex);
  return m_batches;
}

std::vector<RecordedRpc> FakeInstance::rpcs() const {
  std::lock_guard lock(m_mutex);
  return m_rpcs;
}

void FakeInstance::record_batch(const std::string& sql) {
  std::lock_guard lock(m_mutex);
  m_batches.push_back(sql);
}

void FakeInstance::record_rpc(const std::string& proc, const std::vector<RpcParam>& params) {
  std::lock_guard lock(m_mutex);
  m_rpcs.push_back({proc, params});
}

void FakeInstance::record_reset(bool keep_transaction) {
  std::lock_guard lock(m_mutex);
  m_resets.push_back(keep_transaction);
}

std::vector<bool> FakeInstance::resets() const {
  std::lock_guard lock(m_mutex);
  return m_resets;
}

}  // namespace sandbox::testing
