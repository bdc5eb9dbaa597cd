#include "tools/cli/import_zerotier.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ctl/controller.h"
#include "ctl/home.h"
#include "ctl/zt/identity.h"
#include "tools/cli/cli_args.h"
#include "tools/cli/import_events.h"
#include "tools/cli/limits.h"
#include "tools/cli/zerotier_dir.h"

namespace almanac::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    "Usage: almanac import-zerotier <controller.d> [--home DIR] [--identity FILE] [--force]\n"
    "\n"
    "Imports a ZeroTier controller's networks and members (controller.d/network/*.json and\n"
    "controller.d/network/<nwid>/member/*.json) into the Almanac home DIR (default\n"
    "./var/almanac) as journal events, keeping network ids, member identities,\n"
    "authorizations and IP assignments. almanacd must not be running on DIR.\n"
    "\n"
    "  --identity FILE  the ZeroTier controller's identity.secret (e.g.\n"
    "                   /var/lib/zerotier-one/identity.secret). Members know the controller\n"
    "                   by its address, so the home takes this identity. Needed unless the\n"
    "                   home already has it.\n"
    "  --force          import into a journal that already holds events (networks that\n"
    "                   already exist are refused)\n"
    "\n"
    "Bad files are reported with their path and reason and left out.\n"
    "Exit codes: 0 all imported, 1 refused or some files rejected, 2 usage error.\n";

int Refuse(const std::string& message, std::ostream& err) {
  err << "almanac: " << message << "\n";
  return kExitRefused;
}

// Step 3: the home takes the ZeroTier controller's identity, or already has it.
absl::Status InstallIdentity(const ctl::HomePaths& home, const zt::Identity& identity) {
  absl::StatusOr<zt::Identity> existing = zt::Identity::FromSecretFile(home.identity_secret());
  if (existing.ok()) {
    if (*existing != identity) {
      return absl::FailedPreconditionError(absl::StrCat(
          home.dir, " already has controller identity ", state::AddressHex(existing->address()),
          ", not ", state::AddressHex(identity.address()),
          " from --identity: import into a new home"));
    }
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  if (absl::Status s = ctl::EnsureDirectory(home.dir); !s.ok()) return s;
  if (absl::Status s = ctl::WriteFileAtomically(home.identity_secret(),
                                                identity.ToString(/*include_secret=*/true), 0600);
      !s.ok()) {
    return s;
  }
  return ctl::WriteFileAtomically(home.identity_public(),
                                  identity.ToString(/*include_secret=*/false), 0644);
}

// Step 1: --identity, else the home's own.
absl::StatusOr<zt::Identity> LoadIdentity(const ParsedArgs& args, const ctl::HomePaths& home) {
  const bool given = args.values.count("--identity") > 0;
  const std::string path = given ? args.Value("--identity", "") : home.identity_secret();
  absl::StatusOr<zt::Identity> identity = zt::Identity::FromSecretFile(path);
  if (!given && absl::IsNotFound(identity.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        home.dir, " has no identity yet: give the ZeroTier controller's identity.secret "
                  "with --identity"));
  }
  if (!identity.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", identity.status().message()));
  }
  if (absl::Status s = identity->Validate(); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", s.message()));
  }
  return identity;
}

struct Counts {
  size_t networks = 0;
  size_t members = 0;
  size_t members_total = 0;
  size_t next_progress = kImportProgressMembers;
};

// Step 5 for one network: NetworkCreated, then its members in bounded commands.
absl::Status SubmitNetwork(ctl::Sequencer& sequencer, const ctl::Actor& actor,
                           ImportedNetwork& network, Counts& counts, std::ostream& out) {
  absl::StatusOr<ctl::CommitResult> created =
      sequencer.Submit(ImportNetworkCommand(actor, network));
  if (!created.ok()) return created.status();
  ++counts.networks;
  std::vector<ImportedMember> chunk;
  size_t chunk_events = 0;
  auto flush = [&]() -> absl::Status {
    if (chunk.empty()) return absl::OkStatus();
    const size_t n = chunk.size();
    absl::StatusOr<ctl::CommitResult> r =
        sequencer.Submit(ImportMembersCommand(actor, network.nwid, std::move(chunk)));
    chunk.clear();
    chunk_events = 0;
    if (!r.ok()) return r.status();
    counts.members += n;
    if (counts.members >= counts.next_progress) {
      out << "imported " << counts.members << " of " << counts.members_total << " members\n";
      while (counts.next_progress <= counts.members) counts.next_progress += kImportProgressMembers;
    }
    return absl::OkStatus();
  };
  for (ImportedMember& member : network.members) {
    if (chunk_events + EventCount(member) > kImportEventsPerCommandMax) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
    chunk_events += EventCount(member);
    chunk.push_back(std::move(member));
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  out << "imported network " << state::NetworkIdHex(network.nwid) << " ("
      << (network.config.name.empty() ? "no name" : network.config.name) << "): "
      << network.members.size() << " members\n";
  return absl::OkStatus();
}

// Step 4: open the home, refusing a running daemon and (without --force) a used journal.
absl::StatusOr<std::unique_ptr<ctl::Controller>> OpenHome(const ctl::HomePaths& home,
                                                          bool force) {
  ctl::ControllerOptions options;
  options.home = home.dir;
  options.snapshot_interval_records = 0;  // one snapshot at the end instead
  absl::StatusOr<std::unique_ptr<ctl::Controller>> controller = ctl::Controller::Open(options);
  if (!controller.ok()) {
    const std::string message(controller.status().message());
    if (absl::StrContains(message, "LOCK") || absl::StrContains(message, "lock file")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the journal in ", home.journal(),
          " is in use: stop almanacd on this home before importing (", message, ")"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", home.dir, ": ", message));
  }
  const uint64_t last_seq = (*controller)->sequencer()->Read(
      [](const state::State& s) { return s.last_seq(); });
  if (last_seq > 1 && !force) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the journal in ", home.journal(), " already holds ", last_seq,
        " records: import into a new home, or pass --force to add to it"));
  }
  return controller;
}

