#include "tools/bench/node/load.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/messages.h"
#include "tools/bench/node/limits.h"
#include "tools/bench/node/sim_member.h"
#include "tools/bench/node/simulator.h"
#include "tools/bench/node/udp.h"

namespace almanac::bench {
namespace {

constexpr size_t kLoadSockets = 4;
// Datagrams read per recvmmsg. The load generator shares the machine with the responder:
// a syscall per datagram each way made it the slower side on 2 cores.
constexpr size_t kReceiveBatch = 32;
constexpr size_t kSlotBytes = zt::kDatagramBytesMax + 64;
// A round's stragglers are given up this long after the last answer.
constexpr absl::Duration kRoundGiveUp = absl::Seconds(1);

struct InFlight {
  size_t member;
  absl::Time sent;
  uint64_t bytes = 0;  // dictionary bytes received so far
};

class Load {
 public:
  explicit Load(const LoadOptions& options) : options_(options) {}
  ~Load() {
    for (int fd : fds_) close(fd);
  }
  absl::Status Start(sockaddr_in to);
  LoadResult Run();

 private:
  void Round();
  // Builds a member's request; FlushSends sends every one queued, one sendmmsg a socket.
  void Send(size_t member);
  void FlushSends();
  void Drain(size_t socket, absl::Time now);
  void Handle(size_t socket, std::string_view datagram, absl::Time now);

