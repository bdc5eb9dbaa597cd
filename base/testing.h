// Helpers shared by Almanac's tests.
#ifndef ALMANAC_BASE_TESTING_H_
#define ALMANAC_BASE_TESTING_H_

#include <string>

namespace almanac::testing {

// The directory holding ZeroTier 1.14.1's captured vectors (shared/vectors/zerotier-1.14.1).
// Found through $ALMANAC_SHARED (the shared/ folder), else ../shared beside the checkout.
// Fails the calling test (and returns "") when the folder cannot be found.
std::string VectorsDir();

// Reads a whole file; fails the calling test and returns "" when it cannot.
std::string ReadFileOrFail(const std::string& path);

// A fresh, empty directory under $TEST_TMPDIR (or /tmp), unique per call.
std::string MakeTempDir(const std::string& prefix);

}  // namespace almanac::testing

#endif  // ALMANAC_BASE_TESTING_H_
