// Goal: idle and slow HTTP clients cannot take the admin API away from a normal client, and
// what the limits turned away is counted on /metrics (ctl/api/limits.h). Method: a real
// ApiServer on 127.0.0.1:0 (body grace shortened to 2 s): (1) 300 sockets that connect
// and send nothing plus 4 slow-loris bodies (a byte every 200 ms): GET /status still
// answers within a second, each slow body is refused (408, or a reset when the client is
// still sending) and its connection closed soon after the grace, and
// almanac_http_slow_bodies_total counts them; (2) twice as many slow-loris bodies as
// worker threads: they hold every worker only until the body pace check refuses them, then
// a normal request is answered again; (3) 10,000 idle connections (fewer if the
// descriptor limit forbids) with TCP_DEFER_ACCEPT off, then 50 slow-loris heads: GET
// /status answers within a second, the lobby holds at most its cap and evicts the rest,
// the heads are closed at the head deadline, the process uses little CPU meanwhile and
// its resident memory grows less than 32 MiB.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing.h"
#include "ctl/api/api_server.h"
#include "ctl/api/test_loopback.h"
#include "ctl/api/limits.h"
#include "ctl/sequencer.h"
#include "ctl/telemetry.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "journal/journal.h"

namespace almanac::api {
namespace {

constexpr char kToken[] = "0123456789abcdefghijklmn";
constexpr int kGraceSeconds = 2;

// One trickling client of SlowBodies or SlowHeads: when the server ended it (after, from
// the start of the trickle) and what it answered before closing.
struct SlowConn {
  int fd = -1;
  bool ended = false;
  std::chrono::steady_clock::duration after{};
  std::string reply;
};

// Slow-loris bodies: full headers announcing 1000 bytes, then one byte per round until
// the server answers or closes. Records when each connection ended and what it got.
class SlowBodies {
 public:
  SlowBodies(int port, int count) {
    const std::string head = absl::StrCat(
        "POST /controller/network HTTP/1.1\r\nHost: 127.0.0.1\r\nX-ZT1-Auth: ", kToken,
        "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
    for (int i = 0; i < count; ++i) {
      SlowConn c;
      c.fd = ConnectLoopback(port);
      EXPECT_GE(c.fd, 0);
      EXPECT_EQ(send(c.fd, head.data(), head.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(head.size()));
      fcntl(c.fd, F_SETFL, O_NONBLOCK);
      conns_.push_back(c);
    }
    start_ = std::chrono::steady_clock::now();
  }
  ~SlowBodies() {
    for (SlowConn& c : conns_) close(c.fd);
  }
  // Trickles until every connection ended or `limit` passed; true if all ended.
  bool RunUntilAllEnded(std::chrono::seconds limit) {
    while (std::chrono::steady_clock::now() - start_ < limit) {
      bool all = true;
      for (SlowConn& c : conns_) {
        if (c.ended) continue;
        char buf[4096];
        ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n > 0) c.reply.append(buf, n);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          c.ended = true;
          c.after = std::chrono::steady_clock::now() - start_;
          continue;
        }
        if (send(c.fd, " ", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
          c.ended = true;
          c.after = std::chrono::steady_clock::now() - start_;
          continue;
        }
        all = false;
      }
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  const std::vector<SlowConn>& conns() const { return conns_; }

 private:
  std::vector<SlowConn> conns_;
  std::chrono::steady_clock::time_point start_;
};

// Slow-loris heads: a request line and part of a header, then one more byte of that
// header per round, never the blank line that ends the head. Records when each ended.
class SlowHeads {
 public:
  SlowHeads(int port, int count) {
    for (int i = 0; i < count; ++i) {
      SlowConn c;
      c.fd = ConnectLoopback(port);
      EXPECT_GE(c.fd, 0);
      const std::string head = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      EXPECT_EQ(send(c.fd, head.data(), head.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(head.size()));
      fcntl(c.fd, F_SETFL, O_NONBLOCK);
      conns_.push_back(c);
    }
    start_ = std::chrono::steady_clock::now();
  }
  ~SlowHeads() {
    for (SlowConn& c : conns_) close(c.fd);
  }
  // One round: a byte to each connection still open; true if all have ended.
  bool Trickle() {
    bool all = true;
    for (SlowConn& c : conns_) {
      if (c.ended) continue;
      char buf[256];
      const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) c.reply.append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
          (send(c.fd, "a", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)) {
        c.ended = true;
        c.after = std::chrono::steady_clock::now() - start_;
        continue;
      }
      all = false;
    }
    return all;
  }
  const std::vector<SlowConn>& conns() const { return conns_; }

 private:
  std::vector<SlowConn> conns_;
  std::chrono::steady_clock::time_point start_;
};

// Resident memory of this process (server and test clients), from /proc/self/status.
size_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib << 10;
}

// CPU time this process has used, all threads, user and system.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

class ApiFloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto journal = journal::Journal::Open(testing::MakeTempDir("api-flood") + "/journal",
                                          journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    sequencer_ = std::make_unique<ctl::Sequencer>(journal_.get(), state::State{},
                                                  ctl::SequencerOptions{});
    telemetry_ = std::make_unique<ctl::Telemetry>();
  }
  static ApiServerOptions Options() {
    ApiServerOptions api;
    api.listen_port = 0;
    api.auth_token = kToken;
    api.controller_address = 0x949cb95e9dULL;
    api.controller_identity_public = "949cb95e9d:0:ff05";
    api.body_grace_seconds = kGraceSeconds;
    return api;
  }
  void StartServer(const ApiServerOptions& api) {
    auto server = ApiServer::Start(api, sequencer_.get(), telemetry_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    for (int fd : idle_) close(fd);
    if (server_) server_->Stop();
    server_.reset();
    sequencer_.reset();
  }
  // GET `path` on a fresh connection; the status (0: no answer) and how long it took.
  std::pair<int, double> TimedGet(const std::string& path, std::string* body = nullptr) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_connection_timeout(30, 0);
    client.set_read_timeout(30, 0);
    const auto start = std::chrono::steady_clock::now();
    auto r = client.Get(path.c_str(), httplib::Headers{{"X-ZT1-Auth", kToken}});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r && body != nullptr) *body = r->body;
    return {r ? r->status : 0, seconds};
  }
  // The value of an unlabelled series on /metrics, or -1.
  double Metric(const std::string& name) {
    std::string text;
    if (TimedGet("/metrics", &text).first != 200) return -1;
    const std::string key = "\n" + name + " ";
    size_t at = text.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + key.size()));
  }

  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  std::unique_ptr<ctl::Telemetry> telemetry_;
  std::unique_ptr<ApiServer> server_;
  std::vector<int> idle_;
};

