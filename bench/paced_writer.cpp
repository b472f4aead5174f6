// Copies a file at a fixed rate in 1 MiB writes, as a running BACKUP writes its file, then
// rewrites the first 4 KiB (a backup finishes by rewriting its header) and creates
// "<dest>.done". Prints the seconds it took.
//   paced_writer SOURCE DEST MB_PER_SECOND
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: paced_writer SOURCE DEST MB_PER_SECOND\n");
    return 2;
  }
  const double rate = std::atof(argv[3]) * 1e6;
  const int in = ::open(argv[1], O_RDONLY);
  const int out = ::open(argv[2], O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (in < 0 || out < 0 || rate <= 0) {
    std::perror("paced_writer");
    return 1;
  }
  std::vector<char> buffer(1 << 20);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t written = 0;
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0) return 1;
    if (n == 0) break;
    if (::write(out, buffer.data(), static_cast<std::size_t>(n)) != n) return 1;
    written += static_cast<std::uint64_t>(n);
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(written) / rate));
    std::this_thread::sleep_until(due);
  }
  // The header rewrite at the end (what the upload's final check exists for).
  if (::pread(in, buffer.data(), 4096, 0) > 0) {
    for (int i = 0; i < 4096; ++i) buffer[static_cast<std::size_t>(i)] = static_cast<char>(buffer[static_cast<std::size_t>(i)] ^ 0x5a);
    if (::pwrite(out, buffer.data(), 4096, 0) != 4096) return 1;
  }
  ::fsync(out);
  ::close(out);
  ::close(in);
  const std::string done = std::string(argv[2]) + ".done";
  const int marker = ::open(done.c_str(), O_CREAT | O_WRONLY, 0644);
  if (marker >= 0) ::close(marker);
  std::printf("%.3f\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}
