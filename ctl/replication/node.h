// A controller's replication role, as almanacd runs it: a standby (Follower) or a
// primary, with or without a replication listener (ReplicationServer), and the switch
// from one to the other (promotion). Also what the admin API shows of it: the /status
// fields and the /metrics series.
//
// Roles (/status "role"):
//   "standby"  read-only, following `standby_of`;
//   "primary"  writable;
//   "fenced"   was primary, saw a standby at a higher epoch: read-only for good (restart
//              it with --standby-of the new primary to rejoin).
//
// Thread safety: all public methods may be called from any thread.
#ifndef ALMANAC_CTL_REPLICATION_NODE_H_
#define ALMANAC_CTL_REPLICATION_NODE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ctl/api/metrics.h"
#include "ctl/controller.h"
#include "ctl/replication/primary.h"
#include "ctl/replication/standby.h"
#include "nlohmann/json.hpp"

namespace almanac::replication {

struct NodeOptions {
  std::string replication_listen;  // host:port for standbys; empty: no listener
  std::string standby_of;          // host:port of the primary's listener; empty: primary
  bool sync = false;               // --sync-standby
  int sync_timeout_ms = 2000;
  SyncFallback sync_fallback = SyncFallback::kAsync;
  std::function<void(const std::string&)> log;  // may be empty
  // Called once after a promotion made the controller writable (almanacd starts serving
  // ZeroTier nodes there). Its error is reported by Promote, the promotion stands.
  std::function<absl::Status()> on_promoted;
};

// The sequencer's refusal message on a standby of `primary`.
std::string StandbyReason(const std::string& primary);

// Run BEFORE Controller::Open on a standby home: checks the home holds an identity
// (a standby must be given the primary's identity.secret; it never makes one), then
// Reconcile (standby.h). An unreachable primary is logged and is not an error (the
// follower retries; a diverged journal is refused then, with the reason).
// Errors: FailedPrecondition without identity.secret; PermissionDenied when the primary
// does not share the identity; journal errors.
absl::Status PrepareStandbyHome(const NodeOptions& options, const ctl::HomePaths& paths);

class ReplicationNode {
 public:
  // Starts the listener (when replication_listen is set; with sync, installs the commit
  // gate) and, on a standby, the follower. The controller must outlive the node; in
  // sync mode the node must outlive every write (destroy it after the API server).
  static absl::StatusOr<std::unique_ptr<ReplicationNode>> Start(const NodeOptions& options,
                                                                ctl::Controller* controller);
  ~ReplicationNode();

  bool standby() const;
  int listen_port() const { return server_ == nullptr ? 0 : server_->port(); }

  // /status fields: role, chainHash (of the applied state) and "replication".
  nlohmann::json StatusJson() const;
  // Gauges and counters under almanac_replication_*. The node must outlive renders.
  void RegisterMetrics(api::MetricsRegistry* metrics);

  // Promotion (standby.h Promote), then on_promoted. Returns {role, epoch, lastSeq}.
  // FailedPrecondition when not a standby.
  absl::StatusOr<nlohmann::json> Promote();

 private:
  explicit ReplicationNode(const NodeOptions& options, ctl::Controller* controller)
      : options_(options), controller_(controller) {}
  std::string Role() const;

  const NodeOptions options_;
  ctl::Controller* const controller_;
  std::unique_ptr<ReplicationServer> server_;
  mutable absl::Mutex mu_;
  std::unique_ptr<Follower> follower_ ABSL_GUARDED_BY(mu_);
  bool standby_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_NODE_H_
