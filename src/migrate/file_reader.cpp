#include "migrate/file_reader.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace m2r {

Expected<std::unique_ptr<PosixFileReader>> PosixFileReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorKind::not_found : ErrorKind::prerequisite,
                fmt::format("cannot open '{}': {}", path, std::strerror(err)),
                err == ENOENT ? "check the backup path" : "check the file's permissions");
  }
  // The engine reads each byte once or twice, in large ranges, far ahead of use.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<PosixFileReader>(new PosixFileReader(path, fd));
}

PosixFileReader::~PosixFileReader() { ::close(m_fd); }

Expected<std::uint64_t> PosixFileReader::size() {
  struct stat st {};
  if (::fstat(m_fd, &st) != 0) {
    return fail(ErrorKind::fatal, fmt::format("cannot stat '{}': {}", m_path, std::strerror(errno)));
  }
  return static_cast<std::uint64_t>(st.st_size);
}

Expected<std::size_t> PosixFileReader::read_at(std::uint64_t offset, std::span<char> into) {
  std::size_t done = 0;
  while (done < into.size()) {
    const ssize_t n = ::pread(m_fd, into.data() + done, into.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::fatal, fmt::format("cannot read '{}' at offset {}: {}", m_path,
                                                offset + done, std::strerror(errno)));
    }
    if (n == 0) break;  // end of file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

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
