#include "ctl/replication/standby.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/thread_name.h"
#include "ctl/replication/limits.h"
#include "ctl/state/snapshot.h"
#include "journal/limits.h"
#include "schemas/events_generated.h"

namespace almanac::replication {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Connect timeout to the primary.
constexpr int kConnectTimeoutMs = 2000;

absl::StatusOr<std::unique_ptr<Channel>> Connect(const std::string& primary,
                                                 const zt::Identity& identity,
                                                 const AuthInfo& mine) {
  absl::StatusOr<int> fd = ConnectTcp(primary, kConnectTimeoutMs);
  if (!fd.ok()) return fd.status();
  return Channel::Handshake(*fd, identity, Role::kStandby, mine);
}

// Sends a PROBE/FOLLOW-style request and reads the reply, turning a REFUSE into an error.
absl::StatusOr<Message> Ask(Channel& ch, MessageType type, const SeqHash& ask) {
  if (absl::Status s = ch.Send(type, EncodeSeqHash(ask)); !s.ok()) return s;
  absl::StatusOr<Message> m = ch.Receive(kPeerSilenceMs);
  if (!m.ok()) return m.status();
  if (m->type == MessageType::kRefuse) {
    return absl::UnavailableError("the primary refused: " + m->payload);
  }
  return m;
}

absl::StatusOr<journal::ChainHash> HashAt(journal::Journal& journal, uint64_t seq) {
  if (seq == 0) return journal::kZeroChainHash;
  absl::StatusOr<std::vector<journal::StoredRecord>> r = journal.Read(seq, 1);
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::DataLossError(absl::StrCat("record ", seq, " is missing"));
  return r->front().chain_hash;
}

absl::StatusOr<bool> ProbeMatches(Channel& ch, journal::Journal& journal, uint64_t seq) {
  absl::StatusOr<journal::ChainHash> hash = HashAt(journal, seq);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<Message> m = Ask(ch, MessageType::kProbe, SeqHash{seq, *hash});
  if (!m.ok()) return m.status();
  if (m->type != MessageType::kProbeReply) {
    return absl::InvalidArgumentError("the primary answered a PROBE with something else");
  }
  absl::StatusOr<ProbeReply> reply = DecodeProbeReply(m->payload);
  if (!reply.ok()) return reply.status();
  if (reply->seq != seq) return absl::InvalidArgumentError("PROBE_REPLY for another seq");
  return reply->match;
}

// Writes records after keep_seq to a new file (length-prefixed), fsynced.
absl::Status SaveTail(journal::Journal& journal, uint64_t keep_seq, const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path));
  absl::Status status;
  uint64_t next = keep_seq + 1;
  while (status.ok() && next <= journal.last_seq()) {
    absl::StatusOr<std::vector<journal::StoredRecord>> records =
        journal.Read(next, journal::kReadRecordsMax);
    if (!records.ok()) {
      status = records.status();
      break;
    }
    std::string out;
    for (const journal::StoredRecord& r : *records) {
      const uint32_t n = static_cast<uint32_t>(r.bytes.size());
      for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
      out.append(r.bytes);
      next = r.seq + 1;
    }
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
      if (n <= 0) {
        status = absl::InternalError(absl::StrCat("cannot write ", path));
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  if (status.ok() && ::fsync(fd) != 0) status = absl::InternalError("fsync " + path);
  ::close(fd);
  return status;
}

}  // namespace

