// The journal's stored bytes, byte by byte. Worked example: docs/journal-format.md.
//
// Storage: one RocksDB database, default column family only.
//
// Record entries (one per record, sequence numbers gap-free from 1):
//   key   = seq as 8 bytes, big-endian (so RocksDB's bytewise order is sequence order)
//   value = record bytes || chain_hash(seq)
//           record bytes: one FlatBuffers buffer, root almanac.schema.Record, file
//                         identifier "ALMR" at bytes 4..7 (schemas/events.fbs); its
//                         `seq` field equals the key and its `prev_hash` field holds
//                         chain_hash(seq - 1)
//           chain_hash:   the last kChainHashBytes (32) bytes of the value
//
// Chain rule:
//   chain_hash(0)   = 32 zero bytes
//   chain_hash(n)   = BLAKE2b-256(chain_hash(n - 1) || record bytes of n)
//                     (libsodium crypto_generichash, 32-byte output, no key)
// Storing chain_hash(n) beside record n lets each record be checked on its own: a
// changed byte in record n fails the recomputation AT n, not at n + 1.
//
// Meta entries: keys that begin with kMetaKeyPrefix (0xFF) and are longer than 8 bytes.
// Record keys never begin with 0xFF because seq < 2^63 (checked on append), so every
// meta key sorts after every record key, and a scan of records stops at the prefix.
//   kFormatKey  = 0xFF "almanac.journal.format"    value = ASCII "1" (kFormatVersion)
//                 written once when the journal is created.
//   kLastSeqKey = 0xFF "almanac.journal.last_seq"  value = last seq, 8 bytes big-endian
//                 rewritten in the same WriteBatch as every group of records, so a
//                 lost tail (records missing after the last one found) is detected too.
#ifndef ALMANAC_JOURNAL_RECORD_FORMAT_H_
#define ALMANAC_JOURNAL_RECORD_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace almanac::journal {

inline constexpr size_t kChainHashBytes = 32;
inline constexpr size_t kRecordKeyBytes = 8;
// Largest sequence number; keeps the key's first byte below kMetaKeyPrefix.
inline constexpr uint64_t kSeqMax = (uint64_t{1} << 63) - 1;

inline constexpr char kMetaKeyPrefix = '\xff';
inline constexpr std::string_view kFormatKey = "\xff" "almanac.journal.format";
inline constexpr std::string_view kLastSeqKey = "\xff" "almanac.journal.last_seq";
inline constexpr std::string_view kFormatVersion = "1";

// FlatBuffers file identifier of a Record buffer (schemas/events.fbs).
inline constexpr std::string_view kRecordFileIdentifier = "ALMR";

using ChainHash = std::array<uint8_t, kChainHashBytes>;

// chain_hash(0): the prev_hash of record 1.
inline constexpr ChainHash kZeroChainHash{};

// The 8-byte big-endian key of a record. REQUIRES: 1 <= seq <= kSeqMax.
std::string RecordKey(uint64_t seq);

// Decodes an 8-byte big-endian number (a record key or the kLastSeqKey value).
// REQUIRES: bytes.size() == 8.
uint64_t DecodeBigEndian64(std::string_view bytes);

// chain_hash(n) from chain_hash(n - 1) and the record bytes of n.
ChainHash ComputeChainHash(const ChainHash& prev_hash, std::string_view record_bytes);

// The stored value of a record: record bytes followed by its chain hash.
std::string StoredValue(std::string_view record_bytes, const ChainHash& chain_hash);

// Lowercase hex of a hash, for messages and docs.
std::string HashHex(const ChainHash& hash);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_RECORD_FORMAT_H_
