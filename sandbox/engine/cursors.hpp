#pragma once
// API server cursors: what sp_cursoropen & co. keep per session (README.md "Server cursors";
// the procedures themselves are in cursors.cpp). A cursor's result set is materialised when it
// opens; KEYSET and DYNAMIC cursors over base tables keep, for each row, the SQLite rowid of the
// row of each table it came from (their keyset), which positioned UPDATE/DELETE (sp_cursor,
// WHERE CURRENT OF) and the refetch of current values go by.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace sandbox::engine {

// sp_cursoropen's scrollopt and ccopt values (Microsoft's "sp_cursoropen").
namespace cursor_opt {
inline constexpr int keyset = 0x1, dynamic = 0x2, forward_only = 0x4, static_ = 0x8, fast_forward = 0x10;
inline constexpr int parameterized_stmt = 0x1000, auto_fetch = 0x2000, auto_close = 0x4000;
inline constexpr int check_accepted_types = 0x8000;
inline constexpr int read_only = 0x1, scroll_locks = 0x2, optimistic = 0x4, optimistic_values = 0x8;
inline constexpr int allow_direct = 0x2000, check_accepted_opts = 0x8000;
}  // namespace cursor_opt

struct CursorRow {
  std::vector<Value> values;
  std::vector<std::optional<std::int64_t>> rowids;  // its key in each base table (updatable cursors)
  bool missing = false;               // deleted since the cursor opened (a keyset "hole")
};

struct ServerCursor {
  int scroll = cursor_opt::keyset;     // the type chosen (one of keyset .. fast_forward)
  int concurrency = cursor_opt::read_only;
  bool allow_direct = false;
  bool auto_close = false;
  std::string name;                    // sp_cursoroption CURSOR_NAME (WHERE CURRENT OF)
  std::vector<Column> columns;         // the result set as the client sees it
  std::vector<CursorRow> rows;
  // The base tables of FROM, in order: the name as written (`[dbo].[Orders]`, `[#t]`) and the
  // qualifier its columns take (its alias, else its last name part). Empty: not updatable.
  struct Table {
    std::string name;
    std::string qualifier;
  };
  std::vector<Table> tables;
  // Select-list columns that name a table column: result column (lower case) -> (qualifier as
  // written, possibly empty; the table's column name).
  std::map<std::string, std::pair<std::string, std::string>> origins;
  // The statement as run (with the rowid column added for an updatable cursor) and its
  // parameters (sp_executesql's @stmt, @params, values), to refetch current values.
  std::vector<RpcParam> statement;
  // Position: `start` is the 1-based position, among the rows a fetch can see, of the fetch
  // buffer's first row (0: before the first row, past the end: after the last one); `buffer`
  // holds the indices into `rows` of the rows the last fetch returned.
  std::size_t start = 0;
  std::vector<std::size_t> buffer;
  std::optional<std::size_t> current;  // sp_cursor SETPOSITION's row (an index into `rows`)
  bool is_dynamic() const { return scroll == cursor_opt::dynamic; }
  bool is_forward_only() const { return scroll == cursor_opt::forward_only || scroll == cursor_opt::fast_forward; }
};

// sp_cursorprepare's statement, opened by sp_cursorexecute.
struct PreparedCursor {
  std::string params;
  std::string stmt;
  int scroll = 0;
  int concurrency = 0;
};

// A session's cursors by handle; they go when the session ends or is reset.
struct ServerCursors {
  std::map<std::int32_t, ServerCursor> open;
  std::map<std::int32_t, PreparedCursor> prepared;
  std::int32_t next_handle = 180150000;  // handles look like SQL Server's
  std::int32_t next_prepared = 1;
  void close_all() {
    open.clear();
    prepared.clear();
  }
};

}  // namespace sandbox::engine
