// GET /events: the journal as a stream for outside consumers (billing, alerting, SIEM;
// shared/docs/design.md, "Event stream consumers"), without HTTP: the query, the filter,
// reading one bounded chunk, and the two wire formats. api_server.cc serves it.
//
// Query parameters (anything else but auth= is refused with 400, so a typo is not a
// silently unfiltered stream):
//   after=<seq>        records with seq > after (default 0: from the first record). An
//                      after past the journal's last record is 400: that position came
//                      from another history (a restored or failed-over controller), and
//                      waiting for the seq to come round again would hand out different
//                      records under numbers the consumer has already seen.
//   type=<T>[,<T>...]  only these record types (schema names, e.g. MemberAuthorized);
//                      may repeat. An unknown name is 400.
//   network=<nwid>     only records about this network and its members (16 hex digits).
//   after_hash=<hex>   the chain hash (64 hex digits) of record `after` as the consumer saw
//                      it. When this journal's record `after` has another hash the answer
//                      is 409: this controller's history is not the one the consumer
//                      followed (e.g. a failover cut off records it had already seen).
//   limit=<n>          at most n records in a non-follow answer (1..kEventResponseRecordsMax,
//                      the default).
//   wait=<seconds>     long poll: when nothing matches after `after` yet, wait up to this
//                      long (0..kEventWaitSecondsMax) for a matching record.
//   follow=1           hold the answer open (chunked) and send records as they are
//                      appended, with a heartbeat after heartbeat= seconds (1..
//                      kEventHeartbeatSecondsMax, default kEventHeartbeatSecondsDefault)
//                      without anything else to send.
//   format=json|flatbuffers
// Limits are in ctl/api/limits.h: streams at once (429 past it), records and bytes per
// answer or chunk, records scanned per answer, and how a consumer that stops reading is
// disconnected.
//
// Positions. Records are durable before they are streamed (the journal's Read returns
// only synced records), and within one answer they come in seq order with no gap except
// those the filters make. A heartbeat says how far the stream has looked: every record
// with seq <= scanned was sent or filtered out, so a consumer may resume with
// after=scanned. A non-follow answer always ends with one heartbeat; a follow stream
// sends one whenever heartbeat= seconds passed without a write.
//
// format=json (Content-Type application/x-ndjson): one JSON object per line, "\n"-ended.
//   event:     ctl/events/event_json.h RecordJson plus the record's chain hash, e.g.
//              {"actor":{...},"body":{...},"chainHash":"<64 hex>","epoch":1,"seq":812,
//               "time":"...","timeMs":...,"type":"MemberAuthorized","network":"...",
//               "member":"..."}
//   heartbeat: {"heartbeat":true,"lastSeq":<journal's last seq>,"scanned":<seq>,
//               "scannedHash":"<chain hash of record scanned, 64 hex; "" for 0>"}
// A consumer that keeps the hash of its position and sends it as after_hash learns when
// the controller's history changed under it instead of silently reading another one.
// An event line has "seq"; a heartbeat line has "heartbeat" and never "seq".
//
// format=flatbuffers (Content-Type application/octet-stream): a sequence of frames,
//   offset 0  4 bytes  length L of the payload, unsigned, big-endian
//   offset 4  1 byte   kind: 0x52 'R' record, 0x48 'H' heartbeat (others: reserved;
//                      a reader must stop on one, not skip it)
//   offset 5  L bytes  payload
// 'R': the record's FlatBuffers bytes exactly as the journal stores them (schemas/
//      events.fbs, journal/record_format.h), so a consumer can run the same verifier
//      (journal/record.h VerifyRecord) and recompute the chain hash; 1 <= L <=
//      kRecordBytesMax. The seq is inside the record.
// 'H': L = 16: scanned (8 bytes, big-endian) then the journal's last seq (8 bytes, BE).
// Example: a heartbeat after record 3 of 7 is the 21 bytes
//   00 00 00 10  48  00 00 00 00 00 00 00 03  00 00 00 00 00 00 00 07
//
// Thread safety: pure functions, except ReadEventChunk, which reads the journal (any
// thread).
#ifndef ALMANAC_CTL_API_EVENT_STREAM_H_
#define ALMANAC_CTL_API_EVENT_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "journal/journal.h"
#include "schemas/events_generated.h"

