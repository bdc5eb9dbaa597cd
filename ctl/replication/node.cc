#include "ctl/replication/node.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "ctl/home.h"
#include "journal/record_format.h"

namespace almanac::replication {

std::string StandbyReason(const std::string& primary) {
  return absl::StrCat("this controller is a standby of ", primary,
                      ": it answers reads only; send changes to the primary, or promote "
                      "this one (almanac promote)");
}

absl::Status PrepareStandbyHome(const NodeOptions& options, const ctl::HomePaths& paths) {
  if (::access(paths.identity_secret().c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a standby needs the primary's identity: copy identity.secret (and identity.public) "
        "from the primary's home into ", paths.dir));
  }
  absl::StatusOr<zt::Identity> identity = zt::Identity::FromSecretFile(paths.identity_secret());
  if (!identity.ok()) return identity.status();
  StandbyOptions standby;
  standby.primary = options.standby_of;
  standby.log = options.log;
  absl::StatusOr<ReconcileReport> report = Reconcile(standby, paths, *identity);
  if (report.ok()) return absl::OkStatus();
  if (report.status().code() == absl::StatusCode::kUnavailable) {
    if (options.log) {
      options.log(absl::StrCat("replication: could not compare the journal with the primary "
                               "yet (", report.status().message(), "); following anyway"));
    }
    return absl::OkStatus();
  }
  return report.status();
}

absl::StatusOr<std::unique_ptr<ReplicationNode>> ReplicationNode::Start(
    const NodeOptions& options, ctl::Controller* controller) {
  std::unique_ptr<ReplicationNode> node(new ReplicationNode(options, controller));
  if (!options.replication_listen.empty()) {
    PrimaryOptions p;
    p.listen = options.replication_listen;
    p.sync = options.sync;
    p.sync_timeout_ms = options.sync_timeout_ms;
    p.sync_fallback = options.sync_fallback;
    p.log = options.log;
    absl::StatusOr<std::unique_ptr<ReplicationServer>> server = ReplicationServer::Start(
        p, controller->journal(), controller->sequencer(), &controller->identity());
    if (!server.ok()) return server.status();
    node->server_ = std::move(*server);
    if (options.sync) {
      ReplicationServer* raw = node->server_.get();
      controller->sequencer()->SetCommitGate(
          [raw](uint64_t seq) { return raw->WaitDurable(seq); });
    }
  }
  if (!options.standby_of.empty()) {
    StandbyOptions s;
    s.primary = options.standby_of;
    s.log = options.log;
    absl::MutexLock lock(&node->mu_);
    node->standby_ = true;
    node->follower_ = Follower::Start(s, controller->journal(), controller->sequencer(),
                                      &controller->identity());
  }
  return node;
}

ReplicationNode::~ReplicationNode() {
  {
    absl::MutexLock lock(&mu_);
    if (follower_ != nullptr) follower_->Stop();
  }
  // The gate points at the server: remove it before the server goes.
  if (server_ != nullptr && options_.sync) controller_->sequencer()->SetCommitGate(nullptr);
  server_.reset();
}

bool ReplicationNode::standby() const {
  absl::MutexLock lock(&mu_);
  return standby_;
}

std::string ReplicationNode::Role() const {
  if (standby()) return "standby";
  if (controller_->sequencer()->read_only()) return "fenced";
  return "primary";
}

