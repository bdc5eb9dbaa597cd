// Goal: no acknowledged append is ever lost and the chain stays intact across crashes.
// Method: run //tests:journal_writer (16 appending threads, one stdout line per durable
// record) against one journal directory, SIGKILL it at a seeded random moment, reopen
// the journal (which verifies the whole chain) and check that every acknowledged record
// is there, under its seq, with the actor id the writer printed. Repeat kRounds times.
// Reproduce a failure with ALMANAC_CRASH_SEED=<printed seed>.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/journal.h"

namespace almanac::journal {
namespace {

constexpr int kRounds = 24;

std::string WriterPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir ? srcdir : ".") + "/" + (workspace ? workspace : "almanac") +
         "/tests/journal_writer";
}

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child StartWriter(const std::string& dir) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const std::string path = WriterPath();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(path.c_str(), path.c_str(), dir.c_str(), "16", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  return Child{pid, fds[0]};
}

// Reads what is available within `wait_ms` (all of it until EOF when wait_ms < 0) and
// moves complete lines into acked. Returns false at EOF.
bool Drain(int fd, int wait_ms, std::string* pending, std::map<uint64_t, std::string>* acked) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    int timeout = -1;
    if (wait_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      timeout = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout) <= 0) continue;
    char buf[65536];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
    size_t end;
    while ((end = pending->find('\n')) != std::string::npos) {
      const std::string line = pending->substr(0, end);
      pending->erase(0, end + 1);
      std::pair<std::string, std::string> parts = absl::StrSplit(line, ' ');
      uint64_t seq = 0;
      EXPECT_TRUE(absl::SimpleAtoi(parts.first, &seq)) << line;
      EXPECT_TRUE(acked->emplace(seq, parts.second).second) << "seq acked twice: " << line;
    }
  }
}

// Reopens the journal (Open verifies the whole chain) and checks the records acked at or
// after seq `from`; earlier rounds checked the earlier ones, and the chain, verified on
// every open, would break if any of them changed.
void CheckAcked(const std::string& dir, const std::map<uint64_t, std::string>& acked,
                uint64_t from) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, {});
  ASSERT_TRUE(journal.ok()) << journal.status();
  const uint64_t last = (*journal)->last_seq();
  if (!acked.empty()) {
    ASSERT_GE(last, acked.rbegin()->first);
  }
  auto next = acked.lower_bound(from);
  for (from = std::max<uint64_t>(from, 1); from <= last && next != acked.end();) {
    absl::StatusOr<std::vector<StoredRecord>> records = (*journal)->Read(from, 4096);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_FALSE(records->empty());
    for (const StoredRecord& r : *records) {
      ASSERT_EQ(r.seq, from++);
      if (next != acked.end() && next->first == r.seq) {
        const schema::Record* record = schema::GetRecord(r.bytes.data());
        ASSERT_EQ(record->actor()->id()->str(), next->second) << "seq " << r.seq;
        ++next;
      }
    }
  }
  EXPECT_EQ(next, acked.end());
}

TEST(JournalCrashTest, AcknowledgedRecordsSurviveSigkill) {
  uint64_t seed = static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  if (const char* env = std::getenv("ALMANAC_CRASH_SEED")) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed));
  }
  std::printf("journal_crash_test seed: %llu (rerun with ALMANAC_CRASH_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string dir = testing::MakeTempDir("crash") + "/journal";
  std::map<uint64_t, std::string> acked;
  int killed_mid_write = 0;
  for (int round = 0; round < kRounds; ++round) {
    Child child = StartWriter(dir);
    ASSERT_GT(child.pid, 0);
    std::string pending;
    const size_t acked_before = acked.size();
    const uint64_t check_from = acked.empty() ? 1 : acked.rbegin()->first + 1;
    // Most rounds kill while appends are flowing (after the first ack); every fourth
    // kills at a random moment from the start, which may be during open or recovery.
    if (rng() % 4 != 0) {
      while (acked.size() == acked_before && Drain(child.out_fd, 1000, &pending, &acked)) {
      }
    }
    ASSERT_TRUE(Drain(child.out_fd, static_cast<int>(rng() % 40), &pending, &acked))
        << "journal_writer exited early in round " << round;
    ASSERT_EQ(kill(child.pid, SIGKILL), 0);
    // Lines already in the pipe were printed before the kill: they are acknowledged.
    Drain(child.out_fd, -1, &pending, &acked);
    close(child.out_fd);
    int status = 0;
    ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "journal_writer did not die by SIGKILL in round " << round << " (status "
        << status << ")";
    killed_mid_write += acked.size() > acked_before;
    CheckAcked(dir, acked, check_from);
    if (HasFatalFailure()) return;
  }
  std::printf("%d rounds, %d killed mid-write, %zu acknowledged records all present\n",
              kRounds, killed_mid_write, acked.size());
  EXPECT_GE(killed_mid_write, kRounds / 2);
}

}  // namespace
}  // namespace almanac::journal
