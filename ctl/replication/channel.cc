#include "ctl/replication/channel.h"

#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ctl/replication/limits.h"

namespace almanac::replication {

absl::Status WriteAll(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadExactly(int fd, size_t n, int timeout_ms) {
  std::string out(n, '\0');
  size_t done = 0;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  while (done < n) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return absl::UnavailableError("timed out waiting for the peer");
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    if (r == 0) return absl::UnavailableError("timed out waiting for the peer");
    const ssize_t got = ::recv(fd, out.data() + done, n - done, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return absl::UnavailableError("the peer closed the connection");
    if (got < 0) return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    done += static_cast<size_t>(got);
  }
  return out;
}

absl::StatusOr<int> ConnectTcp(const std::string& host_port, int timeout_ms) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("expected host:port, got ", host_port));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = host_port.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int e = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", host_port, ": ", gai_strerror(e)));
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("cannot connect to ", host_port));
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::freeaddrinfo(res);
      return fd;
    }
    last = absl::UnavailableError(
        absl::StrCat("connect to ", host_port, ": ", std::strerror(errno)));
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return last;
}

absl::StatusOr<std::unique_ptr<Channel>> Channel::Handshake(int fd, const zt::Identity& identity,
                                                            Role me, const AuthInfo& mine) {
  auto fail = [fd](absl::Status s) {
    ::close(fd);
    return s;
  };
  Hello hello;
  hello.role = me;
  hello.address = identity.address();
  randombytes_buf(hello.nonce.data(), hello.nonce.size());
  const std::string my_hello = EncodeHello(hello);
  if (absl::Status s = WriteAll(fd, my_hello); !s.ok()) return fail(s);
  absl::StatusOr<std::string> peer_bytes = ReadExactly(fd, kHelloBytes, kHandshakeTimeoutMs);
  if (!peer_bytes.ok()) return fail(peer_bytes.status());
  absl::StatusOr<Hello> peer = DecodeHello(*peer_bytes);
  if (!peer.ok()) return fail(peer.status());
  if (peer->role == me) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "the peer is also a ", me == Role::kPrimary ? "primary" : "standby")));
  }
  const std::string& standby_hello = me == Role::kStandby ? my_hello : *peer_bytes;
  const std::string& primary_hello = me == Role::kStandby ? *peer_bytes : my_hello;
  std::unique_ptr<Channel> channel(
      new Channel(fd, DeriveSessionKeys(identity, me, standby_hello, primary_hello)));
  channel->peer_hello_ = *peer;
  if (absl::Status s = channel->Send(MessageType::kAuth, EncodeAuth(mine)); !s.ok()) return s;
  absl::StatusOr<Message> auth = channel->Receive(kHandshakeTimeoutMs);
  const std::string who = absl::StrCat(
      "the peer (controller address ", absl::Hex(peer->address, absl::kZeroPad10),
      " in its hello; ours is ", absl::Hex(identity.address(), absl::kZeroPad10), ")");
  if (!auth.ok()) {
    if (auth.status().code() == absl::StatusCode::kPermissionDenied) {
      return absl::PermissionDeniedError(absl::StrCat(
          who, " does not hold this controller's identity: its AUTH frame does not "
          "authenticate; refused"));
    }
    return auth.status();
  }
  if (auth->type != MessageType::kAuth) {
    return absl::InvalidArgumentError("the peer's first frame is not AUTH");
  }
  absl::StatusOr<AuthInfo> info = DecodeAuth(auth->payload);
  if (!info.ok()) return info.status();
  channel->peer_auth_ = *info;
  return channel;
}

Channel::~Channel() { ::close(fd_); }

bool Channel::Readable() const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

void Channel::Close() {
  if (!closed_.exchange(true)) ::shutdown(fd_, SHUT_RDWR);
}

absl::Status Channel::Send(MessageType type, std::string_view payload) {
  absl::MutexLock lock(&send_mu_);
  const std::string frame = SealFrame(keys_.send, send_counter_++, type, payload);
  return WriteAll(fd_, frame);
}

absl::StatusOr<Message> Channel::Receive(int timeout_ms) {
  absl::StatusOr<std::string> header = ReadExactly(fd_, kFrameHeaderBytes, timeout_ms);
  if (!header.ok()) return header.status();
  absl::StatusOr<uint32_t> n = FrameLength(*header);
  if (!n.ok()) return n.status();
  // The body of an announced frame must follow promptly.
  absl::StatusOr<std::string> body = ReadExactly(fd_, *n, kPeerSilenceMs);
  if (!body.ok()) return body.status();
  return OpenFrame(keys_.receive, receive_counter_++, *header, *body);
}

}  // namespace almanac::replication
