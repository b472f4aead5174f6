#pragma once
// A temporary directory removed at scope exit, and a file writer for it.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

namespace m2r::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/m2r-aws-test-XXXXXX";
    m_path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::string str() const { return m_path.string(); }

  // Writes `text` to path()/relative (creating folders); mode 0700 when executable.
  std::string write(const std::string& relative, const std::string& text, bool executable = false) const {
    auto file = m_path / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    if (executable) chmod(file.c_str(), 0700);
    return file.string();
  }

 private:
  std::filesystem::path m_path;
};

}  // namespace m2r::test
