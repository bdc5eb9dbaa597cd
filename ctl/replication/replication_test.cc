// Goal: a standby copies its primary's journal exactly and answers nothing but reads; a
// standby with another identity, a frame altered or replayed on the wire, and garbage
// sent to the listener get nothing appended; sync mode holds an answer until the
// standby has the change, and its fallbacks do what they say; a former primary that
// comes back cuts (and saves) the tail the new primary never had. Method: real
// Controllers in temp homes, a real TCP listener, and a frame-aware TCP proxy.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/testing.h"
#include "ctl/controller.h"
#include "ctl/replication/channel.h"
#include "ctl/replication/primary.h"
#include "ctl/replication/protocol.h"
#include "ctl/replication/standby.h"
#include "gtest/gtest.h"

namespace almanac::replication {
namespace {

std::unique_ptr<ctl::Controller> Open(const std::string& home, bool standby) {
  ctl::ControllerOptions options;
  options.home = home;
  options.seal_interval_records = 0;
  options.seal_interval_seconds = 0;
  options.snapshot_interval_records = 0;
  if (standby) options.standby_reason = "this controller is a standby";
  absl::StatusOr<std::unique_ptr<ctl::Controller>> c = ctl::Controller::Open(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

// A new home holding a copy of `from`'s identity.
std::string HomeWithIdentityOf(const std::string& from) {
  const std::string home = testing::MakeTempDir("standby");
  for (const char* f : {"/identity.secret", "/identity.public"}) {
    std::filesystem::copy_file(from + f, home + f);
  }
  return home;
}

void Write(ctl::Controller& c, int n) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(c.SealNow().ok());
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

std::unique_ptr<ReplicationServer> Serve(ctl::Controller& c, PrimaryOptions options = {}) {
  absl::StatusOr<std::unique_ptr<ReplicationServer>> s =
      ReplicationServer::Start(options, c.journal(), c.sequencer(), &c.identity());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::unique_ptr<Follower> Follow(ctl::Controller& c, int port) {
  StandbyOptions options;
  options.primary = absl::StrCat("127.0.0.1:", port);
  return Follower::Start(options, c.journal(), c.sequencer(), &c.identity());
}

TEST(ReplicationTest, StandbyCopiesTheJournalAndRefusesWrites) {
  const std::string primary_home = testing::MakeTempDir("primary");
  std::unique_ptr<ctl::Controller> primary = Open(primary_home, false);
  ASSERT_NE(primary, nullptr);
  Write(*primary, 300);
  std::unique_ptr<ReplicationServer> server = Serve(*primary);
  std::unique_ptr<ctl::Controller> standby = Open(HomeWithIdentityOf(primary_home), true);
  ASSERT_NE(standby, nullptr);
  EXPECT_EQ(standby->journal()->last_seq(), 0u);  // no ControllerInitialized of its own
  std::unique_ptr<Follower> follower = Follow(*standby, server->port());
  Write(*primary, 200);  // while it catches up
  const uint64_t last = primary->journal()->last_seq();
  ASSERT_TRUE(WaitFor([&] { return standby->journal()->last_seq() == last; }));
  EXPECT_EQ(standby->journal()->last_hash(), primary->journal()->last_hash());
  EXPECT_EQ(standby->sequencer()->Read([](const state::State& s) { return s.chain_hash(); }),
            primary->journal()->last_hash());
  EXPECT_EQ(standby->SealNow().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(WaitFor([&] { return server->stats().acked_seq == last; }));
  EXPECT_EQ(server->stats().standbys, 1u);
  EXPECT_EQ(server->stats().lag_records, 0u);
  StandbyStats st = follower->stats();
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.lag_records, 0u);
  EXPECT_EQ(st.records_received, last);
}

TEST(ReplicationTest, StandbyWithAnotherIdentityIsRefusedAndGetsNothing) {
  std::unique_ptr<ctl::Controller> primary = Open(testing::MakeTempDir("primary"), false);
  ASSERT_NE(primary, nullptr);
  Write(*primary, 3);
  std::unique_ptr<ReplicationServer> server = Serve(*primary);
  std::unique_ptr<ctl::Controller> other = Open(testing::MakeTempDir("other"), true);
  ASSERT_NE(other, nullptr);
  std::unique_ptr<Follower> follower = Follow(*other, server->port());
  ASSERT_TRUE(WaitFor([&] { return server->stats().peers_refused >= 1; }));
  ASSERT_TRUE(WaitFor([&] { return !follower->stats().last_error.empty(); }));
  EXPECT_NE(follower->stats().last_error.find("does not hold this controller's identity"),
            std::string::npos)
      << follower->stats().last_error;
  follower->Stop();
  EXPECT_EQ(other->journal()->last_seq(), 0u);
  EXPECT_EQ(server->stats().standbys, 0u);
}

TEST(ReplicationTest, GarbageToTheListenerIsRefusedAndChangesNothing) {
  std::unique_ptr<ctl::Controller> primary = Open(testing::MakeTempDir("primary"), false);
  ASSERT_NE(primary, nullptr);
  Write(*primary, 3);
  const uint64_t last = primary->journal()->last_seq();
  std::unique_ptr<ReplicationServer> server = Serve(*primary);
  for (const std::string& junk :
       {std::string("GET / HTTP/1.0\r\n\r\n") + std::string(64, 'x'),
        std::string(kHelloMagic) + std::string(40, '\0') + std::string(100, '\x01')}) {
    absl::StatusOr<int> fd = ConnectTcp(absl::StrCat("127.0.0.1:", server->port()), 1000);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(WriteAll(*fd, junk).ok());
    // The server answers with its hello (and AUTH frame) at most, then closes.
    char buf[4096];
    size_t total = 0;
    for (;;) {
      pollfd p{*fd, POLLIN, 0};
      ASSERT_GT(::poll(&p, 1, 5000), 0) << "the server did not close the connection";
      const ssize_t n = ::recv(*fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
    EXPECT_LE(total, kHelloBytes + 4 + 1 + 16 + 16);
    ::close(*fd);
  }
  EXPECT_TRUE(WaitFor([&] { return server->stats().peers_refused >= 2; }));
  EXPECT_EQ(primary->journal()->last_seq(), last);
  EXPECT_EQ(server->stats().standbys, 0u);
}

// A TCP proxy between a standby and a primary that can tamper with the primary's frames.
class Proxy {
 public:
  enum class Mode { kAlterFirstAfterAuth, kReplayFirstAfterAuth };
  Proxy(int target_port, Mode mode) : target_port_(target_port), mode_(mode) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Proxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  int tampered() const { return tampered_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      absl::StatusOr<int> server = ConnectTcp(absl::StrCat("127.0.0.1:", target_port_), 1000);
      if (client < 0 || !server.ok()) continue;
      std::thread up([client, s = *server, this] {  // standby -> primary, untouched
        char buf[65536];
        for (;;) {
          pollfd p{client, POLLIN, 0};
          if (::poll(&p, 1, 100) == 0) {
            if (stop_) break;
            continue;
          }
          const ssize_t n = ::recv(client, buf, sizeof(buf), 0);
          if (n <= 0 || !WriteAll(s, std::string_view(buf, n)).ok()) break;
        }
        ::shutdown(s, SHUT_RDWR);
      });
      // primary -> standby: hello, then frames; frame 0 is AUTH, frame 1 is tampered.
      absl::StatusOr<std::string> hello = ReadExactly(*server, kHelloBytes, 5000);
      if (hello.ok() && WriteAll(client, *hello).ok()) {
        for (int index = 0; !stop_; ++index) {
          absl::StatusOr<std::string> header = ReadExactly(*server, 4, 10000);
          if (!header.ok()) break;
          absl::StatusOr<uint32_t> n = FrameLength(*header);
          if (!n.ok()) break;
          absl::StatusOr<std::string> body = ReadExactly(*server, *n, 5000);
          if (!body.ok()) break;
          std::string frame = *header + *body;
          if (index == 1 && mode_ == Mode::kAlterFirstAfterAuth) {
            frame[frame.size() / 2] ^= 0x20;
            ++tampered_;
          }
          if (!WriteAll(client, frame).ok()) break;
          if (index == 1 && mode_ == Mode::kReplayFirstAfterAuth) {
            ++tampered_;
            if (!WriteAll(client, frame).ok()) break;
          }
        }
      }
      ::shutdown(client, SHUT_RDWR);
      ::shutdown(*server, SHUT_RDWR);
      up.join();
      ::close(client);
      ::close(*server);
    }
  }

  int target_port_;
  Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> tampered_{0};
  std::thread thread_;
};

TEST(ReplicationTest, AlteredFramesAreRefusedAndNothingIsAppended) {
  const std::string primary_home = testing::MakeTempDir("primary");
  std::unique_ptr<ctl::Controller> primary = Open(primary_home, false);
  ASSERT_NE(primary, nullptr);
  Write(*primary, 20);
  std::unique_ptr<ReplicationServer> server = Serve(*primary);
  Proxy proxy(server->port(), Proxy::Mode::kAlterFirstAfterAuth);
  std::unique_ptr<ctl::Controller> standby = Open(HomeWithIdentityOf(primary_home), true);
  ASSERT_NE(standby, nullptr);
  std::unique_ptr<Follower> follower = Follow(*standby, proxy.port());
  ASSERT_TRUE(WaitFor([&] { return proxy.tampered() >= 2; }));  // refused, reconnected
  follower->Stop();
  EXPECT_NE(follower->stats().last_error.find("does not authenticate"), std::string::npos)
      << follower->stats().last_error;
  EXPECT_EQ(standby->journal()->last_seq(), 0u);
}

TEST(ReplicationTest, ReplayedFramesAreRefusedAndNothingIsAppendedTwice) {
  const std::string primary_home = testing::MakeTempDir("primary");
  std::unique_ptr<ctl::Controller> primary = Open(primary_home, false);
  ASSERT_NE(primary, nullptr);
  Write(*primary, 20);
  std::unique_ptr<ReplicationServer> server = Serve(*primary);
  Proxy proxy(server->port(), Proxy::Mode::kReplayFirstAfterAuth);
  std::unique_ptr<ctl::Controller> standby = Open(HomeWithIdentityOf(primary_home), true);
  ASSERT_NE(standby, nullptr);
  std::unique_ptr<Follower> follower = Follow(*standby, proxy.port());
  const uint64_t last = primary->journal()->last_seq();
  ASSERT_TRUE(WaitFor([&] { return standby->journal()->last_seq() == last; }));
  ASSERT_TRUE(WaitFor([&] { return !follower->stats().last_error.empty(); }));
  follower->Stop();
  EXPECT_NE(follower->stats().last_error.find("does not authenticate"), std::string::npos)
      << follower->stats().last_error;
  // Every record once, the same chain: the replayed copy was never appended.
  EXPECT_EQ(standby->journal()->last_seq(), last);
  EXPECT_EQ(standby->journal()->last_hash(), primary->journal()->last_hash());
  EXPECT_EQ(follower->stats().records_received, last);
}

TEST(ReplicationTest, SyncModeAnswersOnlyWhenTheStandbyHasTheChange) {
  const std::string primary_home = testing::MakeTempDir("primary");
  std::unique_ptr<ctl::Controller> primary = Open(primary_home, false);
  ASSERT_NE(primary, nullptr);
  PrimaryOptions options;
  options.sync = true;
  options.sync_timeout_ms = 300;
  options.sync_fallback = SyncFallback::kRefuse;
  std::unique_ptr<ReplicationServer> server = Serve(*primary, options);
  ReplicationServer* raw = server.get();
  primary->sequencer()->SetCommitGate([raw](uint64_t seq) { return raw->WaitDurable(seq); });
  // No standby: refused after the bounded wait, though durable on the primary.
  const uint64_t before = primary->journal()->last_seq();
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(primary->SealNow().code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(250));
  EXPECT_EQ(primary->journal()->last_seq(), before + 1);
  EXPECT_EQ(server->stats().sync_refusals, 1u);

  std::unique_ptr<ctl::Controller> standby = Open(HomeWithIdentityOf(primary_home), true);
  ASSERT_NE(standby, nullptr);
  std::unique_ptr<Follower> follower = Follow(*standby, server->port());
  ASSERT_TRUE(WaitFor([&] { return server->stats().acked_seq == before + 1; }));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(primary->SealNow().ok());
    // Answered only once the standby has it durably.
    EXPECT_EQ(standby->journal()->last_seq(), primary->journal()->last_seq());
  }
  follower->Stop();
  EXPECT_EQ(primary->SealNow().code(), absl::StatusCode::kUnavailable);
}

TEST(ReplicationTest, SyncModeFallsBackToAsyncLoudlyAndRecovers) {
  const std::string primary_home = testing::MakeTempDir("primary");
  std::unique_ptr<ctl::Controller> primary = Open(primary_home, false);
  ASSERT_NE(primary, nullptr);
  PrimaryOptions options;
  options.sync = true;
  options.sync_timeout_ms = 200;
  options.sync_fallback = SyncFallback::kAsync;
  std::vector<std::string> lines;
  absl::Mutex lines_mu;
  options.log = [&](const std::string& line) {
    absl::MutexLock lock(&lines_mu);
    lines.push_back(line);
  };
  std::unique_ptr<ReplicationServer> server = Serve(*primary, options);
  ReplicationServer* raw = server.get();
  primary->sequencer()->SetCommitGate([raw](uint64_t seq) { return raw->WaitDurable(seq); });
  ASSERT_TRUE(primary->SealNow().ok());
  EXPECT_TRUE(server->stats().sync_degraded);
  EXPECT_EQ(server->stats().sync_fallbacks, 1u);
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(primary->SealNow().ok());  // degraded: no second wait
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(150));
  {
    absl::MutexLock lock(&lines_mu);
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.back().find("SYNC STANDBY LOST"), std::string::npos) << lines.back();
  }
  std::unique_ptr<ctl::Controller> standby = Open(HomeWithIdentityOf(primary_home), true);
  ASSERT_NE(standby, nullptr);
  std::unique_ptr<Follower> follower = Follow(*standby, server->port());
  ASSERT_TRUE(WaitFor([&] { return !server->stats().sync_degraded; }));
  ASSERT_TRUE(primary->SealNow().ok());
  EXPECT_EQ(standby->journal()->last_seq(), primary->journal()->last_seq());
  follower->Stop();
}

TEST(ReplicationTest, PromotionAndAFormerPrimaryRejoiningCutsItsTail) {
  const std::string a_home = testing::MakeTempDir("a");
  std::unique_ptr<ctl::Controller> a = Open(a_home, false);
  ASSERT_NE(a, nullptr);
  const std::string b_home = HomeWithIdentityOf(a_home);
  Write(*a, 10);
  const uint64_t common = a->journal()->last_seq();
  std::unique_ptr<ReplicationServer> a_server = Serve(*a);
  std::unique_ptr<ctl::Controller> b = Open(b_home, true);
  ASSERT_NE(b, nullptr);
  std::unique_ptr<Follower> b_follower = Follow(*b, a_server->port());
  ASSERT_TRUE(WaitFor([&] { return b->journal()->last_seq() == common; }));
  b_follower->Stop();
  Write(*a, 5);  // the tail b never gets
  a_server.reset();
  a.reset();

  absl::StatusOr<uint64_t> epoch = Promote(b_follower.get(), b->sequencer());
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  EXPECT_EQ(*epoch, 2u);
  EXPECT_EQ(Promote(nullptr, b->sequencer()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Write(*b, 2);
  EXPECT_EQ(b->journal()->last_seq(), common + 3);
  std::unique_ptr<ReplicationServer> b_server = Serve(*b);

  StandbyOptions options;
  options.primary = absl::StrCat("127.0.0.1:", b_server->port());
  absl::StatusOr<zt::Identity> identity = zt::Identity::FromSecretFile(a_home + "/identity.secret");
  ASSERT_TRUE(identity.ok());
  absl::StatusOr<ReconcileReport> report = Reconcile(options, ctl::HomePaths(a_home), *identity);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->kept_seq, common);
  EXPECT_EQ(report->cut_records, 5u);
  ASSERT_FALSE(report->cut_file.empty());
  std::ifstream cut(report->cut_file, std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(cut)), {});
  size_t at = 0;
  int records = 0;
  while (at + 4 <= saved.size()) {
    const uint32_t n = (uint8_t(saved[at]) << 24) | (uint8_t(saved[at + 1]) << 16) |
                       (uint8_t(saved[at + 2]) << 8) | uint8_t(saved[at + 3]);
    at += 4 + n;
    ++records;
  }
  EXPECT_EQ(at, saved.size());
  EXPECT_EQ(records, 5);

  a = Open(a_home, true);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->journal()->last_seq(), common);
  std::unique_ptr<Follower> a_follower = Follow(*a, b_server->port());
  // The journal holds the copied records a moment before the sequencer has applied them
  // and taken up their epoch: wait for both.
  ASSERT_TRUE(WaitFor([&] {
    return a->journal()->last_seq() == b->journal()->last_seq() && a->sequencer()->epoch() == 2u;
  })) << "epoch " << a->sequencer()->epoch();
  EXPECT_EQ(a->journal()->last_hash(), b->journal()->last_hash());
  EXPECT_EQ(a->SealNow().code(), absl::StatusCode::kUnavailable);
  // Reconciling again finds nothing to cut.
  a_follower->Stop();
}

TEST(ReplicationTest, APrimaryThatMeetsAHigherEpochFencesItself) {
  const std::string a_home = testing::MakeTempDir("a");
  std::unique_ptr<ctl::Controller> a = Open(a_home, false);
  ASSERT_NE(a, nullptr);
  Write(*a, 3);
  std::unique_ptr<ReplicationServer> a_server = Serve(*a);
  std::unique_ptr<ctl::Controller> b = Open(HomeWithIdentityOf(a_home), true);
  ASSERT_NE(b, nullptr);
  std::unique_ptr<Follower> b_follower = Follow(*b, a_server->port());
  ASSERT_TRUE(WaitFor([&] { return b->journal()->last_seq() == a->journal()->last_seq(); }));
  // Promoted while a still runs (a partition, say): b is at epoch 2.
  ASSERT_TRUE(Promote(b_follower.get(), b->sequencer()).ok());
  // b (or any controller at epoch 2) reaches a: a stops taking changes.
  std::unique_ptr<Follower> probe = Follow(*b, a_server->port());
  ASSERT_TRUE(WaitFor([&] { return a_server->stats().fenced; }));
  // a fences itself when it reads the probe's epoch, which can be before the probe has
  // recorded why it will not follow a: wait for that too (stopping first loses it).
  EXPECT_TRUE(WaitFor([&] {
    return probe->stats().last_error.find("former primary") != std::string::npos;
  })) << probe->stats().last_error;
  probe->Stop();
  EXPECT_TRUE(a->sequencer()->read_only());
  EXPECT_EQ(a->SealNow().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace almanac::replication
