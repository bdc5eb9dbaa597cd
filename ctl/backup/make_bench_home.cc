// make-bench-home: fills a new controller home with about N journal records the way
// almanacd writes them (one network, members created and authorized through the
// sequencer in commands of kMembersPerCommand members, seals every 1000 records), then
// writes a snapshot. The input for timing `almanac-replay verify`, backups and restores
// at scale.
//
// Usage: make-bench-home <new home> [records, default 1000000]
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/commands/member_commands.h"
#include "ctl/commands/network_commands.h"
#include "ctl/controller.h"

namespace {

// Members per sequencer command: each gives a few records, and one command's records
// must fit one journal batch (journal/limits.h kBatchRecordsMax = 1024).
constexpr size_t kMembersPerCommand = 250;
constexpr uint64_t kFirstMember = 0x0100000000ull;

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "make-bench-home: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace almanac;  // NOLINT: a small tool
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: make-bench-home <new home> [records]\n");
    return 2;
  }
  uint64_t records = 1000000;
  if (argc == 3 && (!absl::SimpleAtoi(argv[2], &records) || records == 0)) {
    std::fprintf(stderr, "make-bench-home: records must be a positive number\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  ctl::ControllerOptions options;
  options.home = argv[1];
  options.snapshot_interval_records = 0;
  options.seal_interval_records = 1000;
  options.seal_interval_seconds = 0;
  absl::StatusOr<std::unique_ptr<ctl::Controller>> c = ctl::Controller::Open(options);
  if (!c.ok()) return Fail("open", c.status());
  ctl::Sequencer* sequencer = (*c)->sequencer();
  const ctl::Actor actor{schema::ActorKind::AdminToken, "bench", "make-bench-home"};

  api::NetworkPatch network;
  network.name = "bench";
  auto created = std::make_shared<commands::NetworkOutcome>();
  if (absl::StatusOr<ctl::CommitResult> r = sequencer->Submit(commands::CreateNetworkCommand(
          actor, (*c)->identity().address(), api::MakeNetworkEdit(network), created));
      !r.ok()) {
    return Fail("create network", r.status());
  }
  const uint64_t nwid = created->nwid;
  size_t member = 0;
  while ((*c)->journal()->last_seq() < records) {
    auto puts = std::make_shared<std::vector<ctl::Command>>();
    ctl::Command batch;
    batch.actor = actor;
    batch.reads.push_back(ctl::ObjectKey::Network(nwid));
    for (size_t i = 0; i < kMembersPerCommand; ++i, ++member) {
      api::MemberPatch patch;
      patch.name = absl::StrCat("member-", member);
      patch.authorized = true;
      puts->push_back(commands::PutMemberCommand(
          actor, nwid, kFirstMember + member, api::MakeMemberEdit(std::move(patch)),
          /*sets_ip_assignments=*/false, std::make_shared<commands::MemberOutcome>()));
      batch.writes.push_back(ctl::ObjectKey::Member(nwid, kFirstMember + member));
    }
    batch.decide = [puts](const state::State& s, ctl::CommandContext& ctx) {
      for (ctl::Command& command : *puts) {
        if (absl::Status st = command.decide(s, ctx); !st.ok()) return st;
      }
      return absl::OkStatus();
    };
    if (absl::StatusOr<ctl::CommitResult> r = sequencer->Submit(std::move(batch)); !r.ok()) {
      return Fail("create members", r.status());
    }
  }
  // Let the seal thread seal what it counted, then snapshot (verify compares against it).
  if (absl::Status s = (*c)->SealNow(); !s.ok()) return Fail("seal", s);
  absl::StatusOr<std::string> snapshot = (*c)->WriteSnapshotNow();
  if (!snapshot.ok()) return Fail("snapshot", snapshot.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("make-bench-home: %s: %llu records, %zu members, %llu seals, snapshot %s, "
              "%.1f s\n",
              argv[1], static_cast<unsigned long long>((*c)->journal()->last_seq()), member,
              static_cast<unsigned long long>((*c)->seals_written()), snapshot->c_str(),
              seconds);
  return 0;
}
