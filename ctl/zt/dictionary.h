// ZeroTier's Dictionary: the key=value text format of NETWORK_CONFIG_REQUEST metadata
// and of network configs (shared/docs/zerotier-protocol.md §4 "Dictionary", §5).
//
// Format: `key=value` entries joined by `\n` (no trailing newline when encoded). In
// values, NUL is written `\0`, CR `\r`, LF `\n`, backslash `\\`, and `=` `\e`; any other
// escaped character stands for itself. Integers are lowercase hex (16 digits when Almanac
// writes them; up to 16 accepted), booleans `1`/`0`, binary values raw bytes escaped the
// same way. A raw NUL ends the dictionary (ZeroTier treats it as a C string).
//
// Bounded by kDictionaryBytesMax (encoded size), kDictionaryKeysMax and
// kDictionaryKeyBytesMax. Parsing hostile input never crashes: it returns a Status.
// A value type; thread-compatible.
#ifndef ALMANAC_CTL_ZT_DICTIONARY_H_
#define ALMANAC_CTL_ZT_DICTIONARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <string_view>

namespace almanac::zt {

// Appends `value` escaped as Encode writes values (for callers that encode a dictionary
// straight into bytes, such as the netconf encoder's per-network parts).
void AppendDictionaryValue(std::string& out, std::string_view value);

class Dictionary {
 public:
  Dictionary() = default;

  // Parses encoded bytes. Empty lines (and CR line ends) are skipped.
  // InvalidArgument: a line without `=`, an empty key, a key with bytes other than
  // printable ASCII, a duplicate key, or a value ending in a lone backslash.
  // ResourceExhausted: input over kDictionaryBytesMax, more than kDictionaryKeysMax
  // keys, or a key over kDictionaryKeyBytesMax.
  static absl::StatusOr<Dictionary> Parse(std::string_view encoded);

  // The encoded form, entries in insertion (or parse) order. Its size is encoded_bytes().
  std::string Encode() const;

  // Adds a key, or replaces its value (keeping its position).
  // InvalidArgument: key empty, not printable ASCII, or containing `=` or `\`.
  // ResourceExhausted: the limits above would be exceeded; the dictionary is unchanged.
  absl::Status Set(std::string_view key, std::string_view value);
  absl::Status SetUint64(std::string_view key, uint64_t value);  // 16 hex digits.
  absl::Status SetBool(std::string_view key, bool value);        // "1" or "0".

  // The raw (unescaped) value, or nullopt when the key is absent.
  std::optional<std::string_view> Get(std::string_view key) const;
  // NotFound: absent. InvalidArgument: not 1..16 hex digits.
  absl::StatusOr<uint64_t> GetUint64(std::string_view key) const;
  // NotFound: absent. InvalidArgument: not "1" or "0".
  absl::StatusOr<bool> GetBool(std::string_view key) const;

  const std::vector<std::pair<std::string, std::string>>& entries() const {
    return entries_;
  }
  size_t size() const { return entries_.size(); }
  size_t encoded_bytes() const { return encoded_bytes_; }

 private:
  static size_t EntryBytes(std::string_view key, std::string_view value);

  std::vector<std::pair<std::string, std::string>> entries_;
  size_t encoded_bytes_ = 0;
};

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_DICTIONARY_H_
