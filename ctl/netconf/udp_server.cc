#include "ctl/netconf/udp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/thread_name.h"
#include "ctl/netconf/limits.h"
#include "ctl/zt/limits.h"

namespace almanac::netconf {
namespace {

constexpr int kPollTimeoutMs = 100;

zt::InetAddress FromSockaddr(const sockaddr_in& sa) {
  const uint8_t* ip = reinterpret_cast<const uint8_t*>(&sa.sin_addr.s_addr);
  return zt::InetAddress::Ipv4(ip[0], ip[1], ip[2], ip[3], ntohs(sa.sin_port));
}

absl::StatusOr<zt::World> LoadPlanet(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read planet ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto world = zt::ParseWorld(buffer.str());
  if (!world.ok()) return world.status();
  if (absl::Status s = zt::VerifyWorld(*world, world->update_signing_key); !s.ok()) return s;
  return world;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UdpServer>> StartNetconf(const NetconfOptions& options,
                                                        ctl::Sequencer* sequencer,
                                                        const zt::Identity& identity) {
  ALMANAC_CHECK(identity.has_secret());
  size_t colon = options.listen.rfind(':');
  uint32_t port = 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, options.listen.substr(0, colon).c_str(), &sa.sin_addr) != 1 ||
      !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad --zt-listen: ", options.listen));
  }
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ResponderOptions responder_options;
  responder_options.identity = identity;
  responder_options.telemetry = options.telemetry;
  if (!options.planet_path.empty()) {
    auto planet = LoadPlanet(options.planet_path);
    if (!planet.ok()) return planet.status();
    responder_options.planet = *std::move(planet);
  }
  std::unique_ptr<UdpServer> server(new UdpServer());
  // Worker threads of the responder wake the loop through this when results are ready.
  server->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (server->wake_fd_ < 0) {
    return absl::UnavailableError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  responder_options.wake = [fd = server->wake_fd_] {
    uint64_t one = 1;
    // EAGAIN: a wake is already pending, which is enough. (A (void) cast does not
    // silence warn_unused_result, which -c opt's _FORTIFY_SOURCE adds.)
    if (write(fd, &one, sizeof(one)) < 0) return;
  };
  server->fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (server->fd_ < 0 || bind(server->fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", options.listen, ": ",
                                               std::strerror(errno)));
  }
  socklen_t len = sizeof(sa);
  getsockname(server->fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  server->port_ = ntohs(sa.sin_port);
  server->clock_ = options.clock ? options.clock : [] { return absl::Now(); };
  server->responder_ = std::make_unique<Responder>(std::move(responder_options), sequencer);
  server->thread_ = std::thread([s = server.get()] {
    NameThisThread("zt-udp");
    s->Run();
  });
  return server;
}

UdpServer::~UdpServer() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  responder_.reset();  // stops the workers, which may still call wake
  if (fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void UdpServer::Run() {
  // One buffer per datagram of a receive batch (recvmmsg fills them all in one call).
  constexpr size_t kSlotBytes = zt::kDatagramBytesMax + 1;
  std::string buffers(kReceiveBatchMax * kSlotBytes, '\0');
  std::array<sockaddr_in, kReceiveBatchMax> sources{};
  std::array<iovec, kReceiveBatchMax> receive_iov{};
  std::array<mmsghdr, kReceiveBatchMax> receive{};
  for (size_t i = 0; i < kReceiveBatchMax; ++i) {
    receive_iov[i] = iovec{buffers.data() + i * kSlotBytes, kSlotBytes};
  }
  // Answers go out kSendBatchMax at a time in one sendmmsg: a sendto per datagram was an
  // eighth of an answer's cost. Sent as soon as that many wait, and at the end of each
  // receive batch, so an answer waits for at most kSendBatchMax - 1 others.
  std::vector<Datagram> pending;
  std::array<sockaddr_in, kSendBatchMax> destinations{};
  std::array<iovec, kSendBatchMax> send_iov{};
  std::array<mmsghdr, kSendBatchMax> send{};
  auto flush = [&] {
    size_t count = 0;
    for (const Datagram& d : pending) {
      if (d.to.family != zt::InetAddress::Family::kIpv4) continue;  // IPv6: not yet
      sockaddr_in& to = destinations[count];
      to = sockaddr_in{};
      to.sin_family = AF_INET;
      std::memcpy(&to.sin_addr.s_addr, d.to.bytes.data(), 4);
      to.sin_port = htons(d.to.port);
      send_iov[count] = iovec{const_cast<char*>(d.bytes.data()), d.bytes.size()};
      send[count] = mmsghdr{};
      send[count].msg_hdr.msg_name = &to;
      send[count].msg_hdr.msg_namelen = sizeof(to);
      send[count].msg_hdr.msg_iov = &send_iov[count];
      send[count].msg_hdr.msg_iovlen = 1;
      ++count;
    }
    for (size_t sent = 0; sent < count;) {
      int n = sendmmsg(fd_, send.data() + sent, static_cast<unsigned>(count - sent), 0);
      // A datagram the kernel refuses is like a lost one (the node asks again): skip it
      // and send the rest.
      sent += n > 0 ? static_cast<size_t>(n) : 1;
    }
    pending.clear();
  };
  auto queue = [&](std::vector<Datagram> out) {
    for (Datagram& d : out) {
      pending.push_back(std::move(d));
      if (pending.size() == kSendBatchMax) flush();
    }
  };
  // Tick's cadence is on the real clock: the responder's clock may be a test's fake one.
  absl::Time last_tick = absl::InfinitePast();
  while (!stopping_) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = poll(fds, 2, kPollTimeoutMs);
    bool woken = false;
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      uint64_t count = 0;
      // Tick below collects the results; a failed read leaves the count for the next poll.
      if (read(wake_fd_, &count, sizeof(count)) < 0) count = 0;
      woken = true;
    }
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      // Everything waiting, up to kReceiveBatchMax, in one call before polling again: one
      // poll and one Tick per datagram were a fifth of an answer's cost under load.
      for (size_t i = 0; i < kReceiveBatchMax; ++i) {
        receive[i] = mmsghdr{};
        receive[i].msg_hdr.msg_name = &sources[i];
        receive[i].msg_hdr.msg_namelen = sizeof(sources[i]);
        receive[i].msg_hdr.msg_iov = &receive_iov[i];
        receive[i].msg_hdr.msg_iovlen = 1;
      }
      // < 0: EAGAIN (nothing after all) or an error the next poll reports again.
      const int n = recvmmsg(fd_, receive.data(), kReceiveBatchMax, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < n && !stopping_; ++i) {
        if (sources[i].sin_family != AF_INET) continue;
        // Longer than a slot (truncated): kept as read, the reassembler drops it as oversized.
        const size_t bytes = std::min<size_t>(receive[i].msg_len, kSlotBytes);
        queue(responder_->Receive(std::string_view(buffers.data() + i * kSlotBytes, bytes),
                                  FromSockaddr(sources[i]), clock_()));
      }
    }
    const absl::Time now = absl::Now();
    if (woken || ready == 0 || now - last_tick >= kTickInterval) {
      last_tick = now;
      queue(responder_->Tick(clock_()));
    }
    flush();
  }
}

}  // namespace almanac::netconf