nlohmann::json ReplicationNode::StatusJson() const {
  nlohmann::json j;
  j["role"] = Role();
  j["chainHash"] = journal::HashHex(
      controller_->sequencer()->Read([](const state::State& s) { return s.chain_hash(); }));
  nlohmann::json r = nlohmann::json::object();
  {
    absl::MutexLock lock(&mu_);
    if (standby_ && follower_ != nullptr) {
      const StandbyStats s = follower_->stats();
      r["primary"] = options_.standby_of;
      r["connected"] = s.connected;
      r["primaryLastSeq"] = s.primary_last_seq;
      r["lagRecords"] = s.lag_records;
      r["lagMs"] = s.lag_ms;
      r["lastContact"] = s.last_contact_ms;
      r["recordsReceived"] = s.records_received;
      if (!s.last_error.empty()) r["lastError"] = s.last_error;
    }
  }
  if (server_ != nullptr) {
    const PrimaryStats p = server_->stats();
    r["listenPort"] = server_->port();
    r["standbys"] = p.standbys;
    r["ackedSeq"] = p.acked_seq;
    r["sync"] = p.sync;
    r["syncDegraded"] = p.sync_degraded;
    r["syncFallbacks"] = p.sync_fallbacks;
    r["syncRefusals"] = p.sync_refusals;
    r["peersRefused"] = p.peers_refused;
    if (!standby()) {
      r["lagRecords"] = p.lag_records;
      r["lagMs"] = p.lag_ms;
    }
  }
  j["replication"] = std::move(r);
  return j;
}

void ReplicationNode::RegisterMetrics(api::MetricsRegistry* metrics) {
  auto stat = [this](const char* key) {
    return [this, key]() -> double {
      const nlohmann::json r = StatusJson()["replication"];
      auto it = r.find(key);
      if (it == r.end() || !(it->is_number() || it->is_boolean())) return 0;
      return it->is_boolean() ? (it->get<bool>() ? 1 : 0) : it->get<double>();
    };
  };
  metrics->SetGauge("almanac_replication_standby",
                    "1 while this controller is a standby (read-only, following a primary).",
                    [this] { return standby() ? 1.0 : 0.0; });
  metrics->SetGauge("almanac_replication_fenced",
                    "1 when this former primary saw a higher epoch and stopped writing.",
                    [this] { return Role() == "fenced" ? 1.0 : 0.0; });
  metrics->SetGauge("almanac_replication_lag_records",
                    "Records the standby is behind (on a primary: the least-behind standby).",
                    stat("lagRecords"));
  metrics->SetGauge("almanac_replication_lag_ms",
                    "How long the standby has been behind, in ms (on a primary: age of the "
                    "oldest record no standby confirmed).",
                    stat("lagMs"));
  metrics->SetGauge("almanac_replication_standbys", "Standbys following this controller.",
                    stat("standbys"));
  metrics->SetGauge("almanac_replication_connected",
                    "1 while this standby is connected to its primary.", stat("connected"));
  metrics->SetGauge("almanac_replication_sync_degraded",
                    "1 while sync mode has fallen back to async (no standby confirmed).",
                    stat("syncDegraded"));
  metrics->SetCounterFunction("almanac_replication_sync_fallbacks_total",
                              "Times sync mode fell back to async.", stat("syncFallbacks"));
  metrics->SetCounterFunction("almanac_replication_sync_refusals_total",
                              "Changes refused because no standby confirmed them in time.",
                              stat("syncRefusals"));
  metrics->SetCounterFunction("almanac_replication_peers_refused_total",
                              "Replication connections refused (identity, protocol, limits).",
                              stat("peersRefused"));
}

absl::StatusOr<nlohmann::json> ReplicationNode::Promote() {
  absl::StatusOr<uint64_t> epoch;
  {
    absl::MutexLock lock(&mu_);
    if (!standby_) {
      return absl::FailedPreconditionError(
          "this controller is not a standby (it is the primary, or fenced)");
    }
    epoch = replication::Promote(follower_.get(), controller_->sequencer());
    if (!epoch.ok()) return epoch.status();
    standby_ = false;
  }
  if (options_.log) {
    options_.log(absl::StrCat("replication: PROMOTED to primary at epoch ", *epoch,
                              ", journal at record ", controller_->journal()->last_seq()));
  }
  if (options_.on_promoted) {
    if (absl::Status s = options_.on_promoted(); !s.ok()) return s;
  }
  return nlohmann::json{{"role", "primary"},
                        {"epoch", *epoch},
                        {"lastSeq", controller_->journal()->last_seq()}};
}

}  // namespace almanac::replication
