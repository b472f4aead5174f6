#pragma once
// Positional reads of the backup file, safe to call from many threads at once (pread), so
// parts are read in parallel (conventions.md: aws-c-s3's parallel input stream). The file
// may still be growing while a backup writes it: size() is the size now.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/error.hpp"

namespace m2r {

class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual Expected<std::uint64_t> size() = 0;
  // Fills `into` from `offset`; fewer bytes only at the end of the file. Returns the count.
  virtual Expected<std::size_t> read_at(std::uint64_t offset, std::span<char> into) = 0;
};

class PosixFileReader final : public FileReader {
 public:
  static Expected<std::unique_ptr<PosixFileReader>> open(const std::string& path);
  ~PosixFileReader() override;
  PosixFileReader(const PosixFileReader&) = delete;
  PosixFileReader& operator=(const PosixFileReader&) = delete;

  Expected<std::uint64_t> size() override;
  Expected<std::size_t> read_at(std::uint64_t offset, std::span<char> into) override;

 private:
  PosixFileReader(std::string path, int fd) : m_path(std::move(path)), m_fd(fd) {}
  std::string m_path;
  int m_fd;
};

}  // namespace m2r
