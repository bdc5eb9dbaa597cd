#include "base/testing.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace almanac::testing {
namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string VectorsDir() {
  const char* shared = ::getenv("ALMANAC_SHARED");
  if (shared != nullptr && *shared != '\0') {
    std::string dir = std::string(shared) + "/vectors/zerotier-1.14.1";
    if (IsDir(dir)) return dir;
  }
  ADD_FAILURE() << "shared vectors not found: set ALMANAC_SHARED to the shared/ folder "
                   "(tools/test does this)";
  return "";
}

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = ::getenv("TEST_TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
    return "";
  }
  return made;
}

}  // namespace almanac::testing
