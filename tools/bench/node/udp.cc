#include "tools/bench/node/udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace almanac::bench {

absl::StatusOr<int> OpenUdpSocket() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  int buffer_bytes = 8 << 20;  // best effort: the kernel caps it at rmem_max
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("bind: ", std::strerror(e)));
  }
  return fd;
}

absl::StatusOr<sockaddr_in> ToSockaddr(const zt::InetAddress& address) {
  if (address.family != zt::InetAddress::Family::kIpv4) {
    return absl::InvalidArgumentError("only IPv4 controllers are supported");
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::memcpy(&sa.sin_addr.s_addr, address.bytes.data(), 4);
  sa.sin_port = htons(address.port);
  return sa;
}

absl::StatusOr<zt::InetAddress> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(std::string(text.substr(colon + 1)), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("not HOST:PORT: ", std::string(text)));
  }
  std::string host(text.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  in_addr ip{};
  if (inet_pton(AF_INET, host.c_str(), &ip) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", host));
  }
  const auto* b = reinterpret_cast<const uint8_t*>(&ip.s_addr);
  return zt::InetAddress::Ipv4(b[0], b[1], b[2], b[3], static_cast<uint16_t>(port));
}

bool SendDatagram(int fd, const sockaddr_in& to, std::string_view bytes) {
  ssize_t n = sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                     sizeof(to));
  return n == static_cast<ssize_t>(bytes.size());
}

}  // namespace almanac::bench
