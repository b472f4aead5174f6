#pragma once
// A file in memory that tests can grow and rewrite while an upload reads it.
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "migrate/file_reader.hpp"

namespace m2r {

class MemoryFileReader final : public FileReader {
 public:
  explicit MemoryFileReader(std::string content = {}) : m_content(std::move(content)) {}
  Expected<std::uint64_t> size() override;
  Expected<std::size_t> read_at(std::uint64_t offset, std::span<char> into) override;

  void append(std::string_view bytes);
  void overwrite(std::uint64_t offset, std::string_view bytes);
  std::string content();
  int reads();

 private:
  std::mutex m_mutex;
  std::string m_content;
  int m_reads = 0;
};

}  // namespace m2r