namespace almanac::api {

enum class EventFormat { kJson, kFlatBuffers };

struct EventQuery {
  uint64_t after = 0;
  std::vector<schema::Body> types;  // empty: every type
  std::optional<uint64_t> nwid;     // engaged: only this network's records
  std::optional<journal::ChainHash> after_hash;  // engaged: record `after` must have it
  size_t limit = 0;                 // records per non-follow answer
  absl::Duration wait = absl::ZeroDuration();
  bool follow = false;
  absl::Duration heartbeat = absl::Seconds(5);
  EventFormat format = EventFormat::kJson;
};

// Parses the query parameters above (as cpp-httplib hands them: name -> value, names may
// repeat). InvalidArgument "<param>: <problem>" for anything unknown, malformed or out of
// range.
absl::StatusOr<EventQuery> ParseEventQuery(const std::multimap<std::string, std::string>& params);

// True when the record passes the query's type and network filters.
bool EventMatches(const EventQuery& query, const schema::Record& record);

// What one read produced: the encoded matching records, how many, and the seq of the last
// record examined (== the `after` it started from when there was nothing new).
struct EventChunk {
  std::string data;
  size_t records = 0;
  uint64_t scanned = 0;
  journal::ChainHash scanned_hash{};  // chain hash of record `scanned` (zeros for 0)
};

// Reads the records after `after` that the journal has, keeping the matching ones
// encoded in query.format, until records_max matched, kEventChunkBytesMax bytes were
// encoded (always at least one record), kEventScanRecordsMax were examined, or the
// journal's end. Never waits. Errors: OutOfRange when after > journal.last_seq();
// FailedPrecondition when query.after_hash is set and after == query.after but record
// `after` has another chain hash; DataLoss for a record that fails verification.
// REQUIRES: records_max >= 1.
absl::StatusOr<EventChunk> ReadEventChunk(const journal::Journal& journal,
                                          const EventQuery& query, uint64_t after,
                                          size_t records_max);

// Appends a heartbeat line or frame (the frame does not carry the hash: a flatbuffers
// consumer has the records' prev_hash).
void AppendHeartbeat(EventFormat format, uint64_t scanned, const journal::ChainHash& hash,
                     uint64_t last_seq, std::string* out);

// The flatbuffers format's frames (see the top of this file).
inline constexpr size_t kFrameHeaderBytes = 5;
inline constexpr uint8_t kFrameRecord = 0x52;     // 'R'
inline constexpr uint8_t kFrameHeartbeat = 0x48;  // 'H'
inline constexpr size_t kHeartbeatPayloadBytes = 16;

struct EventFrame {
  uint8_t kind = 0;
  std::string payload;
  // For heartbeats (kind kFrameHeartbeat): the two numbers.
  uint64_t scanned = 0;
  uint64_t last_seq = 0;
};

// Appends one record frame. REQUIRES: 1 <= bytes.size() <= kRecordBytesMax.
void AppendRecordFrame(const std::string& bytes, std::string* out);

// Takes the first whole frame off the front of *buffer (a consumer's receive buffer).
// nullopt when the buffer holds only part of a frame. DataLoss for an unknown kind, a
// record length of 0 or over kRecordBytesMax, or a heartbeat that is not 16 bytes; the
// stream cannot be trusted past that point. A record payload is NOT verified here: run
// journal::VerifyRecord on it.
absl::StatusOr<std::optional<EventFrame>> TakeEventFrame(std::string* buffer);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_EVENT_STREAM_H_
