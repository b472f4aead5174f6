// Validation throughput against reading every row once (issue 13, stretch): two sandbox
// instances served over TDS in this process, the product's OdbcSession (FreeTDS) on each, one
// table of `rows` rows equal on both sides. Measures `SELECT *` of the table on both sides
// (what any comparison must at least read) and validate_databases, and prints one JSON line.
// Run by bench/validate.sh, never by CTest. The sandbox translates T-SQL onto SQLite: the
// figures compare the two reads through the same driver and server, not SQL Server's speed.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/instance_factory.hpp"
#include "migrate/table_validation.hpp"
#include "mssql/odbc_session.hpp"
#include "tds/tds_server.hpp"

namespace {

constexpr const char* k_password = "Bench#Pass1";

struct Served {
  std::unique_ptr<sandbox::Instance> instance;
  std::unique_ptr<sandbox::tds::TdsServer> server;
};

Served serve(const std::string& dir, const std::string& name) {
  Served s;
  sandbox::InstanceConfig cfg;
  cfg.name = name;
  cfg.data_dir = dir + "/" + name;
  cfg.sa_password = k_password;
  s.instance = sandbox::open_instance(cfg);
  s.server = std::make_unique<sandbox::tds::TdsServer>(*s.instance, "127.0.0.1", 0);
  if (auto started = s.server->start(); !started) throw std::runtime_error(started.error().message);
  return s;
}

std::unique_ptr<m2r::mssql::SqlSession> connect(Served& s, const std::string& database) {
  m2r::mssql::ConnectionSettings c;
  c.server = "127.0.0.1";
  c.port = s.server->port();
  c.database = database;
  c.login = "sa";
  c.encrypt = false;
  auto session = m2r::mssql::OdbcSession::connect(c, m2r::mssql::Secret(k_password));
  if (!session) throw std::runtime_error(session.error().message);
  return std::move(*session);
}

void must(m2r::mssql::SqlSession& db, const std::string& sql, std::vector<m2r::mssql::SqlParam> params = {}) {
  if (auto r = db.execute(sql, std::move(params)); !r) throw std::runtime_error(sql.substr(0, 80) + ": " + r.error().message);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::stoi(argv[1]) : 20000;
  const int body_chars = argc > 2 ? std::stoi(argv[2]) : 500;
  const int chunk_rows = argc > 3 ? std::stoi(argv[3]) : 5000;
  const std::string dir = (std::filesystem::temp_directory_path() / fmt::format("m2r-validate-bench-{}", std::random_device{}())).string();
  try {
    Served source = serve(dir, "src"), target = serve(dir, "dst");
    std::mt19937_64 random(42);
    for (Served* s : {&source, &target}) {
      auto admin = connect(*s, "master");
      must(*admin, "CREATE DATABASE bench");
      auto db = connect(*s, "bench");
      must(*db, "CREATE TABLE dbo.Orders (id int NOT NULL PRIMARY KEY, amount decimal(18,2) NOT NULL, placed datetime2(3) NOT NULL,"
                " name nvarchar(100) NULL, body nvarchar(max) NULL)");
    }
    // The same rows on both sides, 500 per INSERT.
    std::string batch;
    int in_batch = 0;
    const auto flush = [&] {
      if (batch.empty()) return;
      for (Served* s : {&source, &target}) must(*connect(*s, "bench"), "INSERT INTO dbo.Orders VALUES " + batch);
      batch.clear();
      in_batch = 0;
    };
    for (int i = 1; i <= rows; ++i) {
      std::string body(static_cast<std::size_t>(body_chars), 'a');
      for (auto& ch : body) ch = static_cast<char>('a' + random() % 26);
      batch += fmt::format("{}({}, {}.{:02d}, '2026-12-02 10:{:02d}:{:02d}.{:03d}', N'customer {}', N'{}')", batch.empty() ? "" : ", ", i,
                           random() % 100000, random() % 100, i / 60 % 60, i % 60, i % 1000, i, body);
      if (++in_batch == 500) flush();
    }
    flush();

    auto src = connect(source, "bench");
    auto tgt = connect(target, "bench");
    // Reading every row once on each side, through the same driver.
    auto start = std::chrono::steady_clock::now();
    std::uint64_t bytes = 0;
    for (auto* db : {src.get(), tgt.get()}) {
      auto r = db->query("SELECT * FROM dbo.Orders");
      if (!r) throw std::runtime_error(r.error().message);
      if (db == src.get()) {
        for (const auto& row : r->rows())
          for (const auto& v : row) bytes += v.to_text().size();
      }
    }
    const double read_s = seconds_since(start);

    m2r::ValidationOptions options;
    options.limits.chunk_rows = chunk_rows;
    start = std::chrono::steady_clock::now();
    auto report = m2r::validate_databases(*src, *tgt, options);
    const double validate_s = seconds_since(start);
    if (!report) throw std::runtime_error(report.error().message);
    if (!report->ok()) throw std::runtime_error("the equal tables did not validate as equal");

    const double mb = static_cast<double>(bytes) / 1e6;
    nlohmann::json out = {{"rows", rows},
                          {"body_chars", body_chars},
                          {"chunk_rows", chunk_rows},
                          {"table_mb", mb},
                          {"select_all_both_sides_s", read_s},
                          {"select_all_rows_per_s", rows / read_s},
                          {"select_all_mb_per_s", mb / read_s},
                          {"validate_s", validate_s},
                          {"validate_rows_per_s", rows / validate_s},
                          {"validate_mb_per_s", mb / validate_s},
                          {"validate_time_over_select_all", validate_s / read_s}};
    std::printf("%s\n", out.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "validate_bench: %s\n", e.what());
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
