#pragma once
// Where moto (the AWS emulator of the rehearsal world, docs/facts.md §9) is on this machine,
// for the two places that start it: the rehearsal world (sandbox/world) and the tests' moto
// fixture (tests/support/moto_server), beside the process helper it uses to ask a python3
// whether it can import moto. The product never calls it.
//
// The search, in order; the first that answers wins:
//   1. MOTO_SERVER, when set: a path to the executable, or a command ("python3.12 -m moto.server",
//      split at spaces; its first word looked up on PATH when it has no '/'). Set but unusable
//      is an error, not a reason to look elsewhere: it was an explicit choice.
//   2. `moto_server` in a PATH directory (pyenv's shims on the development machines).
//   3. `python3 -m moto.server` with the first python3 on PATH that can import moto.server.
// Nothing found: ErrorKind::prerequisite naming each place tried and the command that installs it.
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace m2r {

// The moto version the rehearsal world and its tests were checked against (docs/facts.md §9).
inline constexpr const char* k_moto_version = "5.2.1";

struct MotoSearch {
  std::optional<std::string> moto_server_env;  // MOTO_SERVER (unset or empty: not used)
  std::string path_env;                        // PATH
};

struct MotoCommand {
  std::vector<std::string> argv;  // program (absolute path) and leading arguments; append -H HOST -p PORT
  std::string found_by;           // how: "MOTO_SERVER", "moto_server on PATH", "python3 -m moto.server"
};

// The search above over `search` (tests pass their own PATH and MOTO_SERVER).
Expected<MotoCommand> locate_moto(const MotoSearch& search);
// The search over this process's environment.
Expected<MotoCommand> locate_moto();

// moto computes CRC32C with the optional `crc32c` module and, without it, silently reports a
// CRC32 under that name (moto/s3/utils.py compute_checksum). Debian's python3-crc32c builds
// that module for Debian's python3; moto may run under another interpreter of the same
// version (pyenv's 3.11.7 here). Adding Debian's whole dist-packages to moto's path would put
// Debian's older botocore before moto's, so `dir` is made to hold only a link to that one
// module, and PYTHONPATH = dir[:existing]. The module's file name carries its ABI tag
// (crc32c.cpython-311-x86_64-linux-gnu.so), so an interpreter of another version ignores it.
struct MotoPythonPath {
  std::string pythonpath;     // the value to give moto's PYTHONPATH
  std::string crc32c_module;  // the module linked into dir; empty when python3-crc32c is not installed
};
inline constexpr const char* k_debian_dist_packages = "/usr/lib/python3/dist-packages";
Expected<MotoPythonPath> prepare_moto_pythonpath(const std::string& dir, const std::string& existing_pythonpath,
                                                 const std::string& dist_packages = k_debian_dist_packages);

// The fix for a missing python3-crc32c, for messages.
inline constexpr const char* k_crc32c_fix =
    "install Debian's python3-crc32c (bash scripts/install-deps.sh, or apt-get install python3-crc32c)";

}  // namespace m2r
