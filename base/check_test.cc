#include "base/check.h"

#include "gtest/gtest.h"

namespace almanac {
namespace {

// The check must stay on in optimized builds: it guards the journal's invariants.
TEST(CheckTest, FailingCheckAbortsWithConditionAndMessage) {
  EXPECT_DEATH(ALMANAC_CHECK_MSG(1 + 1 == 3, "arithmetic"), "1 \\+ 1 == 3: arithmetic");
}

TEST(CheckTest, PassingCheckDoesNothing) {
  int evaluated = 0;
  ALMANAC_CHECK(++evaluated == 1);
  EXPECT_EQ(evaluated, 1);
}

}  // namespace
}  // namespace almanac
