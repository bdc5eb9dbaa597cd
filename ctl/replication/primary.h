// The primary's side of replication: a TCP listener (almanacd --replication-listen)
// that serves standbys the journal's records after the seq each asks for, and, in sync
// mode, the sequencer's commit gate that holds an admin change's answer until a standby
// has its records durably. Protocol: ctl/replication/protocol.h.
//
// Per standby connection: a handshake (identity proof; a failure is logged here and the
// peer is told nothing it could use), FOLLOW/PROBE requests, then a sender that ships
// RECORDS (HEARTBEAT when idle) and a receiver of ACKs. A standby that presents a higher
// epoch than ours means another controller was promoted: this primary fences itself
// (the sequencer turns read-only) and says so loudly.
//
// Sync mode (--sync-standby): WaitDurable(seq) blocks until some standby ACKed seq, at
// most sync_timeout. Then, by sync_fallback:
//   kAsync:  log "SYNC STANDBY LOST", answer OK and stop waiting (degraded) until a
//            standby ACKs the record whose wait timed out ("SYNC STANDBY BACK"); changes
//            acknowledged while degraded can be lost on failover.
//   kRefuse: answer Unavailable; the change is durable on the primary but its caller is
//            told it was not acknowledged (the client may retry).
//
// Thread safety: all public methods may be called from any thread.
#ifndef ALMANAC_CTL_REPLICATION_PRIMARY_H_
#define ALMANAC_CTL_REPLICATION_PRIMARY_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ctl/replication/channel.h"
#include "ctl/sequencer.h"
#include "ctl/zt/identity.h"
#include "journal/journal.h"

namespace almanac::replication {

enum class SyncFallback { kAsync, kRefuse };

struct PrimaryOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks one (see port())
  bool sync = false;
  int sync_timeout_ms = 2000;
  SyncFallback sync_fallback = SyncFallback::kAsync;
  std::function<void(const std::string&)> log;  // may be empty
};

struct PrimaryStats {
  size_t standbys = 0;          // connected and following
  uint64_t acked_seq = 0;       // highest seq any standby confirmed durable
  uint64_t lag_records = 0;     // journal last seq - acked_seq (0 without standbys ever)
  int64_t lag_ms = 0;           // age of the oldest record written but not yet ACKed
  bool sync = false;
  bool sync_degraded = false;   // async fallback in force
  uint64_t sync_fallbacks = 0;  // times the async fallback started
  uint64_t sync_refusals = 0;   // changes answered Unavailable (refuse fallback)
  uint64_t peers_refused = 0;   // connections refused (handshake, identity, limits)
  bool fenced = false;          // a higher epoch was seen: read-only
};

class ReplicationServer {
 public:
  // Binds the listener and starts accepting. The journal, sequencer and identity must
  // outlive the server. Errors: InvalidArgument for a bad listen address, Unavailable
  // when binding fails.
  static absl::StatusOr<std::unique_ptr<ReplicationServer>> Start(
      const PrimaryOptions& options, journal::Journal* journal, ctl::Sequencer* sequencer,
      const zt::Identity* identity);
  ~ReplicationServer();  // closes every connection and joins the threads
  ReplicationServer(const ReplicationServer&) = delete;
  ReplicationServer& operator=(const ReplicationServer&) = delete;

  int port() const { return port_; }
  PrimaryStats stats() const;

  // The sync-mode commit gate (see top). OK at once when not in sync mode.
  absl::Status WaitDurable(uint64_t seq);

 private:
  struct Connection;
  ReplicationServer(const PrimaryOptions& options, journal::Journal* journal,
                    ctl::Sequencer* sequencer, const zt::Identity* identity);
  void AcceptLoop();
  void Serve(std::shared_ptr<Connection> conn);
  absl::Status Stream(Connection& conn, uint64_t after_seq);
  void ReceiveAcks(std::shared_ptr<Connection> conn);
  void OnAck(uint64_t seq);
  void OnCommitted(uint64_t last_seq);
  void Log(const std::string& line) const;

  // The sequencer keeps its listeners for its whole life: the one added here reaches
  // the server through this, which the destructor clears.
  struct ListenerLink {
    absl::Mutex mu;
    ReplicationServer* server ABSL_GUARDED_BY(mu) = nullptr;
  };

  const PrimaryOptions options_;
  std::shared_ptr<ListenerLink> link_ = std::make_shared<ListenerLink>();
  journal::Journal* const journal_;
  ctl::Sequencer* const sequencer_;
  const zt::Identity* const identity_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  size_t handshaking_ ABSL_GUARDED_BY(mu_) = 0;
  size_t standbys_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool ever_followed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::pair<uint64_t, int64_t>> unacked_ ABSL_GUARDED_BY(mu_);  // seq, ms
  bool degraded_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t degraded_seq_ ABSL_GUARDED_BY(mu_) = 0;  // the record whose wait timed out
  uint64_t fallbacks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refusals_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t peers_refused_ ABSL_GUARDED_BY(mu_) = 0;
  bool fenced_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_PRIMARY_H_