absl::StatusOr<ReconcileReport> Reconcile(const StandbyOptions& options,
                                          const ctl::HomePaths& paths,
                                          const zt::Identity& identity) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log("replication: " + line);
  };
  ReconcileReport report;
  if (absl::Status s = ctl::EnsureDirectory(paths.dir); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<journal::Journal>> opened =
      journal::Journal::Open(paths.journal(), journal::JournalOptions{});
  if (!opened.ok()) return opened.status();
  journal::Journal& journal = **opened;
  const uint64_t last = journal.last_seq();
  report.kept_seq = last;
  if (last == 0) return report;
  absl::StatusOr<std::unique_ptr<Channel>> ch = Connect(options.primary, identity, {0, last});
  if (!ch.ok()) return ch.status();
  absl::StatusOr<bool> match = ProbeMatches(**ch, journal, last);
  if (!match.ok()) return match.status();
  if (*match) return report;
  // Binary search for the last common record: lo matches, hi does not.
  uint64_t lo = 0;
  uint64_t hi = last;
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    absl::StatusOr<bool> m = ProbeMatches(**ch, journal, mid);
    if (!m.ok()) return m.status();
    (*m ? lo : hi) = mid;
  }
  report.kept_seq = lo;
  report.cut_records = last - lo;
  report.cut_file = absl::StrCat(paths.dir, "/cut-", NowMs(), "-after-", lo, ".records");
  if (absl::Status s = SaveTail(journal, lo, report.cut_file); !s.ok()) return s;
  absl::StatusOr<uint64_t> removed = journal.CutAfter(lo);
  if (!removed.ok()) return removed.status();
  // Snapshots after the cut describe a state with the cut records in it.
  absl::StatusOr<std::vector<std::string>> snapshots = state::ListSnapshotFiles(paths.snapshots());
  if (snapshots.ok()) {
    for (const std::string& file : *snapshots) {
      const size_t dash = file.rfind("snapshot-");
      uint64_t seq = 0;
      if (dash != std::string::npos &&
          absl::SimpleAtoi(file.substr(dash + 9, 20), &seq) && seq > lo) {
        ::unlink(file.c_str());
      }
    }
  }
  log(absl::StrCat("CUT ", report.cut_records, " records (", lo + 1, "..", last,
                   ") that the primary at ", options.primary, " never had; saved to ",
                   report.cut_file, ", NOT merged. This home now follows the primary from ",
                   "record ", lo));
  return report;
}

Follower::Follower(const StandbyOptions& options, journal::Journal* journal,
                   ctl::Sequencer* sequencer, const zt::Identity* identity)
    : options_(options), journal_(journal), sequencer_(sequencer), identity_(identity) {}

std::unique_ptr<Follower> Follower::Start(const StandbyOptions& options,
                                          journal::Journal* journal, ctl::Sequencer* sequencer,
                                          const zt::Identity* identity) {
  std::unique_ptr<Follower> f(new Follower(options, journal, sequencer, identity));
  Follower* raw = f.get();
  f->thread_ = std::thread([raw] {
    NameThisThread("standby");
    raw->Run();
  });
  return f;
}

Follower::~Follower() { Stop(); }

void Follower::Log(const std::string& line) const {
  if (options_.log) options_.log("replication: " + line);
}

void Follower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (channel_ != nullptr) channel_->Close();
  }
  if (thread_.joinable()) thread_.join();
}

void Follower::Run() {
  int backoff_ms = kReconnectMinMs;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    const absl::Status s = FollowOnce();
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      connected_ = false;
      stopping = stopping_;
      if (!stopping && !s.ok() && std::string(s.message()) != last_error_) {
        last_error_ = std::string(s.message());
        Log(absl::StrCat("following ", options_.primary, ": ", last_error_));
      }
      if (s.ok()) backoff_ms = kReconnectMinMs;
    }
    if (stopping) return;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, kReconnectMaxMs);
  }
}