int Import(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  const ctl::HomePaths home(args.Value("--home", ctl::kDefaultHome));
  const std::string controller_d = args.positional[0];
  absl::StatusOr<zt::Identity> identity = LoadIdentity(args, home);
  if (!identity.ok()) {
    err << "almanac: " << identity.status().message() << "\n";
    return absl::IsInvalidArgument(identity.status()) ? kExitUsage : kExitRefused;
  }
  absl::StatusOr<ImportPlan> plan = ReadControllerDir(controller_d, identity->address());
  if (!plan.ok()) return Refuse(std::string(plan.status().message()), err);
  out << "read " << plan->networks.size() << " networks and " << plan->member_count()
      << " members from " << controller_d << "\n";
  if (absl::Status s = InstallIdentity(home, *identity); !s.ok()) {
    return Refuse(std::string(s.message()), err);
  }
  absl::StatusOr<std::unique_ptr<ctl::Controller>> controller =
      OpenHome(home, args.Has("--force"));
  if (!controller.ok()) return Refuse(std::string(controller.status().message()), err);
  ctl::Sequencer& sequencer = *(*controller)->sequencer();

  ctl::Actor actor;
  actor.kind = schema::ActorKind::Import;
  actor.id = "import-zerotier";
  std::error_code ec;
  actor.source = std::filesystem::absolute(controller_d, ec).string();
  Counts counts;
  counts.members_total = plan->member_count();
  for (ImportedNetwork& network : plan->networks) {
    const bool exists = sequencer.Read(
        [&](const state::State& s) { return s.FindNetwork(network.nwid) != nullptr; });
    if (exists) {
      plan->rejected.push_back({network.path, "the network already exists in " + home.dir});
      for (const ImportedMember& m : network.members) {
        plan->rejected.push_back({m.path, "its network already exists in " + home.dir});
      }
      continue;
    }
    if (absl::Status s = SubmitNetwork(sequencer, actor, network, counts, out); !s.ok()) {
      return Refuse(absl::StrCat("importing ", network.path, " failed: ", s.message()), err);
    }
  }
  absl::StatusOr<std::string> snapshot = (*controller)->WriteSnapshotNow();
  if (!snapshot.ok()) {
    err << "almanac: warning: no snapshot written (" << snapshot.status().message()
        << "); almanacd will replay the journal at start\n";
  }
  out << "imported " << counts.networks << " networks and " << counts.members
      << " members into " << home.dir << " (journal at record "
      << (*controller)->journal()->last_seq() << ")\n";
  for (const RejectedFile& r : plan->rejected) {
    err << "almanac: rejected " << r.path << ": " << r.reason << "\n";
  }
  if (!plan->rejected.empty()) {
    err << "almanac: " << plan->rejected.size() << " files rejected\n";
    return kExitRefused;
  }
  return kExitOk;
}

}  // namespace

int RunImportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(args, {"--home", "--identity"}, {"--force", "--help", "-h"});
  if (!parsed.ok()) {
    err << "almanac: " << parsed.status().message()
        << " (see 'almanac import-zerotier --help')\n";
    return kExitUsage;
  }
  if (parsed->Has("--help") || parsed->Has("-h")) {
    out << kUsage;
    return kExitOk;
  }
  if (parsed->positional.size() != 1) {
    err << kUsage;
    return kExitUsage;
  }
  return Import(*parsed, out, err);
}

}  // namespace almanac::cli
