#include "fakes/memory_file_reader.hpp"

#include <algorithm>
#include <cstring>

namespace m2r {

Expected<std::uint64_t> MemoryFileReader::size() {
  std::lock_guard lock(m_mutex);
  return m_content.size();
}

Expected<std::size_t> MemoryFileReader::read_at(std::uint64_t offset, std::span<char> into) {
  std::lock_guard lock(m_mutex);
  ++m_reads;
  if (offset >= m_content.size()) return std::size_t{0};
  const std::size_t n = std::min<std::size_t>(into.size(), m_content.size() - offset);
  std::memcpy(into.data(), m_content.data() + offset, n);
  return n;
}

void MemoryFileReader::append(std::string_view bytes) {
  std::lock_guard lock(m_mutex);
  m_content.append(bytes);
}

void MemoryFileReader::overwrite(std::uint64_t offset, std::string_view bytes) {
  std::lock_guard lock(m_mutex);
  if (m_content.size() < offset + bytes.size()) m_content.resize(offset + bytes.size());
  m_content.replace(offset, bytes.size(), bytes);
}

std::string MemoryFileReader::content() {
  std::lock_guard lock(m_mutex);
  return m_content;
}

int MemoryFileReader::reads() {
  std::lock_guard lock(m_mutex);
  return m_reads;
}

}  // namespace m2r
