#include "ctl/replication/primary.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/thread_name.h"
#include "ctl/replication/limits.h"
#include "journal/limits.h"

namespace almanac::replication {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Accept loop poll period: how fast the server notices Stop.
constexpr int kAcceptPollMs = 200;

}  // namespace

struct ReplicationServer::Connection {
  int fd = -1;
  std::string peer;  // "ip:port", for logs
  std::unique_ptr<Channel> channel;
  std::atomic<bool> done{false};
  std::atomic<bool> finished{false};  // the serving thread returned
  std::thread thread;
  std::thread ack_thread;
};

ReplicationServer::ReplicationServer(const PrimaryOptions& options, journal::Journal* journal,
                                     ctl::Sequencer* sequencer, const zt::Identity* identity)
    : options_(options), journal_(journal), sequencer_(sequencer), identity_(identity) {}

void ReplicationServer::Log(const std::string& line) const {
  if (options_.log) options_.log("replication: " + line);
}

absl::StatusOr<std::unique_ptr<ReplicationServer>> ReplicationServer::Start(
    const PrimaryOptions& options, journal::Journal* journal, ctl::Sequencer* sequencer,
    const zt::Identity* identity) {
  const size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication listen address: expected IPv4:port, got ", options.listen));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, options.listen.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication listen address: not an IPv4 address: ", options.listen));
  }
  std::unique_ptr<ReplicationServer> server(
      new ReplicationServer(options, journal, sequencer, identity));
  server->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(server->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (server->listen_fd_ < 0 ||
      ::bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(server->listen_fd_, 16) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen, ": ",
                                               std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  server->port_ = ntohs(addr.sin_port);
  ReplicationServer* raw = server.get();
  {
    absl::MutexLock lock(&server->link_->mu);
    server->link_->server = raw;
  }
  sequencer->AddListener([link = server->link_](const std::vector<ctl::AppliedRecord>& applied) {
    absl::MutexLock lock(&link->mu);
    if (link->server != nullptr) link->server->OnCommitted(applied.back().seq);
  });
  server->accept_thread_ = std::thread([raw] {
    NameThisThread("repl-accept");
    raw->AcceptLoop();
  });
  return server;
}

ReplicationServer::~ReplicationServer() {
  {
    absl::MutexLock lock(&link_->mu);
    link_->server = nullptr;
  }
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::shared_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections = connections_;
  }
  for (auto& c : connections) {
    // Wakes a handshake or Receive blocked on the socket; Stream sees stopping_.
    c->done = true;
    if (!c->finished) ::shutdown(c->fd, SHUT_RDWR);
  }
  for (auto& c : connections) {
    if (c->thread.joinable()) c->thread.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void ReplicationServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kAcceptPollMs) <= 0) continue;
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    auto conn = std::make_shared<Connection>();
    conn->fd = fd;
    conn->peer = absl::StrCat(ip, ":", ntohs(peer.sin_port));
    absl::MutexLock lock(&mu_);
    // Reap connections that ended, so the list stays bounded.
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->finished) {
        (*it)->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    if (handshaking_ >= kHandshakesMax || connections_.size() >= kHandshakesMax + kFollowersMax) {
      ++peers_refused_;
      ::close(fd);
      continue;
    }
    ++handshaking_;
    connections_.push_back(conn);
    conn->thread = std::thread([this, conn] {
      NameThisThread("repl-send");
      Serve(conn);
      conn->finished = true;
    });
  }
}

