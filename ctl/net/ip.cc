#include "ctl/net/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace almanac::net {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Quotes outside text for an error message; it is already bounded by kIpTextBytesMax
// (or cut here), and control bytes are escaped so a log line stays one line.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  size_t shown = 0;
  for (char c : text) {
    if (++shown > kIpTextBytesMax) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += "\"";
  return out;
}

absl::Status NotAnAddress(std::string_view text, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("not an IPv4 or IPv6 address: ", Quote(text), " (", why, ")"));
}

// Strict dotted quad: four parts, each 1..3 decimal digits, value <= 255, and no
// leading zero (inet_aton would read "010" as octal 8; we refuse rather than guess).
absl::StatusOr<uint32_t> ParseV4(std::string_view text) {
  uint32_t value = 0;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') {
        return NotAnAddress(text, "IPv4 needs four parts separated by dots");
      }
      ++pos;
    }
    const size_t start = pos;
    uint32_t octet = 0;
    while (pos < text.size() && IsDigit(text[pos]) && pos - start < 4) {
      octet = octet * 10 + static_cast<uint32_t>(text[pos] - '0');
      ++pos;
    }
    const size_t digits = pos - start;
    if (digits == 0) return NotAnAddress(text, absl::StrCat("IPv4 part ", part + 1, " is empty"));
    if (digits > 3 || octet > 255) {
      return NotAnAddress(text, absl::StrCat("IPv4 part ", part + 1, " is above 255"));
    }
    if (digits > 1 && text[start] == '0') {
      return NotAnAddress(text, absl::StrCat("IPv4 part ", part + 1, " has a leading zero"));
    }
    value = (value << 8) | octet;
  }
  if (pos != text.size()) return NotAnAddress(text, "unexpected text after the IPv4 address");
  return value;
}

absl::StatusOr<std::array<uint8_t, 16>> ParseV6(std::string_view text) {
  // inet_pton does the RFC 4291 grammar; we only make sure it sees a plain C string of
  // the characters that grammar allows (no NUL inside, no zone id, no spaces).
  for (char c : text) {
    const bool ok = IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                    c == ':' || c == '.';
    if (!ok) return NotAnAddress(text, "unexpected character in IPv6 address");
  }
  char buffer[kIpTextBytesMax + 1];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, buffer, bytes.data()) != 1) {
    return NotAnAddress(text, "malformed IPv6 address");
  }
  return bytes;
}

// Decimal prefix length without sign or leading zero; range-checked by the caller.
absl::StatusOr<int> ParseBits(std::string_view whole, std::string_view digits) {
  if (digits.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("missing prefix length: ", Quote(whole)));
  }
  int bits = 0;
  for (char c : digits) {
    if (!IsDigit(c) || bits > 999) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix length is not a decimal number: ", Quote(whole)));
    }
    bits = bits * 10 + (c - '0');
  }
  if (digits.size() > 1 && digits[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix length has a leading zero: ", Quote(whole)));
  }
  return bits;
}

}  // namespace

IpAddress IpAddress::V4(uint32_t value) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  a.bytes_[0] = static_cast<uint8_t>(value >> 24);
  a.bytes_[1] = static_cast<uint8_t>(value >> 16);
  a.bytes_[2] = static_cast<uint8_t>(value >> 8);
  a.bytes_[3] = static_cast<uint8_t>(value);
  return a;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty()) return NotAnAddress(text, "empty");
  if (text.size() > kIpTextBytesMax) return NotAnAddress(text, "too long");
  if (text.find('/') != std::string_view::npos) {
    return NotAnAddress(text, "a prefix length is not allowed here");
  }
  if (text.find(':') != std::string_view::npos) {
    auto bytes = ParseV6(text);
    if (!bytes.ok()) return bytes.status();
    return V6(*bytes);
  }
  if (text.find('.') != std::string_view::npos) {
    auto value = ParseV4(text);
    if (!value.ok()) return value.status();
    return V4(*value);
  }
  return NotAnAddress(text, "neither dots nor colons");
}

uint32_t IpAddress::v4() const {
  ALMANAC_CHECK(is_v4());
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) |
         (uint32_t{bytes_[2]} << 8) | uint32_t{bytes_[3]};
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN];
  const int af = is_v4() ? AF_INET : AF_INET6;
  const char* text = inet_ntop(af, bytes_.data(), buffer, sizeof(buffer));
  ALMANAC_CHECK(text != nullptr);  // Only fails for a bad family or a short buffer.
  return std::string(text);
}

IpAddress IpAddress::MaskedTo(int bits) const {
  ALMANAC_CHECK(bits >= 0 && bits <= bits_max());
  IpAddress out = *this;
  for (int i = 0; i < 16; ++i) {
    const int keep = bits - i * 8;  // Bits of byte i that stay.
    if (keep >= 8) continue;
    out.bytes_[i] = keep <= 0 ? 0 : static_cast<uint8_t>(out.bytes_[i] & (0xff << (8 - keep)));
  }
  return out;
}

absl::StatusOr<IpPrefix> IpPrefix::Make(const IpAddress& address, int bits) {
  if (bits < 0 || bits > address.bits_max()) {
    return absl::InvalidArgumentError(absl::StrCat("prefix length ", bits,
                                                   " out of range for ",
                                                   address.is_v4() ? "IPv4" : "IPv6"));
  }
  return IpPrefix(address, bits);
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  if (text.size() > kIpTextBytesMax) return NotAnAddress(text, "too long");
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing prefix length (like 10.0.0.0/8): ", Quote(text)));
  }
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) return address.status();
  auto bits = ParseBits(text, text.substr(slash + 1));
  if (!bits.ok()) return bits.status();
  return Make(*address, *bits);
}

IpPrefix IpPrefix::Masked() const { return IpPrefix(address_.MaskedTo(bits_), bits_); }

bool IpPrefix::Contains(const IpAddress& ip) const {
  return ip.family() == address_.family() && ip.MaskedTo(bits_) == address_.MaskedTo(bits_);
}

std::string IpPrefix::ToString() const {
  return absl::StrCat(address_.ToString(), "/", bits_);
}

}  // namespace almanac::net
