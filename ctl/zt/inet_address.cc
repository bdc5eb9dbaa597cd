#include "ctl/zt/inet_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace almanac::zt {

InetAddress InetAddress::Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  InetAddress out;
  out.family = Family::kIpv4;
  out.bytes[0] = a;
  out.bytes[1] = b;
  out.bytes[2] = c;
  out.bytes[3] = d;
  out.port = port;
  return out;
}

InetAddress InetAddress::Ipv6(const std::array<uint8_t, 16>& ip, uint16_t port) {
  InetAddress out;
  out.family = Family::kIpv6;
  out.bytes = ip;
  out.port = port;
  return out;
}

std::string InetAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {0};
  switch (family) {
    case Family::kNone:
      return "";
    case Family::kIpv4:
      inet_ntop(AF_INET, bytes.data(), text, sizeof(text));
      break;
    case Family::kIpv6:
      inet_ntop(AF_INET6, bytes.data(), text, sizeof(text));
      break;
  }
  return absl::StrCat(text, "/", port);
}

absl::StatusOr<InetAddress> InetAddress::FromString(std::string_view text) {
  const size_t slash = text.rfind('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError("address text needs the form ip/port");
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(std::string(text.substr(slash + 1)), &port) || port > 0xffff) {
    return absl::InvalidArgumentError("address port must be 0..65535");
  }
  const std::string ip(text.substr(0, slash));
  InetAddress out;
  out.port = static_cast<uint16_t>(port);
  if (inet_pton(AF_INET, ip.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kIpv4;
    return out;
  }
  if (inet_pton(AF_INET6, ip.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kIpv6;
    return out;
  }
  return absl::InvalidArgumentError("address text has no valid IPv4 or IPv6 address");
}

void AppendInetAddress(std::string& out, const InetAddress& address) {
  switch (address.family) {
    case InetAddress::Family::kNone:
      out.push_back(0);
      return;
    case InetAddress::Family::kIpv4:
      out.push_back(4);
      out.append(reinterpret_cast<const char*>(address.bytes.data()), 4);
      break;
    case InetAddress::Family::kIpv6:
      out.push_back(6);
      out.append(reinterpret_cast<const char*>(address.bytes.data()), 16);
      break;
  }
  AppendUint(out, 2, address.port);
}

absl::StatusOr<InetAddress> ReadInetAddress(Reader& reader) {
  uint8_t type = 0;
  if (!reader.ReadU8(&type)) return absl::InvalidArgumentError("InetAddress truncated");
  InetAddress out;
  size_t ip_bytes = 0;
  switch (type) {
    case 0:
      return out;
    case 4:
      out.family = InetAddress::Family::kIpv4;
      ip_bytes = 4;
      break;
    case 6:
      out.family = InetAddress::Family::kIpv6;
      ip_bytes = 16;
      break;
    default:
      reader.Skip(reader.remaining() + 1);  // Poisons the reader: the rest is unparseable.
      return absl::InvalidArgumentError(absl::StrCat("InetAddress type ", type, " unknown"));
  }
  std::string_view ip;
  uint16_t port = 0;
  if (!reader.ReadBytes(ip_bytes, &ip) || !reader.ReadU16(&port)) {
    return absl::InvalidArgumentError("InetAddress truncated");
  }
  std::memcpy(out.bytes.data(), ip.data(), ip_bytes);
  out.port = port;
  return out;
}

}  // namespace almanac::zt