void ReplicationServer::Serve(std::shared_ptr<Connection> conn) {
  const AuthInfo mine{sequencer_->epoch(), journal_->last_seq()};
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      Channel::Handshake(conn->fd, *identity_, Role::kPrimary, mine);
  {
    absl::MutexLock lock(&mu_);
    --handshaking_;
    if (!channel.ok()) ++peers_refused_;
  }
  if (!channel.ok()) {
    Log(absl::StrCat("refused a connection from ", conn->peer, ": ",
                     channel.status().message()));
    return;
  }
  conn->channel = std::move(*channel);
  Channel& ch = *conn->channel;
  auto refuse = [&](const std::string& reason) {
    Log(absl::StrCat("refused standby ", conn->peer, ": ", reason));
    {
      absl::MutexLock lock(&mu_);
      ++peers_refused_;
    }
    ch.Send(MessageType::kRefuse, reason.substr(0, kReasonBytesMax)).IgnoreError();
  };
  if (stopping_) return;
  if (ch.peer_auth().epoch > sequencer_->epoch()) {
    const std::string reason = absl::StrCat(
        "the standby is at epoch ", ch.peer_auth().epoch, ", above this primary's ",
        sequencer_->epoch(), ": another controller was promoted. This controller stops "
        "accepting changes; restart it with --standby-of the new primary");
    sequencer_->SetReadOnly(
        "this controller was superseded by a promoted standby (higher epoch); it accepts "
        "no changes");
    {
      absl::MutexLock lock(&mu_);
      fenced_ = true;
    }
    Log("FENCED: " + reason);
    refuse(reason);
    return;
  }
  // FOLLOW / PROBE until a FOLLOW is accepted.
  size_t probes = 0;
  while (!stopping_) {
    absl::StatusOr<Message> m = ch.Receive(kPeerSilenceMs);
    if (!m.ok()) {
      Log(absl::StrCat("standby ", conn->peer, " left: ", m.status().message()));
      return;
    }
    if (m->type != MessageType::kFollow && m->type != MessageType::kProbe) {
      refuse("expected FOLLOW or PROBE");
      return;
    }
    absl::StatusOr<SeqHash> ask = DecodeSeqHash(m->payload);
    if (!ask.ok()) {
      refuse(std::string(ask.status().message()));
      return;
    }
    bool match = false;
    const uint64_t last = journal_->last_seq();
    if (ask->seq == 0) {
      match = ask->hash == journal::kZeroChainHash;
    } else if (ask->seq <= last) {
      absl::StatusOr<std::vector<journal::StoredRecord>> rec = journal_->Read(ask->seq, 1);
      match = rec.ok() && !rec->empty() && rec->front().chain_hash == ask->hash;
    }
    if (m->type == MessageType::kProbe) {
      if (++probes > kProbesMax) {
        refuse("too many PROBE messages");
        return;
      }
      if (!ch.Send(MessageType::kProbeReply, EncodeProbeReply({ask->seq, match, last})).ok()) {
        return;
      }
      continue;
    }
    if (!match) {
      refuse(absl::StrCat("this primary has no record ", ask->seq, " with chain hash ",
                          journal::HashHex(ask->hash), " (it ends at ", last,
                          "): the standby's journal is not a prefix of the primary's; "
                          "restart the standby so it cuts its diverging tail"));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      if (standbys_ >= kFollowersMax) {
        refuse(absl::StrCat("this primary already serves ", kFollowersMax, " standbys"));
        return;
      }
      ++standbys_;
      ever_followed_ = true;
    }
    Log(absl::StrCat("standby ", conn->peer, " follows after record ", ask->seq));
    conn->ack_thread = std::thread([this, conn] {
    NameThisThread("repl-acks");
    ReceiveAcks(conn);
  });
    absl::Status s = Stream(*conn, ask->seq);
    conn->done = true;
    ch.Close();
    conn->ack_thread.join();
    {
      absl::MutexLock lock(&mu_);
      --standbys_;
    }
    Log(absl::StrCat("standby ", conn->peer, " disconnected: ",
                     s.ok() ? "stopping" : std::string(s.message())));
    return;
  }
}

absl::Status ReplicationServer::Stream(Connection& conn, uint64_t after_seq) {
  Channel& ch = *conn.channel;
  uint64_t next = after_seq + 1;
  while (!stopping_ && !conn.done) {
    if (journal_->last_seq() < next) {
      if (!journal_->WaitForAfter(next - 1, absl::Milliseconds(kHeartbeatMs))) {
        if (absl::Status s = ch.Send(MessageType::kHeartbeat, EncodeU64(journal_->last_seq()));
            !s.ok()) {
          return s;
        }
        continue;
      }
    }
    absl::StatusOr<std::vector<journal::StoredRecord>> records =
        journal_->Read(next, kRecordsFrameRecordsMax);
    if (!records.ok()) return records.status();
    size_t i = 0;
    while (i < records->size()) {
      std::vector<std::string> frame;
      size_t bytes = 0;
      while (i < records->size() && frame.size() < kRecordsFrameRecordsMax &&
             (frame.empty() || bytes + (*records)[i].bytes.size() <= kRecordsFrameBytesTarget)) {
        bytes += (*records)[i].bytes.size();
        frame.push_back(std::move((*records)[i].bytes));
        ++i;
      }
      if (absl::Status s =
              ch.Send(MessageType::kRecords, EncodeRecords(journal_->last_seq(), frame));
          !s.ok()) {
        return s;
      }
      next += frame.size();
    }
  }
  return absl::OkStatus();
}

