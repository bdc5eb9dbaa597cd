#include "ctl/api/event_stream.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/limits.h"
#include "ctl/events/event_json.h"
#include "journal/limits.h"
#include "nlohmann/json.hpp"

namespace almanac::api {
namespace {

absl::Status ParamError(const std::string& name, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", problem));
}

// A decimal integer within [min, max].
absl::StatusOr<uint64_t> ParseNumber(const std::string& name, const std::string& text,
                                     uint64_t min, uint64_t max) {
  uint64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(text, &value)) {
    return ParamError(name, absl::StrCat("expected a whole number, got '",
                                         text.substr(0, 32), "'"));
  }
  if (value < min || value > max) {
    return ParamError(name, absl::StrCat("must be between ", min, " and ", max));
  }
  return value;
}

void PutBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian(const std::string& bytes, size_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return v;
}

void AppendFrameHeader(uint32_t length, uint8_t kind, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(length >> shift));
  }
  out->push_back(static_cast<char>(kind));
}

}  // namespace

absl::StatusOr<EventQuery> ParseEventQuery(
    const std::multimap<std::string, std::string>& params) {
  EventQuery q;
  q.limit = kEventResponseRecordsMax;
  q.heartbeat = absl::Seconds(kEventHeartbeatSecondsDefault);
  bool seen_after = false;
  for (const auto& [name, value] : params) {
    if (name == "auth") continue;  // the token, checked by the server
    if (name == "after") {
      if (seen_after) return ParamError(name, "given twice");
      seen_after = true;
      absl::StatusOr<uint64_t> v = ParseNumber(name, value, 0, journal::kSeqMax);
      if (!v.ok()) return v.status();
      q.after = *v;
    } else if (name == "type") {
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        const std::string word(absl::StripAsciiWhitespace(part));
        std::optional<schema::Body> type = events::TypeFromName(word);
        if (!type) {
          return ParamError(name, absl::StrCat("unknown record type '", word.substr(0, 64),
                                               "' (e.g. MemberAuthorized, NetworkCreated)"));
        }
        if (std::find(q.types.begin(), q.types.end(), *type) == q.types.end()) {
          q.types.push_back(*type);
        }
      }
    } else if (name == "network") {
      uint64_t nwid = 0;
      if (value.size() != 16 || value.find_first_not_of("0123456789abcdefABCDEF") !=
                                    std::string::npos ||
          !absl::SimpleHexAtoi(value, &nwid)) {
        return ParamError(name, "expected a network id (16 hex digits)");
      }
      if (q.nwid && *q.nwid != nwid) return ParamError(name, "given twice");
      q.nwid = nwid;
    } else if (name == "after_hash") {
      std::string bytes;
      if (value.size() != 64 || value.find_first_not_of("0123456789abcdefABCDEF") !=
                                    std::string::npos) {
        return ParamError(name, "expected a chain hash (64 hex digits)");
      }
      bytes = absl::HexStringToBytes(value);
      journal::ChainHash hash{};
      std::copy(bytes.begin(), bytes.end(), hash.begin());
      q.after_hash = hash;
    } else if (name == "limit") {
      absl::StatusOr<uint64_t> v = ParseNumber(name, value, 1, kEventResponseRecordsMax);
      if (!v.ok()) return v.status();
      q.limit = static_cast<size_t>(*v);
    } else if (name == "wait") {
      absl::StatusOr<uint64_t> v = ParseNumber(name, value, 0, kEventWaitSecondsMax);
      if (!v.ok()) return v.status();
      q.wait = absl::Seconds(static_cast<int64_t>(*v));
    } else if (name == "heartbeat") {
      absl::StatusOr<uint64_t> v = ParseNumber(name, value, 1, kEventHeartbeatSecondsMax);
      if (!v.ok()) return v.status();
      q.heartbeat = absl::Seconds(static_cast<int64_t>(*v));
    } else if (name == "follow") {
      if (value == "1" || value == "true") {
        q.follow = true;
      } else if (value == "0" || value == "false") {
        q.follow = false;
      } else {
        return ParamError(name, "expected 1 or 0");
      }
    } else if (name == "format") {
      if (value == "json") {
        q.format = EventFormat::kJson;
      } else if (value == "flatbuffers") {
        q.format = EventFormat::kFlatBuffers;
      } else {
        return ParamError(name, "expected json or flatbuffers");
      }
    } else {
      return ParamError(name.substr(0, 64), "unknown parameter");
    }
  }
  return q;
}

bool EventMatches(const EventQuery& query, const schema::Record& record) {
  if (!query.types.empty() && std::find(query.types.begin(), query.types.end(),
                                        record.body_type()) == query.types.end()) {
    return false;
  }
  if (query.nwid) {
    const events::EventObject object = events::ObjectOf(record);
    if (object.kind == "controller" || object.nwid != *query.nwid) return false;
  }
  return true;
}

