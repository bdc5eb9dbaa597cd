// Goal: no acknowledged append is ever lost, the chain stays intact, and the state a
// restart builds (newest snapshot + journal tail) equals a full replay, across crashes.
// Method: run //tests:journal_writer (16 appending threads, one stdout line per durable
// record, and a follower writing snapshots as almanacd does) against one journal
// directory, SIGKILL it at a seeded random moment, reopen the journal (which verifies the
// whole chain) and check that every acknowledged record is there, under its seq, with the
// actor id the writer printed; then replay the journal from seq 1 through the projector
// and compare, serialized byte for byte, with the newest snapshot at its seq and with the
// snapshot plus the tail at the end. Repeat kRounds times.
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
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "journal/journal.h"
#include "journal/limits.h"

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

Child StartWriter(const std::string& dir, const std::string& snapshot_dir) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const std::string path = WriterPath();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(path.c_str(), path.c_str(), dir.c_str(), snapshot_dir.c_str(), "16",
          static_cast<char*>(nullptr));
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

// Applies records state->last_seq() + 1 .. min(to_seq, journal.last_seq()) to *state.
void ReplayInto(const Journal& journal, uint64_t to_seq, state::State* state) {
  to_seq = std::min(to_seq, journal.last_seq());
  while (state->last_seq() < to_seq) {
    const uint64_t from = state->last_seq() + 1;
    absl::StatusOr<std::vector<StoredRecord>> records =
        journal.Read(from, std::min<uint64_t>(kReadRecordsMax, to_seq - from + 1));
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_FALSE(records->empty());
    for (const StoredRecord& r : *records) {
      absl::Status s = state::Apply(*state, *schema::GetRecord(r.bytes.data()), r.chain_hash);
      ASSERT_TRUE(s.ok()) << "seq " << r.seq << ": " << s;
    }
  }
}

// The restart's state equals a full replay: the newest snapshot equals the replay up to
// its seq (same chain hash, same bytes), and snapshot + tail equals the replay of every
// record. *full is the replay from seq 1 so far, kept across rounds (records before it
// are unchanged: the chain, verified on every open, would break); a snapshot older than
// it is compared only through snapshot + tail. Returns whether a snapshot was compared.
bool CheckStateEqualsFullReplay(const std::string& dir, const std::string& snapshot_dir,
                                state::State* full) {
  absl::StatusOr<state::LoadedSnapshot> loaded = state::LoadNewestSnapshot(snapshot_dir);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return false;
  // The writer's snapshots are written to a temp file and renamed: a kill never leaves a
  // torn file under a final name.
  EXPECT_TRUE(loaded->skipped.empty()) << loaded->skipped.front();
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, {});
  EXPECT_TRUE(journal.ok()) << journal.status();
  if (!journal.ok()) return false;
  const Journal& j = **journal;
  const uint64_t snapshot_seq = loaded->state.has_value() ? loaded->state->last_seq() : 0;
  EXPECT_LE(snapshot_seq, j.last_seq()) << "snapshot of records that are not in the journal";
  if (snapshot_seq > j.last_seq()) return false;
  if (loaded->state.has_value() && snapshot_seq >= full->last_seq()) {
    ReplayInto(j, snapshot_seq, full);
    EXPECT_EQ(loaded->state->chain_hash(), full->chain_hash()) << "at seq " << snapshot_seq;
    EXPECT_TRUE(state::SerializeState(*loaded->state) == state::SerializeState(*full))
        << "snapshot at seq " << snapshot_seq << " differs from the replay up to it";
  }
  ReplayInto(j, j.last_seq(), full);
  EXPECT_EQ(full->last_seq(), j.last_seq());
  if (!loaded->state.has_value()) return false;
  state::State restarted = std::move(*loaded->state);
  ReplayInto(j, j.last_seq(), &restarted);
  EXPECT_EQ(restarted.last_seq(), j.last_seq());
  EXPECT_TRUE(state::SerializeState(restarted) == state::SerializeState(*full))
      << "snapshot at seq " << snapshot_seq << " + tail differs from the full replay";
  return true;
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
  const std::string base = testing::MakeTempDir("crash");
  const std::string dir = base + "/journal";
  const std::string snapshot_dir = base + "/snapshots";
  int compared_with_snapshot = 0;
  state::State full;  // the replay from seq 1, advanced every round
  std::map<uint64_t, std::string> acked;
  int killed_mid_write = 0;
  for (int round = 0; round < kRounds; ++round) {
    Child child = StartWriter(dir, snapshot_dir);
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
    compared_with_snapshot += CheckStateEqualsFullReplay(dir, snapshot_dir, &full);
    if (HasFailure()) return;
  }
  std::printf("%d rounds, %d killed mid-write, %zu acknowledged records all present, "
              "%d restarts from a snapshot equal to the full replay\n",
              kRounds, killed_mid_write, acked.size(), compared_with_snapshot);
  EXPECT_GE(killed_mid_write, kRounds / 2);
  // The writer snapshots every 200 records from its start, so all but the first rounds
  // have one; a few is enough to show the comparison ran.
  EXPECT_GE(compared_with_snapshot, 3);
}

}  // namespace
}  // namespace almanac::journal
