#include "tools/bench/node/simulator.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/messages.h"
#include "tools/bench/node/limits.h"
#include "tools/bench/node/udp.h"

namespace almanac::bench {
namespace {

struct Due {
  absl::Time when;
  size_t member;
};

struct MemberState {
  std::optional<SimMember> sim;
  size_t socket = 0;
  bool hello_ok = false;
  bool done = false;
  uint64_t hello_id = 0;
  std::map<uint64_t, absl::Time> request_sent;             // packet id -> when
  std::map<uint64_t, std::vector<std::string>> chunks;    // update id -> chunk bodies
  std::map<uint64_t, uint64_t> chunk_request;             // update id -> request id
};

struct Socket {
  int fd = -1;
  zt::Reassembler reassembler;
  std::deque<Due> hellos_due;
  double tokens = 0;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

class Simulation {
 public:
  Simulation(const SimulatorOptions& options, sockaddr_in to) : options_(options), to_(to) {}

  absl::Status Start();
  SimulationReport Run();

 private:
  void SendHellos(Socket& socket, size_t index, absl::Time now);
  void SendRequest(size_t member, absl::Time now);
  void ResendRequests(absl::Time now);
  void Drain(Socket& socket, absl::Time now);
  void OnPacket(std::string packet, absl::Time now);
  void OnChunk(size_t member, uint64_t in_re, std::string chunk, absl::Time now);
  void Finish(size_t member, SimStatus status, std::string detail, absl::Time now,
              uint64_t request_id);

