#pragma once
// The demo's and the end-to-end tests' sample database, shaped like a production one (issue 13):
// an order-entry schema in dbo (identity keys, a foreign key, a trigger, a view, a function, a
// procedure, a composite key) and a product catalogue in a second schema, `inventory`, whose
// rows carry what DMS and validation find hardest: nvarchar(max) and varbinary(max) values from
// NULL and empty up to several MiB, an xml specification, money, datetimeoffset, a rowversion
// (DMS leaves it to the target, so it differs there and validation leaves it out), a computed
// price with tax (recomputed on the target), and a heap with a unique index (no primary key:
// MS-CDC carries it).
//
// `--size-mib N` scales it: customers and orders in proportion, products and their LOB bytes
// up to about N MiB in all, the largest LOB values 3/8 of that, up to 4 MiB.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r {

struct SampleShape {
  int size_mib = 8;
  int customers = 200;   // each with three shipped orders of one to three lines
  int products = 40;
  // The largest Description (bytes, nvarchar: two per character) and the largest Photo. The
  // workload never writes a larger value, so the LOB size measured before the task is created
  // stays the largest the task meets (docs/architecture.md "LOBs").
  std::size_t largest_lob_bytes = 3u << 20;
  std::size_t lob_budget_bytes = 8u << 20;  // every product's Description and Photo together

  // The shape of a database of about `size_mib` MiB; `customers`, when given, instead of the
  // proportional count.
  static SampleShape for_size(int size_mib, std::optional<int> customers = std::nullopt);
};

// Creates `database` (recovery FULL) with the sample schema and rows. `master` is a session on
// the master database. Deterministic: the same shape gives the same rows.
Expected<void> create_sample_database(mssql::SqlSession& master, const std::string& database, const SampleShape& shape);

// Values of the sample's LOB and specification columns, for the seed and for the workload's updates.
std::string sample_text(std::mt19937& random, std::size_t characters);  // ASCII words, no quote
mssql::Bytes sample_bytes(std::mt19937& random, std::size_t bytes);     // incompressible
std::string sample_spec_xml(std::mt19937& random, int product);         // a well-formed document
// A LOB size from 0 to `largest` bytes, log-uniform: mostly small values, now and then large.
std::size_t sample_lob_size(std::mt19937& random, std::size_t largest);

}  // namespace m2r
