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
    return fail(ErrorKind::prerequisite, fmt::format("cannot stat '{}': {}", m_path, std::strerror(errno)),
                "check the disk and the backup directory's mount");
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
      return fail(ErrorKind::prerequisite, fmt::format("cannot read '{}' at offset {}: {}", m_path,
                                                offset + done, std::strerror(errno)));
    }
    if (n == 0) break;  // end of file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace m2r
