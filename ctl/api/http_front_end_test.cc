// Goal: the front end gives a connection to a worker only for a whole request head, and
// every way a connection leaves the lobby happens and is counted (ctl/api/http_lobby.h).
// Method: an HttpFrontEnd on 127.0.0.1:0 with plain handlers, TCP_DEFER_ACCEPT off (so
// idle sockets reach the lobby at once) and small limits; raw sockets for what clients
// must not do, cpp-httplib's client for what they do.
#include "ctl/api/http_front_end.h"
#include "ctl/api/test_loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ctl/api/metrics.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace almanac::api {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

bool SendAll(int fd, const std::string& data) {
  return send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Reads until `done(what came so far)` holds, the server closes (or resets) the
// connection, or `limit` passes; returns what came. `closed` says whether it ended.
std::string ReadUntil(int fd, milliseconds limit,
                      const std::function<bool(const std::string&)>& done, bool* closed) {
  std::string got;
  const Clock::time_point end = Clock::now() + limit;
  *closed = false;
  while (!done(got) && Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::string ReadUntilClosed(int fd, milliseconds limit, bool* closed) {
  return ReadUntil(fd, limit, [](const std::string&) { return false; }, closed);
}

// Reads until `count` answers arrived, the last one's body ("hi") included, or 5 s passed.
std::string ReadAnswers(int fd, size_t count) {
  bool closed = false;
  return ReadUntil(
      fd, milliseconds(5000),
      [count](const std::string& got) {
        size_t answers = 0;
        for (size_t at = got.find("HTTP/1.1 "); at != std::string::npos;
             at = got.find("HTTP/1.1 ", at + 1)) {
          ++answers;
        }
        return answers >= count && got.size() >= 2 && got.substr(got.size() - 2) == "hi";
      },
      &closed);
}

class HttpFrontEndTest : public ::testing::Test {
 protected:
  void Start(HttpFrontEndOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.idle_accept_defer_seconds = 0;
    auto front = HttpFrontEnd::Bind(options, &metrics_);
    ASSERT_TRUE(front.ok()) << front.status();
    front_ = std::move(*front);
    httplib::Server& s = front_->server();
    s.set_keep_alive_max_count(options.keep_alive_requests_max);
    s.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hi", "text/plain");
    });
    s.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    s.Get("/block", [this](const httplib::Request&, httplib::Response& res) {
      ++blocked_;
      while (!release_.load()) std::this_thread::sleep_for(milliseconds(5));
      res.set_content("done", "text/plain");
    });
    ASSERT_TRUE(front_->Serve().ok());
  }
  void TearDown() override {
    release_ = true;
    if (front_) front_->Stop();
  }
  uint64_t Count(const std::string& name) { return metrics_.GetCounter(name, "")->value(); }
  // Polls `name` until it equals `want` (up to 5 s); its last value.
  uint64_t AwaitCount(const std::string& name, uint64_t want) {
    for (int i = 0; i < 500 && Count(name) != want; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    return Count(name);
  }
  size_t LobbyConnections() {
    const std::string text = metrics_.Render();
    const std::string key = "\nalmanac_http_lobby_connections ";
    const size_t at = text.find(key);
    return at == std::string::npos ? size_t{999999} : std::stoul(text.substr(at + key.size()));
  }
  // Polls the lobby gauge until it shows `want` (up to 5 s): a connection goes back to the
  // lobby just after its answer is written. Its last value.
  size_t AwaitLobby(size_t want) {
    for (int i = 0; i < 500 && LobbyConnections() != want; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    return LobbyConnections();
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", front_->port());
    c.set_keep_alive(true);
    c.set_read_timeout(10, 0);
    return c;
  }

  MetricsRegistry metrics_;
  std::unique_ptr<HttpFrontEnd> front_;
  std::atomic<bool> release_{false};
  std::atomic<int> blocked_{0};
};

TEST_F(HttpFrontEndTest, KeptAliveConnectionsWaitInTheLobbyNotOnAWorker) {
  HttpFrontEndOptions options;
  options.worker_threads = 1;
  Start(options);
  httplib::Client a = Client();
  for (int i = 0; i < 3; ++i) {
    auto r = a.Get("/hello");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, "hi");
  }
  EXPECT_EQ(Count("almanac_http_connections_total"), 1u) << "the three requests shared one";
  // `a` idles in the lobby; the only worker is free for another client at once (served by
  // cpp-httplib's keep-alive loop, `b` would wait kKeepAliveTimeoutSeconds behind it).
  httplib::Client b = Client();
  const Clock::time_point start = Clock::now();
  auto r = b.Get("/hello");
  ASSERT_TRUE(r) << r.error();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_EQ(AwaitLobby(2), 2u);
  auto again = a.Get("/hello");
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(Count("almanac_http_connections_total"), 2u);
}

TEST_F(HttpFrontEndTest, PipelinedRequestsAndBodiesAreServedInOrder) {
  Start(HttpFrontEndOptions{});
  const int fd = ConnectLoopback(front_->port());
  ASSERT_GE(fd, 0);
  // A body with a length, a chunked body and a GET in one send: nothing of one request
  // may be taken for the next.
  ASSERT_TRUE(SendAll(fd,
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
                      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
                      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = ReadAnswers(fd, 3);
  const size_t first = got.find("\r\n\r\nfirst");
  const size_t second = got.find("\r\n\r\nsecond");
  const size_t third = got.find("\r\n\r\nhi");
  EXPECT_NE(first, std::string::npos) << got;
  EXPECT_NE(second, std::string::npos) << got;
  EXPECT_NE(third, std::string::npos) << got;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  close(fd);
}

// A client that sends "Expect: 100-continue" (curl does, for larger bodies) waits for the
// interim answer before it sends its body. The front end holds a response head back to
// send it with the body; an interim answer must not wait for anything.
TEST_F(HttpFrontEndTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  Start(HttpFrontEndOptions{});
  const int fd = ConnectLoopback(front_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  bool ended = false;
  const std::string got = ReadUntil(
      fd, milliseconds(2000),
      [](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; }, &ended);
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(SendAll(fd, "body"));
  bool closed = false;
  const std::string answer = ReadUntilClosed(fd, milliseconds(500), &closed);
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\r\n\r\nbody"), std::string::npos) << answer;
  close(fd);
}

TEST_F(HttpFrontEndTest, AHeadWithoutAnEndGets431) {
  HttpFrontEndOptions options;
  options.head_bytes_max = 1024;
  Start(options);
  const int fd = ConnectLoopback(front_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /hello HTTP/1.1\r\nX-Long: " + std::string(2000, 'a')));
  bool closed = false;
  const std::string got = ReadUntilClosed(fd, milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 431 ", 0), 0u) << got;
  EXPECT_EQ(Count("almanac_http_headers_too_large_total"), 1u);
  close(fd);
  // A head just under the limit is served.
  const int ok = ConnectLoopback(front_->port());
  ASSERT_GE(ok, 0);
  const std::string head = "GET /hello HTTP/1.1\r\nConnection: close\r\nX-Long: ";
  ASSERT_TRUE(SendAll(ok, head + std::string(1024 - head.size() - 4, 'a') + "\r\n\r\n"));
  EXPECT_EQ(ReadUntilClosed(ok, milliseconds(5000), &closed).rfind("HTTP/1.1 200 ", 0), 0u);
  close(ok);
}

TEST_F(HttpFrontEndTest, SlowAndIdleHeadsAreClosedAtTheDeadline) {
  HttpFrontEndOptions options;
  options.head_deadline = absl::Milliseconds(300);
  options.keep_alive_timeout = absl::Milliseconds(600);
  Start(options);
  const int idle = ConnectLoopback(front_->port());
  const int partial = ConnectLoopback(front_->port());
  ASSERT_GE(idle, 0);
  ASSERT_GE(partial, 0);
  ASSERT_TRUE(SendAll(partial, "GET /hello HTTP/1.1\r\nHost:"));
  const Clock::time_point start = Clock::now();
  bool closed = false;
  EXPECT_EQ(ReadUntilClosed(idle, milliseconds(5000), &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(ReadUntilClosed(partial, milliseconds(5000), &closed), "");
  EXPECT_TRUE(closed);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(3000));
  EXPECT_EQ(AwaitCount("almanac_http_header_timeouts_total", 2), 2u);
  // A kept-alive connection gets the keep-alive timeout instead, counted apart.
  const int kept = ConnectLoopback(front_->port());
  ASSERT_GE(kept, 0);
  ASSERT_TRUE(SendAll(kept, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = ReadUntilClosed(kept, milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << got;
  EXPECT_EQ(AwaitCount("almanac_http_keep_alive_timeouts_total", 1), 1u);
  EXPECT_EQ(Count("almanac_http_header_timeouts_total"), 2u);
  EXPECT_EQ(AwaitLobby(0), 0u);
  close(idle);
  close(partial);
  close(kept);
}

TEST_F(HttpFrontEndTest, AFullLobbyEvictsTheLongestWaitingThenRefuses) {
  HttpFrontEndOptions options;
  options.worker_threads = 1;
  options.lobby_connections_max = 3;
  Start(options);
  ASSERT_EQ(front_->lobby_connections_max(), 3u);
  int idle[4];
  for (int& fd : idle) {
    fd = ConnectLoopback(front_->port());
    ASSERT_GE(fd, 0);
    std::this_thread::sleep_for(milliseconds(20));  // a clear arrival order
  }
  // The fourth made room by closing the first.
  bool closed = false;
  ReadUntilClosed(idle[0], milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  ReadUntilClosed(idle[1], milliseconds(200), &closed);
  EXPECT_FALSE(closed);
  EXPECT_EQ(Count("almanac_http_lobby_evicted_total"), 1u);
  EXPECT_EQ(AwaitLobby(3), 3u);
  for (int fd : idle) close(fd);
  ASSERT_EQ(AwaitLobby(0), 0u);

  // The one worker blocks; three whole requests then fill the lobby, waiting for it, and
  // there is nothing to evict: a fifth connection is closed at once.
  int blocked = ConnectLoopback(front_->port());
  ASSERT_TRUE(SendAll(blocked, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (int i = 0; i < 500 && blocked_.load() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(blocked_.load(), 1);
  int waiting[3];
  for (int& fd : waiting) {
    fd = ConnectLoopback(front_->port());
    ASSERT_TRUE(SendAll(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  }
  ASSERT_EQ(AwaitLobby(3), 3u);
  // Counted when the lobby has seen a whole head with no worker free, which can come just
  // after the gauge shows the connection.
  EXPECT_GE(AwaitCount("almanac_http_connections_waited_total", 3), 3u);
  const int refused = ConnectLoopback(front_->port());
  ReadUntilClosed(refused, milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(AwaitCount("almanac_http_lobby_refused_total", 1), 1u);
  // Released, the worker answers every waiting request.
  release_ = true;
  for (int fd : waiting) {
    EXPECT_EQ(ReadUntilClosed(fd, milliseconds(5000), &closed).rfind("HTTP/1.1 200 ", 0), 0u);
    close(fd);
  }
  close(blocked);
  close(refused);
}

TEST_F(HttpFrontEndTest, AClientThatLeavesMidHeadIsForgotten) {
  Start(HttpFrontEndOptions{});
  const int fd = ConnectLoopback(front_->port());
  ASSERT_TRUE(SendAll(fd, "GET /hello HTTP/1.1\r\n"));
  ASSERT_EQ(AwaitLobby(1), 1u);
  shutdown(fd, SHUT_WR);  // the head can never complete now
  EXPECT_EQ(AwaitLobby(0), 0u);
  EXPECT_EQ(Count("almanac_http_header_timeouts_total"), 0u);
  close(fd);
}

TEST_F(HttpFrontEndTest, StopClosesTheLobbyAndReturnsPromptly) {
  Start(HttpFrontEndOptions{});
  int fds[20];
  for (int& fd : fds) fd = ConnectLoopback(front_->port());
  ASSERT_EQ(AwaitLobby(20), 20u);
  const Clock::time_point start = Clock::now();
  front_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  bool closed = false;
  ReadUntilClosed(fds[0], milliseconds(1000), &closed);
  EXPECT_TRUE(closed);
  for (int fd : fds) close(fd);
  EXPECT_LT(ConnectLoopback(front_->port()), 0) << "still listening";
}

}  // namespace
}  // namespace almanac::api