  const LoadOptions& options_;
  sockaddr_in to_{};
  std::vector<int> fds_;
  std::vector<std::vector<std::string>> sends_;  // per socket, until FlushSends
  std::string receive_buffers_ = std::string(kReceiveBatch * kSlotBytes, '\0');
  std::vector<std::unique_ptr<zt::Reassembler>> reassemblers_;
  std::vector<SimMember> members_;
  absl::flat_hash_map<uint64_t, size_t> by_address_;
  absl::flat_hash_map<uint64_t, InFlight> in_flight_;  // by request packet id
  std::vector<absl::Duration> latencies_;
  LoadResult result_;
  absl::Time last_progress_;
};

absl::Status Load::Start(sockaddr_in to) {
  to_ = to;
  for (size_t i = 0; i < kLoadSockets; ++i) {
    auto fd = OpenUdpSocket();
    if (!fd.ok()) return fd.status();
    fds_.push_back(*fd);
    sends_.emplace_back();
    reassemblers_.push_back(std::make_unique<zt::Reassembler>());
  }
  for (const zt::Identity& identity : options_.members) {
    auto sim = SimMember::Make(identity, options_.controller);
    if (!sim.ok()) return sim.status();
    by_address_[sim->address()] = members_.size();
    members_.push_back(*std::move(sim));
  }
  return absl::OkStatus();
}

void Load::Send(size_t member) {
  const uint64_t id = zt::RandomPacketId();
  std::string packet = members_[member].ConfigRequest(id, options_.nwid);
  in_flight_[id] = InFlight{member, absl::Now()};
  sends_[member % fds_.size()].push_back(std::move(packet));
}

void Load::FlushSends() {
  for (size_t socket = 0; socket < fds_.size(); ++socket) {
    std::vector<std::string>& packets = sends_[socket];
    std::vector<iovec> iov(packets.size());
    std::vector<mmsghdr> messages(packets.size());
    for (size_t i = 0; i < packets.size(); ++i) {
      iov[i] = iovec{packets[i].data(), packets[i].size()};
      messages[i].msg_hdr.msg_name = &to_;
      messages[i].msg_hdr.msg_namelen = sizeof(to_);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    // A refused datagram is a lost request: the round gives it up after kRoundGiveUp.
    for (size_t sent = 0; sent < packets.size();) {
      int n = sendmmsg(fds_[socket], messages.data() + sent,
                       static_cast<unsigned>(packets.size() - sent), 0);
      sent += n > 0 ? static_cast<size_t>(n) : 1;
    }
    packets.clear();
  }
}

void Load::Drain(size_t socket, absl::Time now) {
  std::array<iovec, kReceiveBatch> iov;
  std::array<mmsghdr, kReceiveBatch> messages;
  for (;;) {
    for (size_t i = 0; i < kReceiveBatch; ++i) {
      iov[i] = iovec{receive_buffers_.data() + i * kSlotBytes, kSlotBytes};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fds_[socket], messages.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      Handle(socket,
             std::string_view(receive_buffers_.data() + i * kSlotBytes,
                              std::min<size_t>(messages[i].msg_len, kSlotBytes)),
             now);
    }
    if (static_cast<size_t>(n) < kReceiveBatch) return;
  }
}

void Load::Handle(size_t socket, std::string_view datagram, absl::Time now) {
  auto packet = reassemblers_[socket]->Add("c", datagram, now);
  if (!packet) return;
  auto header = zt::ParseHeader(*packet);
  if (!header.ok()) return;
  auto member = by_address_.find(header->destination);
  if (member == by_address_.end()) return;
  auto reply = members_[member->second].Open(*std::move(packet));
  if (!reply.ok() || reply->in_re_verb != zt::Verb::kNetworkConfigRequest) return;
  auto it = in_flight_.find(reply->in_re_packet_id);
  if (it == in_flight_.end()) return;
  last_progress_ = now;
  if (reply->verb == zt::Verb::kOk) {
    auto place = PeekChunk(reply->chunk);
    if (place.ok() && (it->second.bytes += place->data_bytes) < place->total_bytes) return;
    if (place.ok()) {
      ++result_.answered;
      latencies_.push_back(now - it->second.sent);
    } else {
      ++result_.unanswered;
    }
  } else {
    ++result_.unanswered;  // an ERROR: the population is wrong
  }
  in_flight_.erase(it);
}

void Load::Round() {
  options_.step_clock();
  size_t next = 0;
  last_progress_ = absl::Now();
  std::vector<pollfd> fds;
  for (int fd : fds_) fds.push_back(pollfd{fd, POLLIN, 0});
  while (next < members_.size() || !in_flight_.empty()) {
    while (next < members_.size() && in_flight_.size() < options_.window) Send(next++);
    FlushSends();
    poll(fds.data(), fds.size(), 1);
    const absl::Time now = absl::Now();
    for (size_t s = 0; s < fds_.size(); ++s) Drain(s, now);
    if (now - last_progress_ > kRoundGiveUp) {
      result_.unanswered += in_flight_.size();
      in_flight_.clear();
      last_progress_ = now;
    }
  }
}

LoadResult Load::Run() {
  const absl::Time start = absl::Now();
  do {
    Round();
  } while (absl::Now() - start < options_.duration);
  result_.elapsed = absl::Now() - start;
  if (!latencies_.empty()) {
    std::sort(latencies_.begin(), latencies_.end());
    result_.latency_p50 = latencies_[latencies_.size() / 2];
    result_.latency_p99 = latencies_[std::min(latencies_.size() - 1,
                                              latencies_.size() * 99 / 100)];
  }
  return result_;
}

}  // namespace

absl::Status WarmUp(const LoadOptions& options) {
  SimulatorOptions sim;
  sim.controller_physical = options.controller_physical;
  sim.controller = options.controller;
  sim.members = options.members;
  sim.nwids.assign(options.members.size(), options.nwid);
  sim.sockets = kLoadSockets;
  sim.hellos_per_second_per_socket = 40;
  sim.timeout = absl::Seconds(60 + options.members.size() / 20);
  std::atomic<bool> done{false};
  std::thread stepper([&] {
    while (!done.load()) {
      options.step_clock();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  auto report = RunSimulation(sim);
  done = true;
  stepper.join();
  if (!report.ok()) return report.status();
  size_t ok = 0;
  for (const MemberResult& m : report->members) ok += m.status == SimStatus::kOk;
  if (ok != report->members.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(ok, " of ", report->members.size(), " members got a valid config"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options) {
  if (options.members.empty() || options.members.size() > kSimMembersMax ||
      options.window == 0 || !options.step_clock) {
    return absl::InvalidArgumentError("load: members, window or clock missing");
  }
  auto to = ToSockaddr(options.controller_physical);
  if (!to.ok()) return to.status();
  Load load(options);
  if (absl::Status s = load.Start(*to); !s.ok()) return s;
  return load.Run();
}

}  // namespace almanac::bench