absl::Status Follower::FollowOnce() {
  const AuthInfo mine{sequencer_->epoch(), journal_->last_seq()};
  absl::StatusOr<std::unique_ptr<Channel>> ch = Connect(options_.primary, *identity_, mine);
  if (!ch.ok()) return ch.status();
  Channel& channel = **ch;
  if (channel.peer_auth().epoch < mine.epoch) {
    channel.Send(MessageType::kRefuse, "the standby is at a higher epoch than this primary")
        .IgnoreError();
    return absl::FailedPreconditionError(absl::StrCat(
        "the primary is at epoch ", channel.peer_auth().epoch, ", below this controller's ",
        mine.epoch, ": it is a former primary; not following it"));
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    channel_ = &channel;
  }
  struct Unregister {
    Follower* f;
    ~Unregister() {
      absl::MutexLock lock(&f->mu_);
      f->channel_ = nullptr;
    }
  } unregister{this};

  absl::StatusOr<journal::ChainHash> hash = HashAt(*journal_, mine.last_seq);
  if (!hash.ok()) return hash.status();
  if (absl::Status s = channel.Send(MessageType::kFollow, EncodeSeqHash({mine.last_seq, *hash}));
      !s.ok()) {
    return s;
  }
  bool announced = false;
  while (true) {
    absl::StatusOr<Message> m = channel.Receive(kPeerSilenceMs);
    if (!m.ok()) return m.status();
    const int64_t now = NowMs();
    uint64_t primary_last = 0;
    if (m->type == MessageType::kRefuse) {
      return absl::UnavailableError("the primary refused: " + m->payload);
    } else if (m->type == MessageType::kHeartbeat) {
      absl::StatusOr<uint64_t> last = DecodeU64(m->payload);
      if (!last.ok()) return last.status();
      primary_last = *last;
    } else if (m->type == MessageType::kRecords) {
      absl::StatusOr<RecordsMessage> records = DecodeRecords(m->payload);
      if (!records.ok()) return records.status();
      primary_last = records->last;
      std::vector<std::string> batch = std::move(records->records);
      size_t bytes = 0;
      for (const std::string& r : batch) bytes += r.size();
      // Take every RECORDS message already waiting, for one fsync, while the batch
      // surely fits (a message holds at most kRecordsFrameRecordsMax records).
      while (batch.size() + kRecordsFrameRecordsMax <= kStandbyAppendRecordsMax &&
             bytes <= kStandbyAppendBytesMax && channel.Readable()) {
        absl::StatusOr<Message> more = channel.Receive(kPeerSilenceMs);
        if (!more.ok()) return more.status();
        if (more->type == MessageType::kHeartbeat) {
          absl::StatusOr<uint64_t> last = DecodeU64(more->payload);
          if (!last.ok()) return last.status();
          primary_last = std::max(primary_last, *last);
          continue;
        }
        if (more->type != MessageType::kRecords) {
          return absl::InvalidArgumentError("unexpected message from the primary");
        }
        absl::StatusOr<RecordsMessage> next = DecodeRecords(more->payload);
        if (!next.ok()) return next.status();
        primary_last = std::max(primary_last, next->last);
        for (std::string& r : next->records) {
          bytes += r.size();
          batch.push_back(std::move(r));
        }
      }
      const size_t count = batch.size();
      absl::StatusOr<uint64_t> appended = sequencer_->AppendReplicated(std::move(batch));
      if (!appended.ok()) {
        return absl::Status(appended.status().code(),
                            absl::StrCat("records from the primary not appended: ",
                                         appended.status().message()));
      }
      absl::MutexLock lock(&mu_);
      received_ += count;
    } else {
      return absl::InvalidArgumentError("unexpected message from the primary");
    }
    const uint64_t applied = journal_->last_seq();
    {
      absl::MutexLock lock(&mu_);
      if (!announced) {
        announced = true;
        last_error_.clear();
        Log(absl::StrCat("following ", options_.primary, " from record ", mine.last_seq));
      }
      connected_ = true;
      last_contact_ms_ = now;
      primary_last_ = std::max(primary_last_, primary_last);
      if (applied >= primary_last_) {
        behind_since_ms_ = 0;
      } else if (behind_since_ms_ == 0) {
        behind_since_ms_ = now;
      }
    }
    if (absl::Status s = channel.Send(MessageType::kAck, EncodeU64(applied)); !s.ok()) return s;
  }
}

StandbyStats Follower::stats() const {
  StandbyStats s;
  s.applied_seq = journal_->last_seq();
  absl::MutexLock lock(&mu_);
  s.connected = connected_;
  s.primary_last_seq = primary_last_;
  s.lag_records = primary_last_ > s.applied_seq ? primary_last_ - s.applied_seq : 0;
  s.lag_ms = behind_since_ms_ == 0 || s.lag_records == 0 ? 0 : NowMs() - behind_since_ms_;
  s.last_contact_ms = last_contact_ms_;
  s.records_received = received_;
  s.last_error = last_error_;
  return s;
}

absl::StatusOr<uint64_t> Promote(Follower* follower, ctl::Sequencer* sequencer) {
  if (!sequencer->read_only()) {
    return absl::FailedPreconditionError("this controller is already the primary");
  }
  if (follower != nullptr) follower->Stop();
  const uint64_t state_epoch = sequencer->Read([](const state::State& s) { return s.epoch(); });
  const uint64_t epoch = std::max(sequencer->epoch(), state_epoch) + 1;
  sequencer->SetEpoch(epoch);
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Controller()};
  command.allowed_read_only = true;
  command.decide = [epoch](const state::State&, ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::EpochStarted, [epoch](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateEpochStarted(b, epoch).Union();
    });
    return absl::OkStatus();
  };
  absl::StatusOr<ctl::CommitResult> r = sequencer->Submit(std::move(command));
  if (!r.ok()) return r.status();
  sequencer->SetReadOnly("");
  return epoch;
}

}  // namespace almanac::replication
