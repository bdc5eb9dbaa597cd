#include "ctl/zt/dictionary.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctl/zt/limits.h"

namespace almanac::zt {
namespace {

// The bytes the dictionary escapes, as a table: values are mostly binary credentials, and
// encoding them byte by byte with five comparisons each was ~8% of a config answer.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'\0', '\r', '\n', '\\', '='}) t[c] = true;
  return t;
}();

bool NeedsEscape(char c) { return kEscaped[static_cast<unsigned char>(c)]; }

// Appends `value` escaped: runs of plain bytes in one append each.
void AppendEscaped(std::string& out, std::string_view value) {
  size_t plain_from = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (!NeedsEscape(c)) continue;
    out.append(value.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    out.push_back('\\');
    switch (c) {
      case '\0': out.push_back('0'); break;
      case '\r': out.push_back('r'); break;
      case '\n': out.push_back('n'); break;
      case '=': out.push_back('e'); break;
      default: out.push_back(c);  // the backslash itself
    }
  }
  out.append(value.data() + plain_from, value.size() - plain_from);
}

absl::Status CheckKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("dictionary key is empty");
  if (key.size() > kDictionaryKeyBytesMax) {
    return absl::ResourceExhaustedError("dictionary key longer than kDictionaryKeyBytesMax");
  }
  for (char c : key) {
    if (c <= ' ' || c > '~' || c == '=' || c == '\\') {
      return absl::InvalidArgumentError("dictionary key has a byte that is not allowed");
    }
  }
  return absl::OkStatus();
}

// Unescapes one value. False on a lone trailing backslash.
bool Unescape(std::string_view in, std::string* out) {
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (++i == in.size()) return false;
      switch (in[i]) {
        case '0': c = '\0'; break;
        case 'r': c = '\r'; break;
        case 'n': c = '\n'; break;
        case 'e': c = '='; break;
        default: c = in[i];  // `\\` and anything else: the character itself.
      }
    }
    out->push_back(c);
  }
  return true;
}

}  // namespace

void AppendDictionaryValue(std::string& out, std::string_view value) {
  AppendEscaped(out, value);
}

size_t Dictionary::EntryBytes(std::string_view key, std::string_view value) {
  size_t n = key.size() + 1;
  for (char c : value) n += NeedsEscape(c) ? 2 : 1;
  return n;
}

absl::StatusOr<Dictionary> Dictionary::Parse(std::string_view encoded) {
  if (encoded.size() > kDictionaryBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "dictionary of ", encoded.size(), " bytes exceeds kDictionaryBytesMax"));
  }
  const size_t nul = encoded.find('\0');
  if (nul != std::string_view::npos) encoded = encoded.substr(0, nul);
  Dictionary d;
  size_t start = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = encoded.size();
    const std::string_view line = encoded.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("dictionary line without '='");
    }
    const std::string_view key = line.substr(0, eq);
    if (absl::Status s = CheckKey(key); !s.ok()) return s;
    if (d.Get(key).has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dictionary key '", std::string(key), "' repeated"));
    }
    if (d.entries_.size() >= kDictionaryKeysMax) {
      return absl::ResourceExhaustedError("dictionary has more than kDictionaryKeysMax keys");
    }
    std::string value;
    if (!Unescape(line.substr(eq + 1), &value)) {
      return absl::InvalidArgumentError("dictionary value ends in a lone backslash");
    }
    d.encoded_bytes_ += (d.entries_.empty() ? 0 : 1) + EntryBytes(key, value);
    d.entries_.emplace_back(std::string(key), std::move(value));
  }
  return d;
}

std::string Dictionary::Encode() const {
  std::string out;
  out.reserve(encoded_bytes_);
  for (const auto& [key, value] : entries_) {
    if (!out.empty()) out.push_back('\n');
    out.append(key);
    out.push_back('=');
    AppendEscaped(out, value);
  }
  return out;
}

absl::Status Dictionary::Set(std::string_view key, std::string_view value) {
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  const size_t added = EntryBytes(key, value);
  for (auto& [k, v] : entries_) {
    if (k != key) continue;
    const size_t bytes = encoded_bytes_ - EntryBytes(k, v) + added;
    if (bytes > kDictionaryBytesMax) {
      return absl::ResourceExhaustedError("dictionary would exceed kDictionaryBytesMax");
    }
    v = std::string(value);
    encoded_bytes_ = bytes;
    return absl::OkStatus();
  }
  if (entries_.size() >= kDictionaryKeysMax) {
    return absl::ResourceExhaustedError("dictionary would exceed kDictionaryKeysMax");
  }
  const size_t bytes = encoded_bytes_ + (entries_.empty() ? 0 : 1) + added;
  if (bytes > kDictionaryBytesMax) {
    return absl::ResourceExhaustedError("dictionary would exceed kDictionaryBytesMax");
  }
  entries_.emplace_back(std::string(key), std::string(value));
  encoded_bytes_ = bytes;
  return absl::OkStatus();
}

absl::Status Dictionary::SetUint64(std::string_view key, uint64_t value) {
  return Set(key, absl::StrFormat("%016x", value));
}

absl::Status Dictionary::SetBool(std::string_view key, bool value) {
  return Set(key, value ? "1" : "0");
}

std::optional<std::string_view> Dictionary::Get(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

absl::StatusOr<uint64_t> Dictionary::GetUint64(std::string_view key) const {
  const std::optional<std::string_view> v = Get(key);
  if (!v.has_value()) return absl::NotFoundError(absl::StrCat("no key '", std::string(key), "'"));
  if (v->empty() || v->size() > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("key '", std::string(key), "' is not a hex integer"));
  }
  uint64_t out = 0;
  for (char c : *v) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) {
      return absl::InvalidArgumentError(
        absl::StrCat("key '", std::string(key), "' is not a hex integer"));
    }
    out = (out << 4) | static_cast<uint64_t>(digit);
  }
  return out;
}

absl::StatusOr<bool> Dictionary::GetBool(std::string_view key) const {
  const std::optional<std::string_view> v = Get(key);
  if (!v.has_value()) return absl::NotFoundError(absl::StrCat("no key '", std::string(key), "'"));
  if (*v == "1") return true;
  if (*v == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat("key '", std::string(key), "' is not 1 or 0"));
}

}  // namespace almanac::zt
