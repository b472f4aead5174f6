// DDL: CREATE/DROP/ALTER of databases, schemas, tables (identity, primary and foreign
// keys), views, procedures, functions, triggers; DBCC CHECKIDENT.
#include <set>

#include "engine/database_options.hpp"
#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/tempdb.hpp"

namespace sandbox::engine {

namespace {

// The column type SQLite is given. Decimals wider than 15 digits (numeric(25,0) holds LSNs)
// would lose digits under SQLite's NUMERIC affinity, which turns a long integer text into a
// REAL; declared "numeric blob(25,0)" they have no affinity, so the exact text is kept, and
// parse_type still reads the T-SQL type that types the results.
std::string sqlite_column_decl(const std::string& decl, const ColumnType& type) {
  // A double holds 15 digits exactly: wider decimals and money (19 digits) keep exact text.
  // xml too: under the NUMERIC affinity its name gives, a value such as '12' would become a number.
  const bool wide = (type.type == SqlType::decimal && type.precision > 15) || type.type == SqlType::money ||
                    type.type == SqlType::xml;
  if (!wide) return decl;
  const auto paren = decl.find('(');
  if (paren == std::string::npos) return decl + " blob";
  return decl.substr(0, paren) + " blob" + decl.substr(paren);
}

int system_type_id(const std::string& decl) {
  std::string base = decl.substr(0, decl.find('('));
  static const std::map<std::string, int> ids = {
      {"int", 56}, {"bigint", 127}, {"smallint", 52}, {"tinyint", 48}, {"bit", 104}, {"decimal", 106}, {"numeric", 108},
      {"float", 62}, {"real", 59}, {"varchar", 167}, {"nvarchar", 231}, {"char", 175}, {"nchar", 239}, {"datetime", 61},
      {"datetime2", 42}, {"date", 40}, {"uniqueidentifier", 36}, {"varbinary", 165}, {"binary", 173}, {"money", 60}, {"smallmoney", 122},
      {"text", 35}, {"ntext", 99}, {"smalldatetime", 58}, {"time", 41}, {"datetimeoffset", 43}, {"image", 34},
      {"sysname", 231}, {"xml", 241}, {"timestamp", 189}, {"rowversion", 189},
      {"sql_variant", 98}};
  auto it = ids.find(base);
  return it == ids.end() ? 0 : it->second;
}

int max_length(const ColumnType& t, const std::string& decl) {
  switch (t.type) {
    case SqlType::int_: return 4;
    case SqlType::bigint: return 8;
    case SqlType::smallint: return 2;
    case SqlType::tinyint: case SqlType::bit: return 1;
    case SqlType::decimal: return t.precision <= 9 ? 5 : t.precision <= 19 ? 9 : t.precision <= 28 ? 13 : 17;
    case SqlType::float_: return 8;
    case SqlType::varchar: return t.length == k_max_length ? -1 : t.length;
    case SqlType::nvarchar: return t.length == k_max_length ? -1 : (decl.rfind("sysname", 0) == 0 ? 256 : t.length * 2);
    case SqlType::datetime: case SqlType::datetime2: return 8;
    case SqlType::uniqueidentifier: return 16;
    case SqlType::varbinary: return t.length == k_max_length ? -1 : t.length;
    case SqlType::money: return 8;
    case SqlType::smallmoney: case SqlType::real: return 4;
    case SqlType::date: return 3;
    case SqlType::time: return t.scale <= 2 ? 3 : t.scale <= 4 ? 4 : 5;
    case SqlType::datetimeoffset: return t.scale <= 2 ? 8 : t.scale <= 4 ? 9 : 10;
    case SqlType::smalldatetime: return 4;
    case SqlType::char_: case SqlType::binary: return t.length;
    case SqlType::nchar: return t.length * 2;
    case SqlType::text: case SqlType::ntext: case SqlType::image: return 16;
    case SqlType::xml: return -1;
    case SqlType::sql_variant: return 8016;  // sys.columns.max_length of a sql_variant column
  }
  return 0;
}

std::int64_t next_object_id(sqlite3* c) {
  return query_int(c, "SELECT MAX(object_id) FROM __m2r_objects", 245575893) + 16 + (std::rand() % 7) * 1000;
}

std::int64_t schema_id(sqlite3* c, const std::string& schema) {
  Stmt s(c, "SELECT schema_id FROM __m2r_schemas WHERE name = ? COLLATE NOCASE");
  s.bind(1, schema);
  if (!s.step()) raise(2760, 16, "The specified schema name \"" + schema + "\" either does not exist or you do not have permission to use it.");
  return s.i64(0);
}

void insert_object(sqlite3* c, std::int64_t id, const std::string& name, std::int64_t sid, std::int64_t parent,
                   const std::string& type, const std::string& type_desc, const std::string& definition,
                   const std::string& sqlite_name) {
  Stmt s(c, "INSERT INTO __m2r_objects(object_id, name, schema_id, parent_object_id, type, type_desc, create_date,"
            " modify_date, definition, sqlite_name) VALUES(?,?,?,?,?,?,?,?,?,?)");
  const std::string now = now_datetime();
  s.bind(1, id).bind(2, name).bind(3, sid).bind(4, parent).bind(5, type).bind(6, type_desc).bind(7, now).bind(8, now);
  definition.empty() ? s.bind_null(9) : s.bind(9, definition);
  sqlite_name.empty() ? s.bind_null(10) : s.bind(10, sqlite_name);
  s.step();
}

void check_name_free(sqlite3* c, const std::string& name, std::int64_t sid) {
  Stmt s(c, "SELECT COUNT(*) FROM __m2r_objects WHERE name = ? COLLATE NOCASE AND schema_id = ?");
  s.bind(1, name).bind(2, sid);
  s.step();
  if (s.i64(0) > 0) raise(2714, 16, "There is already an object named '" + name + "' in the database.");
}

bool is_rowversion_decl(const std::string& decl) { return decl == "rowversion" || decl == "timestamp"; }

// A computed column's definition as sys.computed_columns shows it, in SQL Server's normalized
// form: the whole in parentheses, names in brackets, literals in parentheses
// (`Price * 1.2` -> `([Price]*(1.2))`).
std::string computed_definition(const Tokens& t, std::size_t b, std::size_t e) {
  std::string out;
  for (std::size_t k = b; k < e; ++k) {
    const Token& tk = t[k];
    const bool call = k + 1 < e && is_sym(t[k + 1], "(");
    if (tk.kind == TokKind::number) out += "(" + tk.text + ")";
    else if (tk.kind == TokKind::string) out += "(" + std::string(tk.national ? "N" : "") + quote_literal(tk.text) + ")";
    else if (tk.kind == TokKind::ident_quoted || (tk.kind == TokKind::word && !call && !is_reserved_keyword(tk.text)))
      out += "[" + tk.text + "]";
    else if (tk.kind == TokKind::word) out += (call ? "" : " ") + tk.text + (call ? "" : " ");
    else out += tk.text;
  }
  // `AS (expr)` and `AS expr` give the same definition.
  const bool wrapped = is_sym(t[b], "(") && match_paren(t, b) + 1 == e;
  return wrapped ? out : "(" + out + ")";
}

}  // namespace

void SessionImpl::do_create(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 2) syntax_near(t, 1);
  std::size_t i = 1;
  bool or_alter = false;
  if (t[i].is("OR") && i + 1 < t.size() && t[i + 1].is("ALTER")) { or_alter = true; i += 2; }
  const std::string what = upper(t[i].text);
  if (what == "DATABASE") {
    if (!is_identifier(t[2])) syntax_near(t, 2);
    if (t.size() > 3) unsupported("CREATE DATABASE with options");
    m_inst.create_database(t[2].text);
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  if (what == "TABLE") return do_create_table(st, i + 1, sink);
  if (what == "VIEW" || what == "PROC" || what == "PROCEDURE" || what == "FUNCTION" || what == "TRIGGER")
    return do_create_module(st, i + 1, what == "PROC" ? "PROCEDURE" : what, or_alter, sink);
  if (what == "SCHEMA") {
    // CREATE SCHEMA name [AUTHORIZATION dbo]: the sandbox's only principal is dbo; schema
    // elements (CREATE SCHEMA x CREATE TABLE ...) are refused.
    if (!is_identifier(t[2])) syntax_near(t, 2);
    if (t.size() > 3) {
      if (!t[3].is("AUTHORIZATION")) unsupported("CREATE SCHEMA with schema elements");
      if (!is_identifier(t[4])) syntax_near(t, 4);
      if (!iequals(t[4].text, "dbo")) raise(15151, 16, "Cannot find the user '" + t[4].text + "', because it does not exist or you do not have permission.");
      if (t.size() > 5) unsupported("CREATE SCHEMA with schema elements");
    }
    auto db = cur_db();
    std::lock_guard<std::mutex> lock(db->write_mutex);
    sqlite3* c = cur();
    if (query_int(c, "SELECT COUNT(*) FROM __m2r_schemas WHERE name = " + quote_literal(t[2].text) + " COLLATE NOCASE"))
      raise(2714, 16, "There is already an object named '" + t[2].text + "' in the database.");
    exec(c, "INSERT INTO __m2r_schemas(schema_id, name, principal_id) SELECT MAX(schema_id) + 1, " + quote_literal(t[2].text) +
                ", 1 FROM __m2r_schemas WHERE schema_id < 16384");
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  if (what == "INDEX" || what == "UNIQUE" || what == "NONCLUSTERED" || what == "CLUSTERED") {
    std::size_t k = i;
    bool unique = false;
    while (k < t.size() && !t[k].is("INDEX")) { unique |= t[k].is("UNIQUE"); if (t[k].is("CLUSTERED")) unsupported("CREATE CLUSTERED INDEX"); ++k; }
    if (k + 3 >= t.size()) syntax_near(t, k);
    const std::string iname = t[k + 1].text;
    std::size_t j = k + 3;
    ObjName tn = parse_name(t, j);
    if (j >= t.size() || !is_sym(t[j], "(")) syntax_near(t, j);
    std::size_t close = match_paren(t, j);
    std::string cols;
    for (auto& c : name_list(t, j, close)) cols += (cols.empty() ? "" : ", ") + quote_ident(c);
    auto db = cur_db();
    std::lock_guard<std::mutex> lock(db->write_mutex);
    const std::string table = sqlite_table_name(tn.schema, tn.name);
    exec(cur(), std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX " + quote_ident(table + "." + iname) + " ON " +
                    quote_ident(table) + "(" + cols + ")");
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  unsupported("CREATE " + what);
}

void SessionImpl::do_create_table(const Statement& st, std::size_t i, ResultSink& sink) {
  const Tokens t(st.tokens);
  ObjName tn = parse_name(t, i);
  const bool temp = is_temp_name(tn.name);  // #t / ##t live in tempdb (tempdb.hpp)
  if (i >= t.size() || !is_sym(t[i], "(")) syntax_near(t, i);
  const std::size_t close = match_paren(t, i);
  for (std::size_t k = close + 1; k < t.size(); ++k) {
    if (!(t[k].is("ON") || t[k].is("PRIMARY") || t[k].is_name())) {
      if (t[k].is("WITH") || is_sym(t[k], "(")) unsupported("CREATE TABLE ... WITH options");
    }
    if (t[k].is("TEXTIMAGE_ON") || t[k].is("WITH")) unsupported("CREATE TABLE ... " + upper(t[k].text));
  }
  const std::string table = temp ? temp_sqlite_name(tn.name, m_spid) : sqlite_table_name(tn.schema, tn.name);
  struct Col {
    std::string name, decl;
    ColumnType type;
    bool nullable = true, identity = false, pk = false;
    bool rowversion = false;                  // rowversion/timestamp: the database's next @@DBTS
    bool computed = false, persisted = false;  // Name AS expression [PERSISTED]
    std::string computed_sql, definition;
    std::int64_t seed = 1, incr = 1;
    std::string default_sql;
  };
  struct Fk {
    std::string name;
    std::vector<std::string> cols, ref_cols;
    ObjName ref;
    std::string on_delete = "NO_ACTION", on_update = "NO_ACTION";
  };
  std::vector<Col> cols;
  std::vector<std::string> pk_cols;
  std::string pk_name;
  std::vector<Fk> fks;
  std::vector<std::string> uniques, checks;
  auto parse_refs = [&](std::size_t& k, Fk& fk) {
    // REFERENCES t (cols) [ON DELETE ...] [ON UPDATE ...]
    ++k;
    fk.ref = parse_name(t, k);
    if (k < close && is_sym(t[k], "(")) {
      std::size_t c2 = match_paren(t, k);
      fk.ref_cols = name_list(t, k, c2);
      k = c2 + 1;
    }
    while (k + 1 < close && t[k].is("ON")) {
      const bool del = t[k + 1].is("DELETE");
      k += 2;
      std::string action;
      if (t[k].is("CASCADE")) { action = "CASCADE"; ++k; }
      else if (t[k].is("NO")) { action = "NO_ACTION"; k += 2; }
      else if (t[k].is("SET")) { action = upper(t[k + 1].text) == "NULL" ? "SET_NULL" : "SET_DEFAULT"; k += 2; }
      else syntax_near(t, k);
      (del ? fk.on_delete : fk.on_update) = action;
    }
    if (k < close && t[k].is("NOT")) unsupported("NOT FOR REPLICATION");
  };
  std::size_t k = i + 1;
  while (k < close) {
    std::size_t item_end = k;
    int d = 0;
    for (; item_end < close; ++item_end) {
      if (is_sym(t[item_end], "(")) ++d;
      else if (is_sym(t[item_end], ")")) --d;
      else if (d == 0 && is_sym(t[item_end], ",")) break;
    }
    std::string cname;
    if (t[k].is("CONSTRAINT")) { cname = t[k + 1].text; k += 2; }
    if (t[k].is("PRIMARY") || t[k].is("FOREIGN") || t[k].is("UNIQUE") || t[k].is("CHECK")) {
      if (t[k].is("PRIMARY")) {
        k += 2;
        if (t[k].is("CLUSTERED") || t[k].is("NONCLUSTERED")) ++k;
        std::size_t c2 = match_paren(t, k);
        pk_cols = name_list(t, k, c2);
        pk_name = cname;
      } else if (t[k].is("FOREIGN")) {
        k += 2;
        Fk fk;
        fk.name = cname;
        std::size_t c2 = match_paren(t, k);
        fk.cols = name_list(t, k, c2);
        k = c2 + 1;
        if (!t[k].is("REFERENCES")) syntax_near(t, k);
        parse_refs(k, fk);
        fks.push_back(fk);
      } else if (t[k].is("UNIQUE")) {
        ++k;
        if (t[k].is("CLUSTERED") || t[k].is("NONCLUSTERED")) ++k;
        std::size_t c2 = match_paren(t, k);
        std::string l;
        for (auto& c : name_list(t, k, c2)) l += (l.empty() ? "" : ", ") + quote_ident(c);
        uniques.push_back(l);
      } else {
        std::size_t c2 = match_paren(t, k + 1);
        bool iv = false;
        // Named in SQLite so that a failure names it (547, constraint_errors.cpp).
        const std::string name = cname.empty() ? "CK__" + tn.name + "__" + std::to_string(checks.size() + 1) : cname;
        checks.push_back("CONSTRAINT " + quote_ident(name) + " CHECK " + translate(t, k + 1, c2 + 1, &iv));
      }
      k = item_end + 1;
      continue;
    }
    Col col;
    col.nullable = m_options.columns_nullable_by_default();  // SET ANSI_NULL_DFLT_ON / _OFF
    col.name = t[k].text;
    ++k;
    if (k >= item_end) syntax_near(t, k);
    if (t[k].is("AS")) {
      // Name AS expression [PERSISTED [NOT NULL]]: a SQLite generated column over the T-SQL
      // expression translated with the columns declared so far (SQL Server allows only those
      // of the same table), typed by the expression as SQL Server types it.
      if (temp) unsupported("computed column in a temporary table");
      std::size_t e = k + 1;
      for (int depth = 0; e < item_end; ++e) {
        if (is_sym(t[e], "(")) ++depth;
        else if (is_sym(t[e], ")")) --depth;
        else if (depth == 0 && (t[e].is("PERSISTED") || t[e].is("CONSTRAINT") || t[e].is("PRIMARY") || t[e].is("UNIQUE") ||
                            t[e].is("NOT") || t[e].is("NULL") || t[e].is("CHECK") || t[e].is("REFERENCES"))) break;
      }
      if (e == k + 1) syntax_near(t, k);
      std::map<std::string, ColumnType> declared;
      for (const auto& c : cols) if (!c.computed) declared.emplace(lower(c.name), c.type);
      std::optional<ColumnType> type;
      col.computed_sql = translate_computed(t, k + 1, e, declared, &type);
      col.computed = true;
      col.definition = computed_definition(t, k + 1, e);
      col.type = type.value_or(ColumnType{SqlType::nvarchar, 4000, 0, 0});
      col.decl = type_to_string(col.type);
      if (col.type.length == k_max_length) col.decl.replace(col.decl.find("max"), 3, "-1");
      k = e;
      if (k < item_end && t[k].is("PERSISTED")) { col.persisted = true; ++k; }
      if (k + 1 < item_end && t[k].is("NOT") && t[k + 1].is("NULL")) {
        if (!col.persisted) {
          raise(8183, 16, "Only UNIQUE or PRIMARY KEY constraints can be created on computed columns, while CHECK, FOREIGN KEY, "
                          "and NOT NULL constraints require that computed columns be persisted.");
        }
        col.nullable = false;
        k += 2;
      }
      if (k < item_end) unsupported("constraints on a computed column");
      cols.push_back(col);
      k = item_end + 1;
      continue;
    }
    col.decl = type_decl_text(t, k);
    if (!parse_type(col.decl, col.type)) raise(2715, 16, "Column, parameter, or variable #" + std::to_string(cols.size() + 1) + ": Cannot find data type " + col.decl + ".");
    if (is_rowversion_decl(col.decl)) {
      if (std::any_of(cols.begin(), cols.end(), [](const Col& c) { return c.rowversion; })) {
        raise(2738, 16, "A table can only have one timestamp column. Because table '" + tn.name +
                            "' already has one, the column '" + col.name + "' cannot be added.");
      }
      if (temp) unsupported("rowversion column in a temporary table");
      col.rowversion = true;
      col.nullable = false;  // a rowversion is never NULL
    }
    while (k < item_end) {
      if (t[k].is("IDENTITY")) {
        col.identity = true;
        col.nullable = false;
        ++k;
        if (k < item_end && is_sym(t[k], "(")) {
          // IDENTITY(seed, increment), each a signed integer literal.
          std::size_t c2 = match_paren(t, k);
          std::size_t p = k + 1;
          auto signed_int = [&]() {
            const bool neg = p < c2 && is_sym(t[p], "-");
            if (neg || (p < c2 && is_sym(t[p], "+"))) ++p;
            if (p >= c2) syntax_near(t, p);
            const std::int64_t v = int_literal(t[p++]);
            return neg ? -v : v;
          };
          col.seed = signed_int();
          if (p >= c2 || !is_sym(t[p], ",")) syntax_near(t, p);
          ++p;
          col.incr = signed_int();
          if (p != c2) syntax_near(t, p);
          k = c2 + 1;
        }
      } else if (t[k].is("NOT") && k + 1 < item_end && t[k + 1].is("NULL")) { col.nullable = false; k += 2; }
      else if (t[k].is("NULL")) { col.nullable = true; ++k; }
      else if (t[k].is("PRIMARY")) {
        col.pk = true;
        col.nullable = false;
        k += 2;
        if (k < item_end && (t[k].is("CLUSTERED") || t[k].is("NONCLUSTERED"))) ++k;
        pk_name = cname;
      } else if (t[k].is("UNIQUE")) { uniques.push_back(quote_ident(col.name)); ++k; }
      else if (t[k].is("CONSTRAINT")) { cname = t[k + 1].text; k += 2; }
      else if (t[k].is("DEFAULT")) {
        std::size_t e = k + 1;
        if (e < item_end && is_sym(t[e], "(")) e = match_paren(t, e) + 1;
        else if (e < item_end && is_sym(t[e], "-")) e += 2;
        else if (e + 1 < item_end && t[e].kind == TokKind::word && is_sym(t[e + 1], "(")) e = match_paren(t, e + 1) + 1;  // GETDATE()
        else ++e;
        bool iv = false;
        if (e > item_end || k + 1 >= item_end) syntax_near(t, std::min(e, item_end));
        std::string expr = translate(t, k + 1, e, &iv);
        if (expr.empty()) syntax_near(t, k + 1);
        col.default_sql = expr.front() == '(' ? expr : "(" + expr + ")";
        k = e;
      } else if (t[k].is("REFERENCES")) {
        Fk fk;
        fk.name = cname;
        fk.cols = {col.name};
        parse_refs(k, fk);
        fks.push_back(fk);
      } else if (t[k].is("COLLATE")) { k += 2; }
      else if (t[k].is("CHECK")) {
        std::size_t c2 = match_paren(t, k + 1);
        bool iv = false;
        // A column's check: "name|column", so that 547 names the column as SQL Server does.
        const std::string name = (cname.empty() ? "CK__" + tn.name + "__" + col.name : cname) + "|" + col.name;
        checks.push_back("CONSTRAINT " + quote_ident(name) + " CHECK " + translate(t, k + 1, c2 + 1, &iv));
        k = c2 + 1;
      } else if (t[k].is("ROWGUIDCOL") || t[k].is("SPARSE")) { unsupported(upper(t[k].text)); }
      else syntax_near(t, k);
    }
    if (col.pk) pk_cols = {col.name};
    cols.push_back(col);
    k = item_end + 1;
  }
  if (cols.empty()) syntax_near(t, close);
  if (temp && !fks.empty()) unsupported("FOREIGN KEY on a temporary table");
  // SQLite DDL: the declared type is the T-SQL type (typed results come from it); an
  // identity primary key of one integer column becomes the rowid (AUTOINCREMENT). In a
  // temporary table any integer identity column does (it has no catalog rows to fill it from);
  // a primary key on other columns is then enforced as UNIQUE.
  std::string ddl = "CREATE TABLE " + std::string(temp ? "tempdb." : "") + quote_ident(table) + " (";
  bool rowid_identity = false;
  std::string identity_column;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Col& col = cols[c];
    const bool int_type = col.type.type == SqlType::int_ || col.type.type == SqlType::bigint || col.type.type == SqlType::smallint;
    const bool as_rowid = col.identity && int_type && (temp || (pk_cols.size() == 1 && iequals(pk_cols[0], col.name)));
    if (temp && col.identity && !as_rowid) unsupported("IDENTITY column of type " + col.decl + " in a temporary table");
    if (col.identity) identity_column = col.name;
    if (col.identity && col.incr != 1 && as_rowid) unsupported("IDENTITY with an increment other than 1");
    if (c) ddl += ", ";
    if (as_rowid) {
      ddl += quote_ident(col.name) + " INTEGER PRIMARY KEY AUTOINCREMENT";
      rowid_identity = true;
      continue;
    }
    ddl += quote_ident(col.name) + " " + sqlite_column_decl(col.decl, col.type);
    if (col.computed) {
      ddl += " GENERATED ALWAYS AS (" + col.computed_sql + (col.persisted ? ") STORED" : ") VIRTUAL");
      if (!col.nullable) ddl += " NOT NULL";
      continue;
    }
    if (!col.nullable && !col.identity) ddl += " NOT NULL";
    if (col.rowversion) {
      if (!col.default_sql.empty()) raise(1755, 16, "Defaults cannot be created on columns of data type timestamp. Table '" + tn.name + "', column '" + col.name + "'.");
      ddl += " DEFAULT (m2r_next_rowversion())";  // functions.cpp: the database's @@DBTS + 1
    }
    // Every write of an xml column is checked, whatever statement writes it (value_ops.cpp).
    if (col.type.type == SqlType::xml) ddl += " CHECK (m2r_xml_check(" + quote_ident(col.name) + "))";
    if (!col.default_sql.empty()) ddl += " DEFAULT " + col.default_sql;
    if (col.type.type == SqlType::varchar || col.type.type == SqlType::nvarchar) ddl += " COLLATE NOCASE";
  }
  if (!pk_cols.empty() && !(rowid_identity && pk_cols.size() == 1 && iequals(pk_cols[0], identity_column))) {
    std::string l;
    for (auto& c : pk_cols) l += (l.empty() ? "" : ", ") + quote_ident(c);
    ddl += std::string(rowid_identity ? ", UNIQUE (" : ", PRIMARY KEY (") + l + ")";
  }
  for (auto& u : uniques) ddl += ", UNIQUE (" + u + ")";
  for (auto& ch : checks) ddl += ", " + ch;
  for (auto& fk : fks) {
    std::string l, r;
    for (auto& c : fk.cols) l += (l.empty() ? "" : ", ") + quote_ident(c);
    for (auto& c : fk.ref_cols) r += (r.empty() ? "" : ", ") + quote_ident(c);
    auto act = [](const std::string& a) {
      return a == "CASCADE" ? "CASCADE" : a == "SET_NULL" ? "SET NULL" : a == "SET_DEFAULT" ? "SET DEFAULT" : "NO ACTION";
    };
    ddl += ", FOREIGN KEY (" + l + ") REFERENCES " + quote_ident(sqlite_table_name(fk.ref.schema, fk.ref.name)) +
           (r.empty() ? "" : "(" + r + ")") + " ON DELETE " + act(fk.on_delete) + " ON UPDATE " + act(fk.on_update);
  }
  ddl += ")";
  auto db = cur_db();
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = cur();
  if (temp) {
    exec(c, "BEGIN IMMEDIATE");
    try {
      if (find_temp_object(c, tn.name, m_spid)) raise(2714, 16, "There is already an object named '" + tn.name + "' in the database.");
      exec(c, ddl);
      for (const auto& col : cols) {
        if (col.identity && col.seed != 1) {
          exec(c, "INSERT INTO tempdb.sqlite_sequence(name, seq) VALUES(" + quote_literal(table) + ", " + std::to_string(col.seed - 1) + ")");
        }
        if (col.identity && col.incr != 1) unsupported("IDENTITY with an increment other than 1");
      }
      TempTable tt;
      tt.sqlite_name = table;
      tt.name = tn.name;
      tt.owner_spid = m_spid;
      tt.identity_column = identity_column;
      register_temp_table(c, tt);
      exec(c, "COMMIT");
    } catch (...) {
      sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  exec(c, "BEGIN IMMEDIATE");
  try {
    const std::int64_t sid = schema_id(c, tn.schema);
    check_name_free(c, tn.name, sid);
    exec(c, ddl);
    const std::int64_t oid = next_object_id(c);
    insert_object(c, oid, tn.name, sid, 0, "U", "USER_TABLE", "", table);
    for (std::size_t n = 0; n < cols.size(); ++n) {
      const Col& col = cols[n];
      Stmt s(c, "INSERT INTO __m2r_columns VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
      s.bind(1, oid).bind(2, static_cast<std::int64_t>(n + 1)).bind(3, col.name).bind(4, col.decl)
          .bind(5, static_cast<std::int64_t>(system_type_id(col.decl))).bind(6, static_cast<std::int64_t>(max_length(col.type, col.decl)))
          .bind(7, static_cast<std::int64_t>(col.type.precision)).bind(8, static_cast<std::int64_t>(col.type.scale))
          .bind(9, static_cast<std::int64_t>(col.nullable && !col.pk && std::find_if(pk_cols.begin(), pk_cols.end(), [&](auto& p) { return iequals(p, col.name); }) == pk_cols.end()))
          .bind(10, static_cast<std::int64_t>(col.identity));
      if (col.identity) { s.bind(11, col.seed).bind(12, col.incr); }
      else { s.bind_null(11).bind_null(12); }
      s.step();
      if (col.computed) {
        Stmt cc(c, "INSERT INTO __m2r_computed_columns(object_id, column_id, definition, is_persisted) VALUES(?,?,?,?)");
        cc.bind(1, oid).bind(2, static_cast<std::int64_t>(n + 1)).bind(3, col.definition).bind(4, static_cast<std::int64_t>(col.persisted));
        cc.step();
      }
      if (col.identity && col.seed != 1 && rowid_identity) {
        exec(c, "INSERT INTO sqlite_sequence(name, seq) VALUES(" + quote_literal(table) + ", " + std::to_string(col.seed - 1) + ")");
      }
    }
    auto col_id = [&](const std::string& name) -> std::int64_t {
      for (std::size_t n = 0; n < cols.size(); ++n) if (iequals(cols[n].name, name)) return static_cast<std::int64_t>(n + 1);
      raise(1911, 16, "Column name '" + name + "' does not exist in the target table or view.");
    };
    if (!pk_cols.empty()) {
      const std::int64_t pid = oid + 1;
      insert_object(c, pid, pk_name.empty() ? "PK__" + tn.name : pk_name, sid, oid, "PK", "PRIMARY_KEY_CONSTRAINT", "", "");
      for (std::size_t n = 0; n < pk_cols.size(); ++n) {
        exec(c, "INSERT INTO __m2r_index_columns VALUES(" + std::to_string(oid) + ", 1, " + std::to_string(col_id(pk_cols[n])) + ", " +
                    std::to_string(n + 1) + ")");
      }
    }
    std::int64_t fid = oid + 2;
    for (auto& fk : fks) {
      Stmt r(c, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
      r.bind(1, sqlite_table_name(fk.ref.schema, fk.ref.name));
      if (!r.step()) raise(1767, 16, "Foreign key references invalid table '" + fk.ref.display() + "'.");
      const std::int64_t ref_id = r.i64(0);
      insert_object(c, fid, fk.name.empty() ? "FK__" + tn.name + "__" + fk.ref.name : fk.name, sid, oid, "F",
                    "FOREIGN_KEY_CONSTRAINT", "", "");
      Stmt u(c, "UPDATE __m2r_objects SET referenced_object_id = ?, delete_action = ?, update_action = ? WHERE object_id = ?");
      u.bind(1, ref_id).bind(2, fk.on_delete).bind(3, fk.on_update).bind(4, fid);
      u.step();
      for (std::size_t n = 0; n < fk.cols.size(); ++n) {
        std::int64_t rc = n + 1;
        if (n < fk.ref_cols.size()) {
          rc = query_int(c, "SELECT column_id FROM __m2r_columns WHERE object_id = " + std::to_string(ref_id) + " AND name = " +
                                quote_literal(fk.ref_cols[n]) + " COLLATE NOCASE", 1);
        }
        exec(c, "INSERT INTO __m2r_fk_columns VALUES(" + std::to_string(fid) + ", " + std::to_string(n + 1) + ", " +
                    std::to_string(oid) + ", " + std::to_string(col_id(fk.cols[n])) + ", " + std::to_string(ref_id) + ", " +
                    std::to_string(rc) + ")");
      }
      ++fid;
    }
    exec(c, "COMMIT");
  } catch (...) {
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

// Builds the SQLite triggers for a T-SQL AFTER trigger whose body is INSERT/UPDATE/DELETE
// statements reading `inserted` / `deleted` (README.md "Triggers").
static std::vector<std::string> sqlite_triggers(SessionImpl& s, const std::string& trig_name, const std::string& table,
                                                const std::vector<std::string>& events, const std::string& body) {
  std::vector<std::string> out;
  auto cols = s.table_columns(table);
  auto pseudo = [&](const char* rowref) {
    std::string sel = "(SELECT ";
    for (std::size_t i = 0; i < cols.size(); ++i) sel += (i ? ", " : "") + std::string(rowref) + "." + quote_ident(cols[i]) + " AS " + quote_ident(cols[i]);
    return sel + ")";
  };
  std::vector<Statement> stmts;
  {
    auto toks = tokenize(body);
    std::size_t b = 0, e = body.size();
    if (!toks.empty() && toks.front().is("BEGIN")) {
      b = toks.front().offset + 5;
      std::size_t last = toks.size() - 1;
      while (last > 0 && is_sym(toks[last], ";")) --last;
      if (toks[last].is("END")) e = toks[last].offset;
    }
    stmts = split_statements(body.substr(b, e - b));
  }
  for (const auto& ev : events) {
    std::string sql_body;
    for (const auto& st : stmts) {
      const Tokens t(st.tokens);
      if (t.empty()) continue;
      if (t[0].is("SET") && t.size() > 1 && t[1].is("NOCOUNT")) continue;
      if (!(t[0].is("INSERT") || t[0].is("UPDATE") || t[0].is("DELETE"))) {
        unsupported("trigger body statement " + upper(t[0].text));
      }
      std::vector<Token> tt = t;
      for (std::size_t k = 1; k < tt.size(); ++k) {
        if ((tt[k].is("inserted") || tt[k].is("deleted")) && (tt[k - 1].is("FROM") || tt[k - 1].is("JOIN"))) {
          // "FROM inserted i" / "FROM inserted AS i" keep their alias; bare "FROM inserted" gets one.
          static const std::set<std::string> follow = {"WHERE", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "FULL", "ON",
                                                       "GROUP", "ORDER", "UNION", "HAVING", "OUTER"};
          const bool aliased = k + 1 < tt.size() && (tt[k + 1].is("AS") || (tt[k + 1].is_name() && !follow.count(upper(tt[k + 1].text))));
          tt[k].text = std::string(tt[k].is("inserted") ? "__m2r_INSERTED" : "__m2r_DELETED") + (aliased ? "_NA__" : "__");
        }
      }
      bool iv = false;
      std::string sql = s.translate(tt, 0, tt.size(), &iv);
      auto repl = [&](const std::string& from, const std::string& to) {
        for (std::size_t p; (p = sql.find(from)) != std::string::npos;) sql.replace(p, from.size(), to);
      };
      repl("\"__m2r_INSERTED__\"", pseudo("NEW") + " AS inserted");
      repl("\"__m2r_DELETED__\"", pseudo("OLD") + " AS deleted");
      repl("\"__m2r_INSERTED_NA__\"", pseudo("NEW"));
      repl("\"__m2r_DELETED_NA__\"", pseudo("OLD"));
      sql_body += sql + "; ";
    }
    if (sql_body.empty()) continue;
    out.push_back("CREATE TRIGGER " + quote_ident(table + "." + trig_name + "." + lower(ev)) + " AFTER " + ev + " ON " +
                  quote_ident(table) + " FOR EACH ROW WHEN m2r_triggers_enabled(" + quote_literal(table) + ", " + quote_literal(lower(trig_name)) + ") BEGIN " +
                  sql_body + "END");
  }
  return out;
}

void SessionImpl::do_create_module(const Statement& st, std::size_t i, const std::string& what, bool alter, ResultSink& sink) {
  const Tokens t(st.tokens);
  ObjName n = parse_name(t, i);
  auto db = cur_db();
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = cur();
  if (is_temp_name(n.name) && what == "VIEW") raise(4103, 15, n.name + ": Temporary views are not allowed.");
  if (is_temp_name(n.name) && what == "FUNCTION") raise(1074, 15, "Creation of temporary functions is not allowed.");
  if (is_temp_name(n.name) && what == "PROCEDURE") {
    // CREATE PROCEDURE #p / ##p: a temporary procedure (tempdb.hpp), its text kept for EXEC.
    auto existing = find_temp_object(c, n.name, m_spid);
    const bool plain_alter = t[0].is("ALTER");
    if (existing && (existing->type != "P" || !(alter || plain_alter)))
      raise(2714, 16, "There is already an object named '" + n.name + "' in the database.");
    if (!existing && plain_alter) raise(208, 16, "Invalid object name '" + n.name + "'.");
    if (existing) {
      existing->definition = st.text;
      update_temp_procedure(c, *existing);
    } else {
      TempTable p;
      p.sqlite_name = temp_sqlite_name(n.name, m_spid);
      p.name = n.name;
      p.owner_spid = m_spid;
      p.type = "P";
      p.definition = st.text;
      register_temp_table(c, p);
    }
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  const std::string type = what == "VIEW" ? "V" : what == "PROCEDURE" ? "P" : what == "TRIGGER" ? "TR" : "FN";
  std::string type_desc = what == "VIEW" ? "VIEW" : what == "PROCEDURE" ? "SQL_STORED_PROCEDURE"
                              : what == "TRIGGER" ? "SQL_TRIGGER" : "SQL_SCALAR_FUNCTION";
  exec(c, "BEGIN IMMEDIATE");
  try {
    const std::int64_t sid = schema_id(c, n.schema);
    std::int64_t existing = 0;
    {
      Stmt s(c, "SELECT object_id FROM __m2r_objects WHERE name = ? COLLATE NOCASE AND schema_id = ? AND type = ?");
      s.bind(1, n.name).bind(2, sid).bind(3, type);
      if (s.step()) existing = s.i64(0);
    }
    const bool plain_alter = t[0].is("ALTER");
    if (existing && !(alter || plain_alter)) raise(2714, 16, "There is already an object named '" + n.name + "' in the database.");
    if (!existing && plain_alter) raise(208, 16, "Invalid object name '" + n.display() + "'.");
    if (!existing) check_name_free(c, n.name, sid);
    std::string definition = st.text;
    std::int64_t parent = 0;
    std::string sqlite_name;
    std::vector<std::string> ddl;
    std::string drop_sql;
    if (what == "VIEW") {
      std::size_t as = i;
      while (as < t.size() && !t[as].is("AS")) ++as;
      if (as >= t.size()) syntax_near(t, i);
      if (as != i) unsupported("CREATE VIEW with a column list or options");
      bool iv = false;
      sqlite_name = sqlite_table_name(n.schema, n.name);
      ddl.push_back("CREATE VIEW " + quote_ident(sqlite_name) + " AS " + translate(t, as + 1, t.size(), &iv));
      if (existing) drop_sql = "DROP VIEW IF EXISTS " + quote_ident(sqlite_name);
    } else if (what == "TRIGGER") {
      if (i >= t.size() || !t[i].is("ON")) syntax_near(t, i);
      ++i;
      ObjName tn = parse_name(t, i);
      const std::string table = sqlite_table_name(tn.schema, tn.name);
      Stmt p(c, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
      p.bind(1, table);
      if (!p.step()) raise(8197, 16, "The object '" + tn.display() + "' does not exist or is invalid for this operation.");
      parent = p.i64(0);
      if (i < t.size() && t[i].is("INSTEAD")) unsupported("INSTEAD OF trigger");
      if (i < t.size() && t[i].is("WITH")) unsupported("CREATE TRIGGER ... WITH");
      if (!(i < t.size() && (t[i].is("AFTER") || t[i].is("FOR")))) syntax_near(t, i);
      ++i;
      std::vector<std::string> events;
      while (i < t.size() && !t[i].is("AS")) {
        if (t[i].is("INSERT") || t[i].is("UPDATE") || t[i].is("DELETE")) events.push_back(upper(t[i].text));
        else if (!is_sym(t[i], ",")) unsupported("trigger option " + t[i].text);
        ++i;
      }
      if (i >= t.size()) syntax_near(t, i);
      const std::string body = st.text.substr(t[i + 1].offset - t[0].offset);
      if (existing) {
        for (const char* ev : {"insert", "update", "delete"}) {
          exec(c, "DROP TRIGGER IF EXISTS " + quote_ident(table + "." + n.name + "." + ev));
        }
      }
      ddl = sqlite_triggers(*this, n.name, table, events, body);
    } else if (what == "FUNCTION") {
      // Stored for sys.sql_modules and backups; calls are not supported (README.md).
      for (std::size_t k = i; k + 1 < t.size(); ++k) {
        if (t[k].is("RETURNS")) {
          if (t[k + 1].is("TABLE")) type_desc = "SQL_INLINE_TABLE_VALUED_FUNCTION";
          break;
        }
      }
    }
    if (existing) {
      Stmt u(c, "UPDATE __m2r_objects SET definition = ?, modify_date = ? WHERE object_id = ?");
      u.bind(1, definition).bind(2, now_datetime()).bind(3, existing);
      u.step();
      if (!drop_sql.empty()) exec(c, drop_sql);
    } else {
      insert_object(c, next_object_id(c), n.name, sid, parent, type_desc == "SQL_INLINE_TABLE_VALUED_FUNCTION" ? "IF" : type,
                    type_desc, definition, sqlite_name);
    }
    for (auto& d : ddl) exec(c, d);
    exec(c, "COMMIT");
  } catch (...) {
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::do_drop(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 3) syntax_near(t, 1);
  const std::string what = upper(t[1].text);
  std::size_t i = 2;
  bool if_exists = false;
  if (t[i].is("IF") && i + 1 < t.size() && t[i + 1].is("EXISTS")) { if_exists = true; i += 2; }
  if (what == "DATABASE") {
    if (m_inst.config().kind == InstanceKind::rds) {
      // RDS: DROP DATABASE works for the master user (rds_drop_database is for restoring ones).
    }
    const std::string name = t[i].text;
    if (if_exists && !m_inst.find(name)) { sink.done(DoneKind::statement, std::nullopt, false); return; }
    if (iequals(m_db, name)) raise(3702, 16, "Cannot drop database \"" + name + "\" because it is currently in use.");
    for (auto& [k, c] : m_conns) {
      if (iequals(k, name)) { sqlite3_close_v2(c); m_conns.erase(k); break; }
    }
    m_inst.drop_database(name);
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  static const std::map<std::string, std::string> types = {{"TABLE", "U"}, {"VIEW", "V"}, {"PROCEDURE", "P"}, {"PROC", "P"},
                                                           {"FUNCTION", "FN"}, {"TRIGGER", "TR"}};
  auto it = types.find(what);
  if (it == types.end()) unsupported("DROP " + what);
  ObjName n = parse_name(t, i);
  if (i < t.size() && is_sym(t[i], ",")) unsupported("DROP " + what + " of several objects in one statement");
  if (i < t.size() && !is_sym(t[i], ";")) syntax_near(t, i);
  auto db = cur_db();
  std::lock_guard<std::mutex> lock(db->write_mutex);
  sqlite3* c = cur();
  if (is_temp_name(n.name)) {
    // DROP TABLE #t / ##t / tempdb..#t, DROP PROCEDURE #p (tempdb.hpp); no other kind is temporary.
    auto tt = it->second == "U" ? find_temp_table(c, n.name, m_spid)
              : it->second == "P" ? find_temp_procedure(c, n.name, m_spid) : std::nullopt;
    if (!tt) {
      if (if_exists) { sink.done(DoneKind::statement, std::nullopt, false); return; }
      raise(3701, 11, "Cannot drop the " + lower(what == "PROC" ? std::string("PROCEDURE") : what) + " '" + n.name +
                          "', because it does not exist or you do not have permission.");
    }
    drop_temp_table(c, *tt);
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  exec(c, "BEGIN IMMEDIATE");
  try {
    const std::int64_t sid = schema_id(c, n.schema);
    std::int64_t oid = 0, parent = 0;
    std::string sname;
    {
      // The lookup statement must be finished before DROP TABLE: SQLite refuses to drop a table
      // while a statement is still open on the connection ("database table is locked").
      Stmt s(c, "SELECT object_id, sqlite_name, parent_object_id FROM __m2r_objects WHERE name = ? COLLATE NOCASE AND schema_id = ?"
                " AND type IN (?, 'IF')");
      s.bind(1, n.name).bind(2, sid).bind(3, it->second);
      if (s.step()) {
        oid = s.i64(0);
        sname = s.str(1);
        parent = s.i64(2);
      }
    }
    if (!oid) {
      exec(c, "ROLLBACK");
      if (if_exists) { sink.done(DoneKind::statement, std::nullopt, false); return; }
      raise(3701, 11, "Cannot drop the " + lower(what == "PROC" ? std::string("PROCEDURE") : what) + " '" + n.display() +
                          "', because it does not exist or you do not have permission.");
    }
    if (it->second == "U") {
      if (query_int(c, "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'F' AND referenced_object_id = " + std::to_string(oid) +
                           " AND parent_object_id <> " + std::to_string(oid)))
        raise(3726, 16, "Could not drop object '" + n.display() + "' because it is referenced by a FOREIGN KEY constraint.");
      exec(c, "DROP TABLE " + quote_ident(sname));
      exec(c, "DELETE FROM __m2r_columns WHERE object_id = " + std::to_string(oid) + ";"
              "DELETE FROM __m2r_index_columns WHERE object_id = " + std::to_string(oid) + ";"
              "DELETE FROM __m2r_fk_columns WHERE parent_object_id = " + std::to_string(oid) + ";"
              "DELETE FROM __m2r_objects WHERE parent_object_id = " + std::to_string(oid) + ";");
    } else if (it->second == "V") {
      exec(c, "DROP VIEW IF EXISTS " + quote_ident(sname));
    } else if (it->second == "TR") {
      const std::string table = query_str(c, "SELECT sqlite_name FROM __m2r_objects WHERE object_id = " + std::to_string(parent));
      for (const char* ev : {"insert", "update", "delete"}) exec(c, "DROP TRIGGER IF EXISTS " + quote_ident(table + "." + n.name + "." + ev));
    }
    exec(c, "DELETE FROM __m2r_objects WHERE object_id = " + std::to_string(oid));
    exec(c, "COMMIT");
  } catch (...) {
    sqlite3_exec(c, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::do_alter(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 3) syntax_near(t, 1);
  if (t[1].is("VIEW") || t[1].is("PROCEDURE") || t[1].is("PROC") || t[1].is("FUNCTION") || t[1].is("TRIGGER")) {
    return do_create_module(st, 2, t[1].is("PROC") ? "PROCEDURE" : upper(t[1].text), true, sink);
  }
  if (t[1].is("DATABASE")) {
    if (t[2].is("SCOPED")) {  // ALTER DATABASE SCOPED CONFIGURATION: the session's database
      auto current = cur_db();
      check_alter_database_permission(*current);
      return alter_scoped_configuration(m_inst, *current, m_user, t, sink);
    }
    std::string name = t[2].is("CURRENT") ? m_db : t[2].text;
    auto db = m_inst.find(name);
    if (!db) raise(5011, 14, "User does not have permission to alter database '" + name + "', the database does not exist, or the database is not in a state that allows access checks.");
    // SQL Server runs no ALTER DATABASE inside a transaction (and one waiting for other sessions
    // to leave the database must not hold locks they wait for).
    if (m_xact) raise(226, 16, "ALTER DATABASE statement not allowed within multi-statement transaction.", 6);
    check_alter_database_permission(*db);
    if (alter_database_option(m_inst, *db, m_user, t, sink)) return;  // database_options.hpp
    if (t.size() >= 5 && t[3].is("SET")) {
      if (auto mode = user_access_from_name(t[4].text)) {
        Termination termination;
        std::size_t i = 5;
        if (i < t.size()) {
          if (!t[i].is("WITH")) syntax_near(t, i);
          ++i;
          if (t[i].is("NO_WAIT")) {
            termination.kind = Termination::Kind::no_wait;
            ++i;
          } else if (t[i].is("ROLLBACK") && t[i + 1].is("IMMEDIATE")) {
            termination.kind = Termination::Kind::rollback_immediate;
            i += 2;
          } else if (t[i].is("ROLLBACK") && t[i + 1].is("AFTER") && t[i + 2].kind == TokKind::number) {
            termination.kind = Termination::Kind::rollback_after;
            termination.after = std::chrono::seconds(int_literal(t[i + 2]));
            i += 3;
            if (i < t.size() && t[i].is("SECONDS")) ++i;
          } else {
            syntax_near(t, i);
          }
          if (i < t.size()) syntax_near(t, i);
        }
        alter_user_access(db, *mode, termination, sink);
        return;
      }
    }
    if (t.size() >= 5 && t[3].is("SET") && t[4].is("RECOVERY") && t.size() >= 6) {
      const std::string model = upper(t[5].text);
      if (model != "FULL" && model != "SIMPLE" && model != "BULK_LOGGED") syntax_near(t, 5);
      std::lock_guard<std::mutex> lock(db->write_mutex);
      const std::string old = db->meta("recovery");
      db->set_meta(db->admin, "recovery", model);
      if (model == "SIMPLE" && old != "SIMPLE") {
        // Switching to SIMPLE breaks the log backup chain: the next log backup needs a new full backup.
        db->set_meta(db->admin, "database_backup_lsn", "");
        exec(db->admin, "DELETE FROM __m2r_meta WHERE key IN ('database_backup_lsn','log_backup_lsn')");
      }
      sink.done(DoneKind::statement, std::nullopt, false);
      return;
    }
    if (t.size() >= 6 && t[3].is("SET") && (t[4].is("READ_COMMITTED_SNAPSHOT") || t[4].is("ALLOW_SNAPSHOT_ISOLATION"))) {
      // Row versioning options (README.md "Transactions and locking"). SQL Server waits for the database's
      // other sessions before switching READ_COMMITTED_SNAPSHOT; the sandbox switches at once
      // (WITH ROLLBACK IMMEDIATE / NO_WAIT accepted).
      if (!t[5].is("ON") && !t[5].is("OFF")) syntax_near(t, 5);
      if (t.size() > 6 && !(t[6].is("WITH") && t.size() > 7 && (t[7].is("ROLLBACK") || t[7].is("NO_WAIT")))) syntax_near(t, 6);
      const bool on = t[5].is("ON");
      const bool rcsi = t[4].is("READ_COMMITTED_SNAPSHOT");
      std::lock_guard<std::mutex> lock(db->write_mutex);
      db->set_meta(db->admin, rcsi ? "read_committed_snapshot" : "allow_snapshot_isolation", on ? "1" : "0");
      (rcsi ? db->read_committed_snapshot : db->allow_snapshot_isolation) = on;
      sink.done(DoneKind::statement, std::nullopt, false);
      return;
    }
    unsupported("ALTER DATABASE " + (t.size() > 4 ? upper(t[3].text) + " " + upper(t[4].text) : upper(t[3].text)));
  }
  if (!t[1].is("TABLE")) unsupported("ALTER " + upper(t[1].text));
  std::size_t i = 2;
  ObjName n = parse_name(t, i);
  const std::string table = sqlite_table_name(n.schema, n.name);
  auto db = cur_db();
  sqlite3* c = cur();
  std::int64_t oid = 0;
  {
    Stmt s(c, "SELECT object_id FROM __m2r_objects WHERE type = 'U' AND sqlite_name = ? COLLATE NOCASE");
    s.bind(1, table);
    if (!s.step()) raise(4902, 16, "Cannot find the object \"" + n.display() + "\" because it does not exist or you do not have permissions.");
    oid = s.i64(0);
  }
  auto persist_set = [&](const std::string& key, const std::set<std::string>& set) {
    std::string v;
    for (auto& x : set) v += x + "\n";
    db->set_meta(db->admin, key, v);
  };
  std::lock_guard<std::mutex> lock(db->write_mutex);
  auto rest = [&](std::size_t from) {
    std::string s;
    for (std::size_t k = from; k < t.size(); ++k) s += (s.empty() ? "" : " ") + upper(t[k].text);
    return s;
  };
  const std::string r = rest(i);
  // Per-name forms (the product disables and re-enables each trigger / foreign key by name).
  if (i + 3 == t.size() && (t[i].is("DISABLE") || t[i].is("ENABLE")) && t[i + 1].is("TRIGGER") && !t[i + 2].is("ALL")) {
    const bool disable = t[i].is("DISABLE");
    const std::string trig = t[i + 2].text;
    if (!query_int(c, "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'TR' AND parent_object_id = " + std::to_string(oid) +
                          " AND name = " + quote_literal(trig) + " COLLATE NOCASE"))
      raise(3701, 11, "Cannot find the object \"" + trig + "\" because it does not exist or you do not have permissions.");
    {
      std::lock_guard<std::mutex> fl(db->flags_mutex);
      if (disable) db->triggers_disabled.insert(table + "|" + lower(trig));
      else db->triggers_disabled.erase(table + "|" + lower(trig));
    }
    persist_set("triggers_disabled", db->triggers_disabled);
    exec(db->admin, "UPDATE __m2r_objects SET is_disabled = " + std::string(disable ? "1" : "0") + " WHERE type = 'TR' AND parent_object_id = " +
                        std::to_string(oid) + " AND name = " + quote_literal(trig) + " COLLATE NOCASE");
    sink.done(DoneKind::statement, std::nullopt, false);
    return;
  }
  {
    // [WITH {CHECK|NOCHECK}] {CHECK|NOCHECK} CONSTRAINT name
    std::size_t k = i;
    bool with_check = false;
    if (k + 1 < t.size() && t[k].is("WITH")) { with_check = t[k + 1].is("CHECK"); k += 2; }
    if (k + 3 == t.size() && (t[k].is("CHECK") || t[k].is("NOCHECK")) && t[k + 1].is("CONSTRAINT") && !t[k + 2].is("ALL")) {
      const bool nocheck = t[k].is("NOCHECK");
      const std::string fk = t[k + 2].text;
      if (!query_int(c, "SELECT COUNT(*) FROM __m2r_objects WHERE type = 'F' AND parent_object_id = " + std::to_string(oid) +
                            " AND name = " + quote_literal(fk) + " COLLATE NOCASE"))
        raise(4917, 16, "Constraint '" + fk + "' does not exist.");
      if (!nocheck && with_check) {
        Stmt chk(c, "SELECT COUNT(*) FROM pragma_foreign_key_check(?)");
        chk.bind(1, table);
        if (chk.step() && chk.i64(0) > 0)
          raise(547, 16, "The ALTER TABLE statement conflicted with the FOREIGN KEY constraint \"" + fk + "\". The conflict occurred in database \"" + db->name + "\", table \"" + n.display() + "\".");
      }
      {
        std::lock_guard<std::mutex> fl(db->flags_mutex);
        if (nocheck) db->fk_nocheck.insert(table + "|" + lower(fk));
        else db->fk_nocheck.erase(table + "|" + lower(fk));
      }
      persist_set("fk_nocheck", db->fk_nocheck);
      exec(db->admin, "UPDATE __m2r_objects SET is_disabled = " + std::string(nocheck ? "1" : "0") + ", is_not_trusted = " +
                          std::string(nocheck || !with_check ? "1" : "0") + " WHERE type = 'F' AND parent_object_id = " +
                          std::to_string(oid) + " AND name = " + quote_literal(fk) + " COLLATE NOCASE");
      sink.done(DoneKind::statement, std::nullopt, false);
      return;
    }
  }
  if (r == "DISABLE TRIGGER ALL" || r == "ENABLE TRIGGER ALL") {
    const bool disable = r[0] == 'D';
    {
      std::lock_guard<std::mutex> fl(db->flags_mutex);
      if (disable) db->triggers_disabled.insert(table);
      else {
        db->triggers_disabled.erase(table);
        for (auto it = db->triggers_disabled.begin(); it != db->triggers_disabled.end();)
          it = it->rfind(table + "|", 0) == 0 ? db->triggers_disabled.erase(it) : std::next(it);
      }
    }
    persist_set("triggers_disabled", db->triggers_disabled);
    exec(db->admin, "UPDATE __m2r_objects SET is_disabled = " + std::string(disable ? "1" : "0") + " WHERE type = 'TR' AND parent_object_id = " + std::to_string(oid));
  } else if (r == "NOCHECK CONSTRAINT ALL" || r == "CHECK CONSTRAINT ALL" || r == "WITH CHECK CHECK CONSTRAINT ALL" ||
             r == "WITH NOCHECK CHECK CONSTRAINT ALL") {
    const bool nocheck = r == "NOCHECK CONSTRAINT ALL";
    if (!nocheck && r.rfind("WITH CHECK", 0) == 0) {
      // Re-enabling WITH CHECK validates existing rows (error 547 on a violation).
      Stmt s(c, "SELECT COUNT(*) FROM pragma_foreign_key_check(?)");
      s.bind(1, table);
      if (s.step() && s.i64(0) > 0)
        raise(547, 16, "The ALTER TABLE statement conflicted with the FOREIGN KEY constraint on table '" + n.display() + "'.");
    }
    {
      std::lock_guard<std::mutex> fl(db->flags_mutex);
      if (nocheck) db->fk_nocheck.insert(table);
      else {
        db->fk_nocheck.erase(table);
        for (auto it = db->fk_nocheck.begin(); it != db->fk_nocheck.end();)
          it = it->rfind(table + "|", 0) == 0 ? db->fk_nocheck.erase(it) : std::next(it);
      }
    }
    persist_set("fk_nocheck", db->fk_nocheck);
    exec(db->admin, "UPDATE __m2r_objects SET is_disabled = " + std::string(nocheck ? "1" : "0") + ", is_not_trusted = " +
                        std::string(nocheck || r == "CHECK CONSTRAINT ALL" ? "1" : "0") + " WHERE type = 'F' AND parent_object_id = " + std::to_string(oid));
  } else if (i + 2 < t.size() && t[i].is("ADD") && !t[i + 1].is("CONSTRAINT")) {
    std::size_t k = i + 1;
    const std::string cname = t[k].text;
    ++k;
    if (k < t.size() && t[k].is("AS")) unsupported("ALTER TABLE ADD computed column");
    std::string decl = type_decl_text(t, k);
    ColumnType ct;
    if (!parse_type(decl, ct)) raise(2715, 16, "Column, parameter, or variable #1: Cannot find data type " + decl + ".");
    // Existing rows would each need a new @@DBTS value: not modelled.
    if (is_rowversion_decl(decl)) unsupported("ALTER TABLE ADD rowversion column");
    bool nullable = true;
    if (k + 1 < t.size() && t[k].is("NOT") && t[k + 1].is("NULL")) { nullable = false; unsupported("ALTER TABLE ADD ... NOT NULL"); }
    if (k >= t.size() && !m_options.columns_nullable_by_default()) unsupported("ALTER TABLE ADD ... NOT NULL (SET ANSI_NULL_DFLT_ON OFF)");
    if (k < t.size() && !t[k].is("NULL")) unsupported("ALTER TABLE ADD column with " + upper(t[k].text));
    exec(c, "ALTER TABLE " + quote_ident(table) + " ADD COLUMN " + quote_ident(cname) + " " + sqlite_column_decl(decl, ct) +
                (ct.type == SqlType::xml ? " CHECK (m2r_xml_check(" + quote_ident(cname) + "))" : ""));
    Stmt s(c, "INSERT INTO __m2r_columns SELECT ?, MAX(column_id) + 1, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL FROM __m2r_columns WHERE object_id = ?");
    s.bind(1, oid).bind(2, cname).bind(3, decl).bind(4, static_cast<std::int64_t>(system_type_id(decl)))
        .bind(5, static_cast<std::int64_t>(max_length(ct, decl))).bind(6, static_cast<std::int64_t>(ct.precision))
        .bind(7, static_cast<std::int64_t>(ct.scale)).bind(8, static_cast<std::int64_t>(nullable)).bind(9, oid);
    s.step();
  } else {
    unsupported("ALTER TABLE ... " + r);
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

void SessionImpl::do_dbcc(const Statement& st, ResultSink& sink) {
  const Tokens t(st.tokens);
  if (t.size() < 2) syntax_near(t, 1);
  if (!t[1].is("CHECKIDENT")) unsupported("DBCC " + upper(t[1].text));
  if (t.size() < 4 || !is_sym(t[2], "(")) syntax_near(t, 2);
  std::vector<Token> nt = tokenize(t[3].text);
  std::size_t ni = 0;
  ObjName n = parse_name(nt, ni);
  const std::string table = sqlite_table_name(n.schema, n.name);
  auto db = cur_db();
  sqlite3* c = cur();
  std::string icol = query_str(c, "SELECT c.name FROM __m2r_columns c JOIN __m2r_objects o ON o.object_id = c.object_id"
                                  " WHERE c.is_identity = 1 AND o.sqlite_name = " + quote_literal(table) + " COLLATE NOCASE");
  if (icol.empty()) raise(7997, 16, "'" + n.name + "' does not contain an identity column.");
  bool reseed = false, has_value = false;
  std::int64_t value = 0;
  bool no_infomsgs = false;
  for (std::size_t k = 4; k < t.size(); ++k) {
    if (t[k].is("RESEED")) reseed = true;
    if (reseed && t[k].kind == TokKind::number && !has_value) { value = int_literal(t[k]); has_value = true; }
    if (reseed && is_sym(t[k], "-") && k + 1 < t.size() && t[k + 1].kind == TokKind::number && !has_value) { value = -int_literal(t[k + 1]); has_value = true; }
    if (t[k].is("NO_INFOMSGS")) no_infomsgs = true;
  }
  std::lock_guard<std::mutex> lock(db->write_mutex);
  const bool has_seq = query_int(c, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'") > 0;
  std::int64_t current = has_seq ? query_int(c, "SELECT seq FROM sqlite_sequence WHERE name = " + quote_literal(table), 0) : 0;
  const std::int64_t maxv = query_int(c, "SELECT MAX(" + quote_ident(icol) + ") FROM " + quote_ident(table), 0);
  std::int64_t target = current;
  if (reseed && has_value) target = value;
  else if (reseed || maxv > current) target = std::max(current, maxv);
  if (reseed && !has_value) target = std::max(current, maxv);
  if (target != current && has_seq) {
    exec(c, "DELETE FROM sqlite_sequence WHERE name = " + quote_literal(table));
    exec(c, "INSERT INTO sqlite_sequence(name, seq) VALUES(" + quote_literal(table) + ", " + std::to_string(target) + ")");
  }
  if (!no_infomsgs) {
    Message m;
    m.number = 2559;
    m.severity = 0;
    m.text = "Checking identity information: current identity value '" + std::to_string(current) + "', current column value '" +
             std::to_string(target) + "'.";
    sink.message(m);
    m.number = 2528;
    m.text = "DBCC execution completed. If DBCC printed error messages, contact your system administrator.";
    sink.message(m);
  }
  sink.done(DoneKind::statement, std::nullopt, false);
}

}  // namespace sandbox::engine
