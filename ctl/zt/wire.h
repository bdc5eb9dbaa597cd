// Big-endian byte reading and writing shared by the ctl/zt codecs
// (shared/docs/zerotier-protocol.md: "All integers on the wire are big-endian").
//
// Reader walks a borrowed byte string and never reads past its end: a read that does
// not fit fails, leaves the output untouched and makes ok() false for good, so a codec
// can read a whole structure and check ok() once. Not thread-safe (one per parse).
#ifndef ALMANAC_CTL_ZT_WIRE_H_
#define ALMANAC_CTL_ZT_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <string_view>

namespace almanac::zt {

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool ok() const { return ok_; }
  size_t offset() const { return offset_; }
  size_t remaining() const { return ok_ ? bytes_.size() - offset_ : 0; }

  // Reads a big-endian unsigned integer of `width` bytes (1..8) into *out.
  bool ReadUint(size_t width, uint64_t* out) {
    if (!Need(width)) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) {
      v = (v << 8) | static_cast<uint8_t>(bytes_[offset_ + i]);
    }
    offset_ += width;
    *out = v;
    return true;
  }
  bool ReadU8(uint8_t* out) {
    uint64_t v;
    if (!ReadUint(1, &v)) return false;
    *out = static_cast<uint8_t>(v);
    return true;
  }
  bool ReadU16(uint16_t* out) {
    uint64_t v;
    if (!ReadUint(2, &v)) return false;
    *out = static_cast<uint16_t>(v);
    return true;
  }
  bool ReadU64(uint64_t* out) { return ReadUint(8, out); }

  // Borrows the next n bytes (valid as long as the bytes given to the constructor).
  bool ReadBytes(size_t n, std::string_view* out) {
    if (!Need(n)) return false;
    *out = bytes_.substr(offset_, n);
    offset_ += n;
    return true;
  }
  bool Skip(size_t n) {
    std::string_view ignored;
    return ReadBytes(n, &ignored);
  }
  // The unread rest; the reader is then at its end.
  std::string_view ReadRest() {
    std::string_view rest = ok_ ? bytes_.substr(offset_) : std::string_view();
    offset_ = bytes_.size();
    return rest;
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || n > bytes_.size() - offset_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  size_t offset_ = 0;
  bool ok_ = true;
};

// Appends the low `width` bytes (1..8) of v, big-endian.
inline void AppendUint(std::string& out, size_t width, uint64_t v) {
  for (size_t i = width; i > 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * (i - 1))) & 0xff));
  }
}

// Writes the low `width` bytes of v big-endian at p[0..width).
inline void StoreUint(char* p, size_t width, uint64_t v) {
  for (size_t i = width; i > 0; --i) {
    p[i - 1] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// Reads `width` big-endian bytes at p.
inline uint64_t LoadUint(const char* p, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_WIRE_H_