void ReplicationServer::ReceiveAcks(std::shared_ptr<Connection> conn) {
  Channel& ch = *conn->channel;
  while (!stopping_ && !conn->done) {
    absl::StatusOr<Message> m = ch.Receive(kPeerSilenceMs);
    if (!m.ok()) {
      if (!conn->done) Log(absl::StrCat("standby ", conn->peer, ": ", m.status().message()));
      break;
    }
    if (m->type != MessageType::kAck) {
      Log(absl::StrCat("standby ", conn->peer, " sent an unexpected message; closing"));
      break;
    }
    absl::StatusOr<uint64_t> seq = DecodeU64(m->payload);
    if (!seq.ok() || *seq > journal_->last_seq()) {
      Log(absl::StrCat("standby ", conn->peer, " sent a bad ACK; closing"));
      break;
    }
    OnAck(*seq);
  }
  conn->done = true;
  ch.Close();
}

void ReplicationServer::OnCommitted(uint64_t last_seq) {
  absl::MutexLock lock(&mu_);
  if (unacked_.size() >= kLagSamplesMax) unacked_.pop_front();
  unacked_.emplace_back(last_seq, NowMs());
}

void ReplicationServer::OnAck(uint64_t seq) {
  absl::MutexLock lock(&mu_);
  if (seq <= acked_seq_) return;
  acked_seq_ = seq;
  while (!unacked_.empty() && unacked_.front().first <= seq) unacked_.pop_front();
  // Caught up past the record whose wait timed out: later changes wait again (their
  // own records follow closely, so the wait is short).
  if (degraded_ && seq >= degraded_seq_) {
    degraded_ = false;
    Log(absl::StrCat("SYNC STANDBY BACK: a standby has every record up to ", seq,
                     "; changes are acknowledged synchronously again"));
  }
}

absl::Status ReplicationServer::WaitDurable(uint64_t seq) {
  if (!options_.sync) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  struct Arg {
    ReplicationServer* self;
    uint64_t seq;
  } arg{this, seq};
  auto acked = +[](Arg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return a->self->acked_seq_ >= a->seq || a->self->stopping_;
  };
  if (degraded_ && options_.sync_fallback == SyncFallback::kAsync) return absl::OkStatus();
  if (mu_.AwaitWithTimeout(absl::Condition(acked, &arg),
                           absl::Milliseconds(options_.sync_timeout_ms)) &&
      acked_seq_ >= seq) {
    return absl::OkStatus();
  }
  if (options_.sync_fallback == SyncFallback::kRefuse) {
    ++refusals_;
    return absl::UnavailableError(absl::StrCat(
        "sync standby: no standby confirmed record ", seq, " within ",
        options_.sync_timeout_ms, " ms; the change is stored on this primary but NOT "
        "acknowledged (--sync-fallback=refuse)"));
  }
  degraded_ = true;
  degraded_seq_ = seq;
  ++fallbacks_;
  Log(absl::StrCat("SYNC STANDBY LOST: no standby confirmed record ", seq, " within ",
                   options_.sync_timeout_ms, " ms; acknowledging changes ASYNCHRONOUSLY "
                   "until a standby catches up (--sync-fallback=async): changes "
                   "acknowledged meanwhile can be lost on failover"));
  return absl::OkStatus();
}

PrimaryStats ReplicationServer::stats() const {
  PrimaryStats s;
  const uint64_t last = journal_->last_seq();
  absl::MutexLock lock(&mu_);
  s.standbys = standbys_;
  s.acked_seq = acked_seq_;
  s.lag_records = ever_followed_ && last > acked_seq_ ? last - acked_seq_ : 0;
  s.lag_ms = ever_followed_ && !unacked_.empty() ? NowMs() - unacked_.front().second : 0;
  s.sync = options_.sync;
  s.sync_degraded = degraded_;
  s.sync_fallbacks = fallbacks_;
  s.sync_refusals = refusals_;
  s.peers_refused = peers_refused_;
  s.fenced = fenced_;
  return s;
}

}  // namespace almanac::replication
