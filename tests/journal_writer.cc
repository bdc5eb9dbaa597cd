// journal_writer: appends records to a journal from many threads until killed, printing
// "<seq> <actor id>" on stdout (one line, flushed) for each acknowledged append, while a
// follower thread projects the journal into a State and writes a snapshot file every
// kSnapshotEveryRecords records, as almanacd does. Used by journal_crash_test, which
// SIGKILLs it and checks that every printed record survived and that the newest snapshot
// plus the journal's tail gives the state of a full replay.
//
// The records are real events the projector applies in any interleaving: on an empty
// journal one batch creates a network and kMembers members; then thread t authorizes,
// deauthorizes, assigns and releases IPs of member t, so every record changes the state
// (revisions, times, IP lists) and a lost or doubly applied record would show.
//
// The journal keeps zeroed log spares (journal/zeroed_log.h) as almanacd's does, but of
// kZeroedLogBytes, so a run's log both overwrites zeros and grows past them, and a kill
// can land while a spare is being prepared.
//
// Usage: journal_writer <journal dir> <snapshot dir> [threads]   (default 16, max kMembers)
// Exit: never on its own unless something fails (2: open failed, 3: append failed,
// 4: the follower could not read, apply or snapshot).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "journal/journal.h"
#include "journal/limits.h"
#include "journal/record.h"
#include "schemas/events_generated.h"

