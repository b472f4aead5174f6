#include "sys/moto_locator.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "aws/support/temp_dir.hpp"

using namespace m2r;
namespace fs = std::filesystem;

namespace {

// A fake python3 that answers the locator's probe: exit 0 ("moto.server importable") only when
// `has_moto` and the probe asks about moto.server, as a real interpreter would.
std::string fake_python(bool has_moto) {
  return std::string("#!/bin/sh\n") +
         (has_moto ? "case \"$2\" in *moto.server*) exit 0;; esac\n" : "") + "exit 1\n";
}

class MotoLocatorTest : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string dir(const std::string& name) const {
    fs::create_directories(tmp.path() / name);
    return (tmp.path() / name).string();
  }
};

}  // namespace

TEST_F(MotoLocatorTest, FindsMotoServerInAPathDirectory) {
  // Given moto_server in the second PATH directory only, we should run it.
  const std::string empty = dir("empty");
  const std::string moto = tmp.write("bin/moto_server", "#!/bin/sh\n", true);
  auto found = locate_moto({std::nullopt, empty + ":" + tmp.str() + "/bin"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->argv, std::vector<std::string>{moto});
  EXPECT_EQ(found->found_by, "moto_server on PATH");
}

TEST_F(MotoLocatorTest, SkipsAMotoServerThatIsNotExecutable) {
  // Given a moto_server without the execute bit first and an executable one later, we should
  // take the executable one.
  tmp.write("a/moto_server", "#!/bin/sh\n", false);
  const std::string moto = tmp.write("b/moto_server", "#!/bin/sh\n", true);
  auto found = locate_moto({std::nullopt, tmp.str() + "/a:" + tmp.str() + "/b"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->argv.front(), moto);
}

TEST_F(MotoLocatorTest, MotoServerVariableWinsOverPath) {
  // Given MOTO_SERVER naming an executable and another moto_server on PATH, we should run the
  // one MOTO_SERVER names: the variable is the explicit choice.
  tmp.write("bin/moto_server", "#!/bin/sh\n", true);
  const std::string chosen = tmp.write("elsewhere/my-moto", "#!/bin/sh\n", true);
  auto found = locate_moto({chosen, tmp.str() + "/bin"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->argv, std::vector<std::string>{chosen});
  EXPECT_EQ(found->found_by, "MOTO_SERVER");
}

TEST_F(MotoLocatorTest, MotoServerVariableMayBeACommandWhoseProgramIsOnPath) {
  // Given MOTO_SERVER="python3.12 -m moto.server", we should run python3.12 from PATH with
  // those arguments.
  const std::string python = tmp.write("bin/python3.12", fake_python(true), true);
  auto found = locate_moto({"python3.12  -m moto.server", tmp.str() + "/bin"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->argv, (std::vector<std::string>{python, "-m", "moto.server"}));
}

TEST_F(MotoLocatorTest, AnUnusableMotoServerVariableIsAnErrorNotAFallThrough) {
  // Given MOTO_SERVER naming a missing file and a working moto_server on PATH, we should
  // refuse with a message naming the variable's value, rather than silently run another moto.
  tmp.write("bin/moto_server", "#!/bin/sh\n", true);
  auto missing = locate_moto({"/nonexistent/moto_server", tmp.str() + "/bin"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(missing.error().message.find("MOTO_SERVER names /nonexistent/moto_server"), std::string::npos)
      << missing.error().message;

  auto not_on_path = locate_moto({"python3.99 -m moto.server", tmp.str() + "/bin"});
  ASSERT_FALSE(not_on_path);
  EXPECT_NE(not_on_path.error().message.find("MOTO_SERVER's program python3.99 is in no PATH directory"),
            std::string::npos)
      << not_on_path.error().message;
}

TEST_F(MotoLocatorTest, FallsBackToTheFirstPython3ThatCanImportMoto) {
  // Given no moto_server anywhere, a python3 without moto first on PATH and one with moto
  // later, we should run the later one as `python3 -m moto.server`.
  tmp.write("plain/python3", fake_python(false), true);
  const std::string with_moto = tmp.write("pyenv/python3", fake_python(true), true);
  auto found = locate_moto({std::nullopt, tmp.str() + "/plain:" + tmp.str() + "/pyenv"});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->argv, (std::vector<std::string>{with_moto, "-m", "moto.server"}));
  EXPECT_EQ(found->found_by, "python3 -m moto.server");
}

TEST_F(MotoLocatorTest, NothingFoundNamesWhatWasTriedAndTheInstallCommand) {
  // Given a PATH with neither moto_server nor a python3 that has moto, we should fail as a
  // missing prerequisite, naming every place looked at and the exact commands that get moto.
  const std::string empty = dir("empty");
  const std::string python = tmp.write("bin/python3", fake_python(false), true);
  auto none = locate_moto({std::nullopt, empty + ":" + tmp.str() + "/bin"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::prerequisite);
  const std::string& m = none.error().message;
  EXPECT_NE(m.find("moto 5.2.1 (the rehearsal world's AWS emulator) was not found"), std::string::npos) << m;
  EXPECT_NE(m.find("MOTO_SERVER (not set)"), std::string::npos) << m;
  EXPECT_NE(m.find("moto_server in each PATH directory (" + empty + ":" + tmp.str() + "/bin)"), std::string::npos) << m;
  EXPECT_NE(m.find("each python3 on PATH (" + python + ": none can import moto.server)"), std::string::npos) << m;
  const std::string& h = none.error().hint;
  EXPECT_NE(h.find("bash scripts/install-deps.sh"), std::string::npos) << h;
  EXPECT_NE(h.find("/opt/moto-5.2.1/bin/pip install 'moto[server]==5.2.1'"), std::string::npos) << h;

  auto no_python = locate_moto({std::nullopt, empty});
  ASSERT_FALSE(no_python);
  EXPECT_NE(no_python.error().message.find("python3 -m moto.server with no python3 on PATH"), std::string::npos)
      << no_python.error().message;
}

TEST_F(MotoLocatorTest, PythonPathHoldsOnlyDebiansCrc32cModule) {
  // Given a dist-packages with the crc32c module beside other packages (an older botocore),
  // moto's PYTHONPATH should gain a directory holding a link to that one module, before the
  // existing entries.
  const std::string dist = dir("dist-packages");
  const std::string module = tmp.write("dist-packages/crc32c.cpython-311-x86_64-linux-gnu.so", "ELF");
  tmp.write("dist-packages/botocore/__init__.py", "");
  const std::string into = (tmp.path() / "moto-python").string();
  auto path = prepare_moto_pythonpath(into, "/existing", dist);
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(path->pythonpath, into + ":/existing");
  EXPECT_EQ(path->crc32c_module, module);
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(into)) entries.push_back(e.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"crc32c.cpython-311-x86_64-linux-gnu.so"});
  EXPECT_EQ(fs::read_symlink(fs::path(into) / entries.front()), module);

  // Prepared again (a second world in the same directory), it should replace the link.
  auto again = prepare_moto_pythonpath(into, "", dist);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->pythonpath, into);
}

TEST_F(MotoLocatorTest, PythonPathIsUnchangedWithoutTheModule) {
  // Given no python3-crc32c, we should leave PYTHONPATH alone and say the module is missing.
  const std::string dist = dir("dist-packages");
  auto path = prepare_moto_pythonpath((tmp.path() / "moto-python").string(), "/existing", dist);
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(path->pythonpath, "/existing");
  EXPECT_TRUE(path->crc32c_module.empty());
  EXPECT_FALSE(fs::exists(tmp.path() / "moto-python"));
}