absl::StatusOr<EventChunk> ReadEventChunk(const journal::Journal& journal,
                                          const EventQuery& query, uint64_t after,
                                          size_t records_max) {
  ALMANAC_CHECK(records_max >= 1);
  const uint64_t last = journal.last_seq();
  if (after > last) {
    return absl::OutOfRangeError(absl::StrCat(
        "after: ", after, " is past the journal's last record ", last,
        " (a position from another history? start again from a known seq)"));
  }
  const bool filtered = !query.types.empty() || query.nwid.has_value();
  EventChunk chunk;
  chunk.scanned = after;
  if (after > 0) {
    // The hash of the starting point: for heartbeats that scan nothing new, and to check
    // the consumer's after_hash.
    absl::StatusOr<std::vector<journal::StoredRecord>> start = journal.Read(after, 1);
    if (!start.ok()) return start.status();
    ALMANAC_CHECK(!start->empty() && start->front().seq == after);
    chunk.scanned_hash = start->front().chain_hash;
    if (query.after_hash && after == query.after && *query.after_hash != chunk.scanned_hash) {
      return absl::FailedPreconditionError(absl::StrCat(
          "after_hash: record ", after, " has chain hash ", journal::HashHex(chunk.scanned_hash),
          " here, not ", journal::HashHex(*query.after_hash),
          ": this controller's history is not the one followed so far (a failover that cut "
          "records?); start again from a known position"));
    }
  }
  size_t examined = 0;
  while (chunk.records < records_max && chunk.data.size() < kEventChunkBytesMax &&
         examined < kEventScanRecordsMax) {
    // Unfiltered, every record read is sent: read no more than can be sent.
    size_t want = std::min(journal::kReadRecordsMax, kEventScanRecordsMax - examined);
    if (!filtered) want = std::min(want, records_max - chunk.records);
    absl::StatusOr<std::vector<journal::StoredRecord>> records =
        journal.Read(chunk.scanned + 1, want);
    if (!records.ok()) return records.status();
    if (records->empty()) break;
    for (const journal::StoredRecord& r : *records) {
      if (chunk.records == records_max || chunk.data.size() >= kEventChunkBytesMax) break;
      // Journal::Read verified the bytes (Verifier and chain), so the root is safe.
      const schema::Record* record = schema::GetRecord(r.bytes.data());
      ALMANAC_CHECK(record->seq() == r.seq);
      if (EventMatches(query, *record)) {
        if (query.format == EventFormat::kJson) {
          nlohmann::json line = events::RecordJson(*record);
          line["chainHash"] = journal::HashHex(r.chain_hash);
          chunk.data += DumpJson(line);
          chunk.data.push_back('\n');
        } else {
          AppendRecordFrame(r.bytes, &chunk.data);
        }
        ++chunk.records;
      }
      chunk.scanned = r.seq;
      chunk.scanned_hash = r.chain_hash;
      ++examined;
    }
    if (records->back().seq != chunk.scanned) break;  // stopped inside this read
  }
  return chunk;
}

void AppendHeartbeat(EventFormat format, uint64_t scanned, const journal::ChainHash& hash,
                     uint64_t last_seq, std::string* out) {
  if (format == EventFormat::kJson) {
    *out += DumpJson(nlohmann::json{{"heartbeat", true},
                                    {"scanned", scanned},
                                    {"scannedHash", scanned == 0 ? "" : journal::HashHex(hash)},
                                    {"lastSeq", last_seq}});
    out->push_back('\n');
    return;
  }
  AppendFrameHeader(kHeartbeatPayloadBytes, kFrameHeartbeat, out);
  PutBigEndian64(scanned, out);
  PutBigEndian64(last_seq, out);
}

void AppendRecordFrame(const std::string& bytes, std::string* out) {
  ALMANAC_CHECK(!bytes.empty() && bytes.size() <= journal::kRecordBytesMax);
  AppendFrameHeader(static_cast<uint32_t>(bytes.size()), kFrameRecord, out);
  out->append(bytes);
}

absl::StatusOr<std::optional<EventFrame>> TakeEventFrame(std::string* buffer) {
  if (buffer->size() < kFrameHeaderBytes) return std::optional<EventFrame>();
  const uint64_t length = GetBigEndian(*buffer, 0, 4);
  const uint8_t kind = static_cast<uint8_t>((*buffer)[4]);
  if (kind == kFrameRecord) {
    if (length == 0 || length > journal::kRecordBytesMax) {
      return absl::DataLossError(absl::StrCat("event stream: record frame of ", length,
                                              " bytes (1..", journal::kRecordBytesMax,
                                              " allowed)"));
    }
  } else if (kind == kFrameHeartbeat) {
    if (length != kHeartbeatPayloadBytes) {
      return absl::DataLossError(absl::StrCat("event stream: heartbeat frame of ", length,
                                              " bytes (16 expected)"));
    }
  } else {
    return absl::DataLossError(absl::StrCat("event stream: unknown frame kind 0x",
                                            absl::Hex(kind, absl::kZeroPad2)));
  }
  if (buffer->size() - kFrameHeaderBytes < length) return std::optional<EventFrame>();
  EventFrame frame;
  frame.kind = kind;
  frame.payload = buffer->substr(kFrameHeaderBytes, length);
  buffer->erase(0, kFrameHeaderBytes + length);
  if (kind == kFrameHeartbeat) {
    frame.scanned = GetBigEndian(frame.payload, 0, 8);
    frame.last_seq = GetBigEndian(frame.payload, 8, 8);
  }
  return std::optional<EventFrame>(std::move(frame));
}

}  // namespace almanac::api