TEST_F(ApiFloodTest, IdleSocketsAndSlowBodiesDoNotStarveARequest) {
  ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  constexpr int kIdle = 300, kSlow = 4;
  for (int i = 0; i < kIdle; ++i) {
    int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0) << "idle connection " << i;
    idle_.push_back(fd);
  }
  SlowBodies slow(server_->port(), kSlow);
  // Let the slow bodies reach their workers, then ask as a normal client would.
  ASSERT_FALSE(slow.RunUntilAllEnded(std::chrono::seconds(1)));
  auto [status, seconds] = TimedGet("/status");
  EXPECT_EQ(status, 200);
  EXPECT_LT(seconds, 1.0) << "a request waited behind idle or slow connections";

  ASSERT_TRUE(slow.RunUntilAllEnded(std::chrono::seconds(kGraceSeconds + 15)));
  for (const auto& c : slow.conns()) {
    // The 408 may be lost to the reset of a connection whose client is still sending.
    if (!c.reply.empty()) {
      EXPECT_EQ(c.reply.find("HTTP/1.1 408"), 0u) << c.reply;
    }
    EXPECT_LT(std::chrono::duration<double>(c.after).count(), kGraceSeconds + 12.0);
  }
  EXPECT_EQ(Metric("almanac_http_slow_bodies_total"), kSlow);
  EXPECT_EQ(Metric("almanac_http_connections_waited_total"), 0);
  // The idle sockets stay in the kernel (TCP_DEFER_ACCEPT): only the slow bodies and the
  // requests above were accepted.
  std::printf("connections accepted: %.0f (with %d idle sockets open)\n",
              Metric("almanac_http_connections_total"), kIdle);
}

