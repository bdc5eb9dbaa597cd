// Goal: the benchmark's floor servers answer every whole request once, each batch after
// one synced write, and close a connection that cannot be a request, so the rates
// almanac-bench api prints next to Almanac's count what they claim.
// Method: raw loopback clients, pipelined and split requests, a real temp directory.
#include "ctl/api/api_bench_floors.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/api/test_loopback.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

constexpr size_t kBodyBytes = 700;

std::string Post(const std::string& body) {
  return absl::StrCat("POST /controller/network/x/member/y HTTP/1.1\r\nHost: b\r\n",
                      "Content-Length: ", body.size(), "\r\n\r\n", body);
}

// Reads until `answers` whole answers with kBodyBytes bodies arrived; false on close.
bool ReadAnswers(int fd, int answers) {
  const std::string one = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                                       "Content-Length: ", kBodyBytes, "\r\n\r\n",
                                       std::string(kBodyBytes, 'x'));
  std::string in;
  char buffer[4096];
  while (in.size() < one.size() * answers) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    in.append(buffer, static_cast<size_t>(n));
  }
  std::string expected;
  for (int i = 0; i < answers; ++i) expected += one;
  return in == expected;
}

bool ClosedByServer(int fd) {
  char byte;
  return recv(fd, &byte, 1, 0) == 0;
}

class FloorTest : public ::testing::TestWithParam<FloorKind> {
 protected:
  std::string Dir() const { return ::testing::TempDir(); }
};

TEST_P(FloorTest, AnswersEveryWholeRequestAfterASyncedWrite) {
  absl::StatusOr<std::unique_ptr<FloorServer>> server =
      FloorServer::Start(GetParam(), Dir(), kBodyBytes);
  ASSERT_TRUE(server.ok()) << server.status();
  const int a = ConnectLoopback((*server)->port());
  const int b = ConnectLoopback((*server)->port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // One request at a time, then one split in two sends.
  for (int i = 0; i < 3; ++i) {
    const std::string request = Post(R"({"authorized":true})");
    ASSERT_EQ(send(a, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    ASSERT_TRUE(ReadAnswers(a, 1));
  }
  const std::string split = Post("{}");
  ASSERT_EQ(send(b, split.data(), 10, 0), 10);
  usleep(20000);
  ASSERT_EQ(send(b, split.data() + 10, split.size() - 10, 0),
            static_cast<ssize_t>(split.size() - 10));
  ASSERT_TRUE(ReadAnswers(b, 1));
  EXPECT_EQ((*server)->answered(), 4u);
  EXPECT_GE((*server)->syncs(), 1u);
  EXPECT_LE((*server)->syncs(), 4u);
  // A head with a Content-Length that is not a number cannot be framed: closed.
  const std::string bad = "POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n";
  ASSERT_EQ(send(b, bad.data(), bad.size(), 0), static_cast<ssize_t>(bad.size()));
  EXPECT_TRUE(ClosedByServer(b));
  EXPECT_EQ((*server)->answered(), 4u);
  close(a);
  close(b);
}

TEST_P(FloorTest, ClosesAConnectionThatSendsTooMuchWithoutAHeadEnd) {
  absl::StatusOr<std::unique_ptr<FloorServer>> server =
      FloorServer::Start(GetParam(), Dir(), kBodyBytes);
  ASSERT_TRUE(server.ok()) << server.status();
  const int fd = ConnectLoopback((*server)->port());
  ASSERT_GE(fd, 0);
  const std::string endless(kFloorRequestBytesMax + 1, 'h');
  // The server may close before it took all of it: what matters is that it closes.
  (void)send(fd, endless.data(), endless.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(ClosedByServer(fd));
  EXPECT_EQ((*server)->answered(), 0u);
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Kinds, FloorTest,
                         ::testing::Values(FloorKind::kOneThread, FloorKind::kThreadPerRequest),
                         [](const ::testing::TestParamInfo<FloorKind>& info) {
                           return info.param == FloorKind::kOneThread ? "OneThread"
                                                                      : "ThreadPerRequest";
                         });

}  // namespace
}  // namespace almanac::api
