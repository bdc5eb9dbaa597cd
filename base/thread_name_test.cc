// Goal: a thread's name is what NameThisThread set, cut to the kernel's 15 characters.
#include "base/thread_name.h"

#include <pthread.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace almanac {
namespace {

std::string NameOfThisThread() {
  char name[64] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string before = NameOfThisThread();
  std::string inside;
  std::thread([&] {
    NameThisThread("almanac-seq");
    inside = NameOfThisThread();
  }).join();
  EXPECT_EQ(inside, "almanac-seq");
  EXPECT_EQ(NameOfThisThread(), before);
}

TEST(ThreadNameTest, CutsLongNames) {
  std::string inside;
  std::thread([&] {
    NameThisThread("a-name-longer-than-fifteen");
    inside = NameOfThisThread();
  }).join();
  EXPECT_EQ(inside, "a-name-longer-t");
}

}  // namespace
}  // namespace almanac
