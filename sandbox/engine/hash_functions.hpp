#pragma once
// HASHBYTES over the bytes SQL Server hashes, and STRING_AGG ... WITHIN GROUP (ORDER BY ...)
// (SQLite 3.40 has no ordered aggregate). The translator (translate.cpp) calls them as
//
//   m2r_hashbytes(algorithm, x, type_of_x)        nvarchar/nchar/ntext: UTF-16LE; varchar/char/text:
//                                                 the code page's bytes (Latin-1 here); binary: bytes
//   m2r_string_agg(x, separator, directions, k1, k2, ...)   directions: one 'A' or 'D' per key
//   m2r_datalength(x, type_of_x)                  DATALENGTH: nvarchar two bytes per UTF-16 unit
#include <sqlite3.h>

#include <string>

namespace sandbox::engine {

void register_hash_functions(sqlite3* db);
// UTF-8 text as the UTF-16LE bytes SQL Server hashes for nvarchar (also the password hash, principals.hpp).
std::string utf16le_bytes(const std::string& utf8);

}  // namespace sandbox::engine
