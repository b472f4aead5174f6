#pragma once
// sql_variant (learn.microsoft.com "sql_variant (Transact-SQL)", "SQL_VARIANT_PROPERTY"):
// a value that remembers its base type. The engine keeps it as one TEXT,
// "<base type>:<value>" ("int:11", "decimal(4,2):11.16", "varchar(3):abc",
// "varbinary(16):1234"), lossless and readable in SQLite and in the log's row images; the
// TDS layer decodes it to write SSVARIANT_INSTANCE ([MS-TDS] 2.2.5.5.4). A NULL sql_variant
// is SQL NULL. See README.md "Types and values" for what is modelled and what is not.
#include <optional>
#include <string>

#include "engine/api.hpp"

namespace sandbox::engine {

struct VariantValue {
  ColumnType base;  // the base type (never sql_variant, never a (max) or large type)
  Value value;      // in the representation api.hpp gives that base type; never NULL
};

// The SQL Server name of a type that a sql_variant cannot hold ("nvarchar(max)", "text",
// "xml"), for Msg 206 "Operand type clash: %ls is incompatible with sql_variant"; nullopt
// when it can be a base type.
std::optional<std::string> variant_refused_type(const ColumnType& source);

std::string encode_variant(const ColumnType& base, const Value& value);
// nullopt for text that is not a stored sql_variant.
std::optional<VariantValue> decode_variant(const std::string& stored);

// SQL_VARIANT_PROPERTY's BaseType: "int", "decimal", "varchar", "datetime2", ...
std::string variant_base_type_name(const ColumnType& base);

// SQL_VARIANT_PROPERTY(v, property): the answer as a sql_variant's base type and value
// (BaseType and Collation sysname, the others int); nullopt (NULL) for a property the
// documentation does not list, and Collation of a non-character base type.
std::optional<VariantValue> variant_property(const VariantValue& v, const std::string& property);

// The collation character base types carry (the instance's default; COLLATE is not modelled).
inline constexpr const char* k_variant_collation = "SQL_Latin1_General_CP1_CI_AS";

}  // namespace sandbox::engine