TEST_F(ApiFloodTest, SlowBodiesOnEveryWorkerAreRefusedAndServiceReturns) {
  ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  const int slow_count = static_cast<int>(2 * kWorkerThreads);
  SlowBodies slow(server_->port(), slow_count);
  ASSERT_TRUE(slow.RunUntilAllEnded(std::chrono::seconds(4 * kGraceSeconds + 25)));
  for (const auto& c : slow.conns()) {
    if (!c.reply.empty()) {
      EXPECT_EQ(c.reply.find("HTTP/1.1 408"), 0u) << c.reply;
    }
  }
  auto [status, seconds] = TimedGet("/status");
  EXPECT_EQ(status, 200);
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(Metric("almanac_http_slow_bodies_total"), slow_count);
}

// A body declared larger than body_bytes_max gets 413 and is dropped at the body pace
// only (cpp-httplib's own 413 path reads it all to skip it, at whatever pace the client
// sends); one declared past kBodyDiscardBytesMax is not read at all.
void ExpectOversizedBodyEnds(int port, size_t declared, double seconds_max) {
  const int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  const std::string head = absl::StrCat(
      "POST /controller/network HTTP/1.1\r\nHost: 127.0.0.1\r\nX-ZT1-Auth: ", kToken,
      "\r\nContent-Type: application/json\r\nContent-Length: ", declared,
      "\r\n\r\n{");
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  fcntl(fd, F_SETFL, O_NONBLOCK);
  const auto start = std::chrono::steady_clock::now();
  std::string reply;
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() - start < std::chrono::seconds(15)) {
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
    ended = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
            (send(fd, " ", 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(ended);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            seconds_max)
      << declared << " bytes declared";
  // The 413 may be lost to the reset of a connection whose client is still sending.
  if (!reply.empty()) {
    EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  }
  close(fd);
}

TEST_F(ApiFloodTest, SlowOversizedBodiesAreRefusedAtTheBodyPace) {
  ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  ExpectOversizedBodyEnds(server_->port(), kBodyBytesMax + 1, kGraceSeconds + 3.0);
  ExpectOversizedBodyEnds(server_->port(), kBodyDiscardBytesMax + 1, 1.5);
  EXPECT_EQ(Metric("almanac_http_requests_total{endpoint=\"other\",method=\"POST\","
                   "status=\"413\"}"),
            2);
}

// 10,000 idle connections and slow-loris heads, with TCP_DEFER_ACCEPT off so that every
// idle socket reaches the lobby at once (the harder case; by default the kernel keeps
// them for kIdleAcceptDeferSeconds and caps them at its backlog). The lobby holds at most
// kLobbyConnectionsMax and evicts the longest-waiting; heads that never end are closed
// at the head deadline (shortened to 5 s); no worker is taken by any of them.
TEST_F(ApiFloodTest, TenThousandIdleConnectionsAndSlowHeadsDoNotStarveARequest) {
  constexpr int kIdleWanted = 10000, kSlowHeads = 50;
  constexpr double kHeadDeadlineSeconds = 5;
  // The test holds every client end as well as the server's lobby: raise the descriptor
  // limit to what the sandbox allows, and use fewer idle sockets if that is not enough.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  const int64_t spare = static_cast<int64_t>(std::min<rlim_t>(limit.rlim_cur, 1 << 30)) -
                        static_cast<int64_t>(kLobbyConnectionsMax) - kSlowHeads - 500;
  const int kIdle = static_cast<int>(std::min<int64_t>(kIdleWanted, spare));
  std::printf("RLIMIT_NOFILE %llu: %d idle connections\n",
              static_cast<unsigned long long>(limit.rlim_cur), kIdle);
  ASSERT_GE(kIdle, static_cast<int>(kLobbyConnectionsMax) + 1000);
  ApiServerOptions api = Options();
  api.idle_accept_defer_seconds = 0;
  api.head_deadline = absl::Seconds(kHeadDeadlineSeconds);
  ASSERT_NO_FATAL_FAILURE(StartServer(api));
  const size_t rss_before = ResidentBytes();

  for (int i = 0; i < kIdle; ++i) {
    const int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0) << "idle connection " << i << ": " << strerror(errno);
    idle_.push_back(fd);
  }
  SlowHeads slow(server_->port(), kSlowHeads);
  {
    auto [status, seconds] = TimedGet("/status");
    EXPECT_EQ(status, 200);
    EXPECT_LT(seconds, 1.0) << "a request waited behind idle connections";
  }
  const double lobby = Metric("almanac_http_lobby_connections");
  std::printf("lobby holds %.0f of %zu connections after %d idle ones and %d slow heads\n",
              lobby, kLobbyConnectionsMax, kIdle, kSlowHeads);
  EXPECT_GT(lobby, kSlowHeads);
  EXPECT_LE(lobby, kLobbyConnectionsMax);
  EXPECT_EQ(Metric("almanac_http_lobby_connections_max"), kLobbyConnectionsMax);
  // Every connection the lobby no longer holds was closed for room or at its deadline
  // (the requests above were served); with 10,000 in a few seconds, mostly for room.
  const double evicted = Metric("almanac_http_lobby_evicted_total");
  EXPECT_GT(evicted, 0);
  EXPECT_GE(evicted + Metric("almanac_http_header_timeouts_total"),
            kIdle + kSlowHeads - lobby);

  // Hold the flood while the heads trickle: the lobby thread waits in epoll, and nothing
  // spins; a request in the middle is still answered at once.
  const double cpu_start = CpuSeconds();
  const auto hold_start = std::chrono::steady_clock::now();
  bool all_ended = false;
  double worst_seconds = 0;
  while (!all_ended &&
         std::chrono::steady_clock::now() - hold_start < std::chrono::seconds(15)) {
    all_ended = slow.Trickle();
    if (std::chrono::steady_clock::now() - hold_start > std::chrono::seconds(2) &&
        worst_seconds == 0) {
      auto [status, seconds] = TimedGet("/status");
      EXPECT_EQ(status, 200);
      worst_seconds = std::max(seconds, 1e-9);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double hold_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - hold_start).count();
  const double cpu_seconds = CpuSeconds() - cpu_start;
  EXPECT_TRUE(all_ended) << "slow heads still open after 15 s";
  EXPECT_LT(worst_seconds, 1.0);
  for (const auto& c : slow.conns()) {
    // Closed without an answer, at the deadline (counted from accept, before the hold).
    EXPECT_EQ(c.reply, "");
    EXPECT_GT(std::chrono::duration<double>(c.after).count(), kHeadDeadlineSeconds - 1.5);
    EXPECT_LT(std::chrono::duration<double>(c.after).count(), kHeadDeadlineSeconds + 3.0);
  }
  const size_t rss_after = ResidentBytes();
  std::printf("held %.1f s: %.3f s of CPU; resident memory %.1f MiB -> %.1f MiB\n",
              hold_seconds, cpu_seconds, rss_before / 1048576.0, rss_after / 1048576.0);
  // Bounds: a spinning lobby would use a whole core (about hold_seconds); the lobby's
  // entries are about a hundred bytes each and heads stay in the kernel.
  EXPECT_LT(cpu_seconds, 0.25 * hold_seconds);
  EXPECT_LT(rss_after, rss_before + (size_t{32} << 20));
  EXPECT_GE(Metric("almanac_http_header_timeouts_total"), kSlowHeads);
  EXPECT_EQ(Metric("almanac_http_connections_waited_total"), 0)
      << "a head waited for a worker: something held the workers";
  EXPECT_GE(Metric("almanac_http_connections_total"), kIdle + kSlowHeads);
}

}  // namespace
}  // namespace almanac::api