  const SimulatorOptions& options_;
  const sockaddr_in to_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<MemberState> members_;
  absl::flat_hash_map<uint64_t, size_t> by_address_;
  std::deque<Due> requests_due_;
  SimulationReport report_;
  size_t done_ = 0;
};

absl::Status Simulation::Start() {
  for (size_t i = 0; i < options_.sockets; ++i) {
    auto fd = OpenUdpSocket();
    if (!fd.ok()) return fd.status();
    sockets_.push_back(std::make_unique<Socket>());
    sockets_.back()->fd = *fd;
    sockets_.back()->tokens = options_.hellos_per_second_per_socket;
  }
  members_.resize(options_.members.size());
  report_.members.resize(options_.members.size());
  const absl::Time now = absl::Now();
  for (size_t i = 0; i < options_.members.size(); ++i) {
    auto sim = SimMember::Make(options_.members[i], options_.controller);
    if (!sim.ok()) return sim.status();
    members_[i].sim = *std::move(sim);
    members_[i].socket = i % sockets_.size();
    by_address_[members_[i].sim->address()] = i;
    report_.members[i].address = members_[i].sim->address();
    report_.members[i].nwid = options_.nwids[i];
    sockets_[members_[i].socket]->hellos_due.push_back({now, i});
  }
  return absl::OkStatus();
}

void Simulation::SendHellos(Socket& socket, size_t index, absl::Time now) {
  (void)index;
  while (!socket.hellos_due.empty() && socket.tokens >= 1) {
    Due due = socket.hellos_due.front();
    MemberState& m = members_[due.member];
    if (m.hello_ok || m.done) {
      socket.hellos_due.pop_front();
      continue;
    }
    if (due.when > now) break;
    socket.hellos_due.pop_front();
    m.hello_id = zt::RandomPacketId();
    SendDatagram(socket.fd, to_,
                 m.sim->Hello(m.hello_id, options_.controller_physical,
                              static_cast<uint64_t>(absl::ToUnixMillis(now))));
    ++report_.hellos_sent;
    socket.tokens -= 1;
    socket.hellos_due.push_back({now + kSimRetryInterval, due.member});
  }
}

void Simulation::SendRequest(size_t member, absl::Time now) {
  MemberState& m = members_[member];
  uint64_t id = zt::RandomPacketId();
  m.request_sent[id] = now;
  SendDatagram(sockets_[m.socket]->fd, to_, m.sim->ConfigRequest(id, options_.nwids[member]));
  ++report_.requests_sent;
  requests_due_.push_back({now + kSimRetryInterval, member});
}

void Simulation::ResendRequests(absl::Time now) {
  while (!requests_due_.empty() && requests_due_.front().when <= now) {
    size_t member = requests_due_.front().member;
    requests_due_.pop_front();
    if (!members_[member].done) SendRequest(member, now);
  }
}

void Simulation::Drain(Socket& socket, absl::Time now) {
  char buffer[zt::kDatagramBytesMax + 64];
  for (;;) {
    ssize_t n = recv(socket.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) return;
    auto packet = socket.reassembler.Add("controller", std::string_view(buffer, n), now);
    if (packet) OnPacket(*std::move(packet), now);
  }
}

void Simulation::OnPacket(std::string packet, absl::Time now) {
  auto header = zt::ParseHeader(packet);
  if (!header.ok()) return;
  auto it = by_address_.find(header->destination);
  if (it == by_address_.end()) return;
  const size_t member = it->second;
  MemberState& m = members_[member];
  auto reply = m.sim->Open(std::move(packet));
  if (!reply.ok()) {
    ++report_.packets_rejected;
    return;
  }
  if (reply->verb == zt::Verb::kNetworkConfig) {
    ++report_.pushes_seen;
    return;
  }
  if (reply->verb == zt::Verb::kOk && reply->in_re_verb == zt::Verb::kHello) {
    if (reply->in_re_packet_id == m.hello_id && !m.hello_ok) {
      m.hello_ok = true;
      SendRequest(member, now);
    }
    return;
  }
  if (reply->in_re_verb != zt::Verb::kNetworkConfigRequest || m.done ||
      m.request_sent.count(reply->in_re_packet_id) == 0) {
    return;  // late or not ours: a real node drops OKs it did not ask for
  }
  if (reply->verb == zt::Verb::kOk) {
    return OnChunk(member, reply->in_re_packet_id, std::move(reply->chunk), now);
  }
  if (reply->verb != zt::Verb::kError) return;
  switch (static_cast<zt::ErrorCode>(reply->error_code)) {
    case zt::ErrorCode::kNetworkAccessDenied:
      return Finish(member, SimStatus::kAccessDenied, "", now, reply->in_re_packet_id);
    case zt::ErrorCode::kObjNotFound:
      return Finish(member, SimStatus::kNotFound, "", now, reply->in_re_packet_id);
    default:
      return Finish(member, SimStatus::kOtherError,
                    absl::StrCat("error code ", reply->error_code), now,
                    reply->in_re_packet_id);
  }
}

void Simulation::OnChunk(size_t member, uint64_t in_re, std::string chunk, absl::Time now) {
  MemberState& m = members_[member];
  auto place = PeekChunk(chunk);
  if (!place.ok()) {
    return Finish(member, SimStatus::kBadConfig, std::string(place.status().message()), now,
                  in_re);
  }
  std::vector<std::string>& chunks = m.chunks[place->update_id];
  if (chunks.size() >= kSimChunksPerConfigMax) {
    return Finish(member, SimStatus::kBadConfig, "too many chunks", now, in_re);
  }
  chunks.push_back(std::move(chunk));
  auto summary = m.sim->CheckConfig(options_.nwids[member], chunks);
  if (absl::IsFailedPrecondition(summary.status())) return;  // more chunks due
  if (!summary.ok()) {
    return Finish(member, SimStatus::kBadConfig, std::string(summary.status().message()), now,
                  in_re);
  }
  report_.members[member].config = *std::move(summary);
  Finish(member, SimStatus::kOk, "", now, in_re);
}

void Simulation::Finish(size_t member, SimStatus status, std::string detail, absl::Time now,
                        uint64_t request_id) {
  MemberState& m = members_[member];
  MemberResult& r = report_.members[member];
  r.status = status;
  r.detail = std::move(detail);
  r.latency = now - m.request_sent[request_id];
  m.done = true;
  m.chunks.clear();
  ++done_;
}

SimulationReport Simulation::Run() {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.timeout;
  std::vector<pollfd> fds;
  for (const auto& s : sockets_) fds.push_back(pollfd{s->fd, POLLIN, 0});
  absl::Time last_refill = start;
  while (done_ < members_.size()) {
    absl::Time now = absl::Now();
    if (now >= deadline) break;
    const double refill = absl::ToDoubleSeconds(now - last_refill) *
                          options_.hellos_per_second_per_socket;
    last_refill = now;
    for (size_t i = 0; i < sockets_.size(); ++i) {
      Socket& s = *sockets_[i];
      s.tokens = std::min(s.tokens + refill, options_.hellos_per_second_per_socket);
      SendHellos(s, i, now);
    }
    ResendRequests(now);
    poll(fds.data(), fds.size(), 10);
    now = absl::Now();
    for (auto& s : sockets_) Drain(*s, now);
  }
  report_.elapsed = absl::Now() - start;
  return std::move(report_);
}

}  // namespace

const char* SimStatusName(SimStatus status) {
  switch (status) {
    case SimStatus::kNoAnswer: return "NO_ANSWER";
    case SimStatus::kOk: return "OK";
    case SimStatus::kAccessDenied: return "ACCESS_DENIED";
    case SimStatus::kNotFound: return "NOT_FOUND";
    case SimStatus::kOtherError: return "ERROR";
    case SimStatus::kBadConfig: return "BAD_CONFIG";
  }
  return "?";
}

absl::StatusOr<SimulationReport> RunSimulation(const SimulatorOptions& options) {
  if (options.members.empty() || options.members.size() > kSimMembersMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("members: ", options.members.size(), " (1..", kSimMembersMax, ")"));
  }
  if (options.nwids.size() != options.members.size()) {
    return absl::InvalidArgumentError("one network id per member is needed");
  }
  if (options.sockets == 0 || options.sockets > kSimSocketsMax ||
      options.hellos_per_second_per_socket <= 0) {
    return absl::InvalidArgumentError("sockets or HELLO rate out of range");
  }
  auto to = ToSockaddr(options.controller_physical);
  if (!to.ok()) return to.status();
  Simulation simulation(options, *to);
  if (absl::Status s = simulation.Start(); !s.ok()) return s;
  return simulation.Run();
}

}  // namespace almanac::bench