namespace {

using almanac::journal::Journal;
using almanac::journal::JournalOptions;
namespace schema = almanac::schema;

constexpr uint64_t kNetwork = 0x8056c2e21c000001ULL;
constexpr uint64_t kFirstMember = 0x1000000000ULL;
// Members created on an empty journal; one per appending thread.
constexpr int kMembers = 64;
// Small, so that nearly every run (some only tens of milliseconds long) writes one, and
// some are killed while writing it.
constexpr uint64_t kSnapshotEveryRecords = 200;
// About 1,000 records' worth: far below almanacd's, see the top.
constexpr size_t kZeroedLogBytes = size_t{256} << 10;

std::string Draft(uint64_t n, const std::string& actor, schema::Body type,
                  const std::function<flatbuffers::Offset<void>(
                      flatbuffers::FlatBufferBuilder&)>& body) {
  return almanac::journal::BuildRecordDraft(1700000000000 + static_cast<int64_t>(n),
                                            /*epoch=*/1, schema::ActorKind::AdminToken,
                                            actor, "127.0.0.1:53412", type, body);
}

// The i-th change of member t: authorize, deauthorize, assign an IP, release the IP
// assigned three rounds earlier (so each member holds a few).
std::string Change(int t, uint64_t i, const std::string& actor) {
  const uint64_t address = kFirstMember + static_cast<uint64_t>(t);
  auto ip = [t](uint64_t round) {
    return absl::StrCat("10.", t, ".", (round / 250) % 250, ".", round % 250 + 1);
  };
  using Builder = flatbuffers::FlatBufferBuilder;
  switch (i % 4) {
    case 0:
      return Draft(i, actor, schema::Body::MemberAuthorized, [&](Builder& b) {
        return schema::CreateMemberAuthorizedDirect(b, kNetwork, address, "api").Union();
      });
    case 1:
      return Draft(i, actor, schema::Body::MemberDeauthorized, [&](Builder& b) {
        return schema::CreateMemberDeauthorized(b, kNetwork, address).Union();
      });
    case 2:
      return Draft(i, actor, schema::Body::IpAssigned, [&](Builder& b) {
        return schema::CreateIpAssignedDirect(b, kNetwork, address, ip(i / 4).c_str()).Union();
      });
    default:
      return Draft(i, actor, schema::Body::IpReleased, [&](Builder& b) {
        const std::string old = ip(i / 4 >= 3 ? i / 4 - 3 : 0);
        return schema::CreateIpReleasedDirect(b, kNetwork, address, old.c_str()).Union();
      });
  }
}

[[noreturn]] void Die(int code, const std::string& what) {
  std::fprintf(stderr, "journal_writer: %s\n", what.c_str());
  std::_Exit(code);
}

// Creates the network and its members in one atomic batch when the journal is empty.
void Initialize(Journal& journal) {
  if (journal.last_seq() != 0) return;
  std::vector<std::string> drafts;
  drafts.push_back(Draft(0, "init", schema::Body::NetworkCreated,
                         [](flatbuffers::FlatBufferBuilder& b) {
                           return schema::CreateNetworkCreated(b, kNetwork).Union();
                         }));
  for (int t = 0; t < kMembers; ++t) {
    drafts.push_back(Draft(0, "init", schema::Body::MemberCreated,
                           [t](flatbuffers::FlatBufferBuilder& b) {
                             return schema::CreateMemberCreated(b, kNetwork,
                                                                kFirstMember + t)
                                 .Union();
                           }));
  }
  absl::StatusOr<uint64_t> seq = journal.AppendBatch(std::move(drafts));
  if (!seq.ok()) Die(3, seq.status().ToString());
}

// Follows the journal like almanacd's sequencer + snapshot thread: starts from the
// newest snapshot, applies every durable record, and writes a snapshot every
// kSnapshotEveryRecords records. Runs until the process is killed.
void FollowAndSnapshot(const Journal& journal, const std::string& snapshot_dir) {
  absl::StatusOr<almanac::state::LoadedSnapshot> loaded =
      almanac::state::LoadNewestSnapshot(snapshot_dir);
  if (!loaded.ok()) Die(4, loaded.status().ToString());
  almanac::state::State state;
  if (loaded->state.has_value()) state = std::move(*loaded->state);
  uint64_t snapshot_seq = state.last_seq();
  for (;;) {
    if (!journal.WaitForAfter(state.last_seq(), absl::Milliseconds(100))) continue;
    absl::StatusOr<std::vector<almanac::journal::StoredRecord>> records =
        journal.Read(state.last_seq() + 1, almanac::journal::kReadRecordsMax);
    if (!records.ok()) Die(4, records.status().ToString());
    for (const almanac::journal::StoredRecord& r : *records) {
      absl::Status s = almanac::state::Apply(state, *schema::GetRecord(r.bytes.data()),
                                             r.chain_hash);
      if (!s.ok()) Die(4, s.ToString());
    }
    if (state.last_seq() - snapshot_seq >= kSnapshotEveryRecords) {
      absl::StatusOr<std::string> path =
          almanac::state::WriteSnapshotFile(snapshot_dir, state);
      if (!path.ok()) Die(4, path.status().ToString());
      snapshot_seq = state.last_seq();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <journal dir> <snapshot dir> [threads]\n", argv[0]);
    return 1;
  }
  const int threads_count = argc > 3 ? std::atoi(argv[3]) : 16;
  if (threads_count < 1 || threads_count > kMembers) {
    std::fprintf(stderr, "journal_writer: threads must be 1..%d\n", kMembers);
    return 1;
  }
  const std::string snapshot_dir = argv[2];
  std::error_code ec;
  std::filesystem::create_directories(snapshot_dir, ec);
  if (ec) Die(2, snapshot_dir + ": " + ec.message());
  JournalOptions options;
  options.zeroed_log_bytes = kZeroedLogBytes;
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(argv[1], options);
  if (!journal.ok()) Die(2, journal.status().ToString());
  Initialize(**journal);
  std::thread follower([&] { FollowAndSnapshot(**journal, snapshot_dir); });
  const std::string run = std::to_string(getpid());
  absl::Mutex stdout_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        const std::string id = run + "-" + std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<uint64_t> seq = (*journal)->Append(Change(t, i, id));
        if (!seq.ok()) Die(3, seq.status().ToString());
        // Printed only after Append returned: every line names a durable record.
        absl::MutexLock lock(&stdout_mu);
        std::printf("%llu %s\n", static_cast<unsigned long long>(*seq), id.c_str());
        std::fflush(stdout);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  follower.join();
  return 0;
}
