#include "ctl/api/events_http.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ctl/api/event_stream.h"
#include "ctl/api/limits.h"
#include "ctl/api/status_http.h"
#include "httplib.h"

namespace almanac::api {
namespace {

const char* ContentType(EventFormat format) {
  return format == EventFormat::kJson ? "application/x-ndjson" : "application/octet-stream";
}

const char* FormatLabel(EventFormat format) {
  return format == EventFormat::kJson ? "json" : "flatbuffers";
}

void SetError(const absl::Status& status, httplib::Response& res) {
  res.status = HttpStatusFor(status);
  res.set_content(ErrorBody(status), "application/json");
}

// Holds one of the kEventStreamsMax places while alive (shared by a follow stream's
// content provider, so the place is given back when the response is destroyed).
class StreamSlot {
 public:
  explicit StreamSlot(std::atomic<size_t>* open) : open_(open) {}
  ~StreamSlot() { open_->fetch_sub(1); }
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;

 private:
  std::atomic<size_t>* open_;
};

Counter* RecordsSent(MetricsRegistry* m, EventFormat format) {
  return m->GetCounter("almanac_event_records_sent_total",
                       "Records sent to event stream consumers (GET /events).",
                       {{"format", FormatLabel(format)}});
}

Counter* Disconnects(MetricsRegistry* m, const char* reason) {
  return m->GetCounter("almanac_event_stream_disconnects_total",
                       "Follow streams ended by the server: write (the consumer stopped "
                       "reading or went away), error (a journal read failed).",
                       {{"reason", reason}});
}

// The long poll and the plain read: one bounded answer ending with a heartbeat.
void ServeOnce(const EventStreamContext& ctx, const EventQuery& q, httplib::Response& res) {
  const absl::Time deadline = absl::Now() + q.wait;
  uint64_t after = q.after;
  EventChunk chunk;
  while (true) {
    absl::StatusOr<EventChunk> read = ReadEventChunk(*ctx.journal, q, after, q.limit);
    if (!read.ok()) return SetError(read.status(), res);
    chunk = std::move(*read);
    after = chunk.scanned;
    if (chunk.records > 0) break;
    const absl::Time now = absl::Now();
    if (now >= deadline || ctx.stopping->load()) break;
    if (after < ctx.journal->last_seq()) continue;  // filters skipped a full scan
    ctx.journal->WaitForAfter(
        after, std::min(deadline - now, absl::Milliseconds(kEventWaitSliceMs)));
  }
  AppendHeartbeat(q.format, chunk.scanned, chunk.scanned_hash, ctx.journal->last_seq(),
                  &chunk.data);
  RecordsSent(ctx.metrics, q.format)->Add(chunk.records);
  res.status = 200;
  res.set_content(std::move(chunk.data), ContentType(q.format));
}

// A follow stream's position, owned by its content provider.
struct FollowState {
  EventQuery query;
  uint64_t after = 0;
  absl::Time last_write = absl::InfinitePast();  // the first call sends a heartbeat
  bool read_failed = false;                       // ended by a journal read error
};

void ServeFollow(const EventStreamContext& ctx, const EventQuery& q,
                 std::shared_ptr<StreamSlot> slot, httplib::Response& res) {
  // A position past the end or on another history is refused before the 200 goes out.
  if (q.after > ctx.journal->last_seq() || q.after_hash) {
    absl::StatusOr<EventChunk> check = ReadEventChunk(*ctx.journal, q, q.after, 1);
    if (!check.ok()) return SetError(check.status(), res);
  }
  auto state = std::make_shared<FollowState>();
  state->query = q;
  state->after = q.after;
  Counter* sent = RecordsSent(ctx.metrics, q.format);
  Counter* write_failed = Disconnects(ctx.metrics, "write");
  Counter* read_failed = Disconnects(ctx.metrics, "error");
  res.status = 200;
  res.set_chunked_content_provider(
      ContentType(q.format),
      [ctx, state, slot, sent, read_failed](size_t, httplib::DataSink& sink) {
        if (ctx.stopping->load()) {
          sink.done();
          return true;
        }
        const EventQuery& query = state->query;
        absl::StatusOr<EventChunk> chunk =
            ReadEventChunk(*ctx.journal, query, state->after, kEventResponseRecordsMax);
        if (!chunk.ok()) {
          read_failed->Add();
          state->read_failed = true;
          return false;  // closes the connection: the consumer resumes from its position
        }
        state->after = chunk->scanned;
        const absl::Time now = absl::Now();
        std::string data = std::move(chunk->data);
        if (data.empty() && now - state->last_write >= query.heartbeat) {
          AppendHeartbeat(query.format, state->after, chunk->scanned_hash,
                          ctx.journal->last_seq(), &data);
        }
        if (!data.empty()) {
          // Blocks at most the server's write timeout once the socket buffers are full
          // (cpp-httplib also waits that long for the socket to be writable before each
          // call); a failure is counted by the releaser below.
          if (!sink.write(data.data(), data.size())) return false;
          sent->Add(chunk->records);
          state->last_write = now;
          return true;
        }
        const absl::Duration until_heartbeat = query.heartbeat - (now - state->last_write);
        ctx.journal->WaitForAfter(
            state->after, std::min(until_heartbeat, absl::Milliseconds(kEventWaitSliceMs)));
        return true;
      },
      // Runs when the response is done with: success is false when the stream ended on a
      // failed write (the consumer stopped reading for the write timeout, or went away).
      [state, write_failed](bool success) {
        if (!success && !state->read_failed) write_failed->Add();
      });
}

}  // namespace

void RegisterEventMetrics(const EventStreamContext& ctx) {
  std::atomic<size_t>* open = ctx.open_streams;
  ctx.metrics->SetGauge("almanac_event_streams_open",
                        "GET /events requests running now (follow streams included).",
                        [open] { return static_cast<double>(open->load()); });
  ctx.metrics->GetCounter("almanac_event_streams_refused_total",
                          "GET /events refused with 429: kEventStreamsMax were running.");
  for (EventFormat f : {EventFormat::kJson, EventFormat::kFlatBuffers}) {
    RecordsSent(ctx.metrics, f);
  }
  Disconnects(ctx.metrics, "write");
  Disconnects(ctx.metrics, "error");
}

void ServeEvents(const EventStreamContext& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  if (req.method != "GET") {
    res.status = 405;
    res.set_header("Allow", "GET");
    res.set_content(ErrorBody(absl::InvalidArgumentError("/events: only GET")),
                    "application/json");
    return;
  }
  absl::StatusOr<EventQuery> query = ParseEventQuery(req.params);
  if (!query.ok()) return SetError(query.status(), res);
  if (ctx.open_streams->fetch_add(1) >= kEventStreamsMax) {
    ctx.open_streams->fetch_sub(1);
    ctx.metrics
        ->GetCounter("almanac_event_streams_refused_total",
                     "GET /events refused with 429: kEventStreamsMax were running.")
        ->Add();
    return SetError(absl::ResourceExhaustedError(absl::StrCat(
                        "events: ", kEventStreamsMax, " streams are open already; retry later")),
                    res);
  }
  auto slot = std::make_shared<StreamSlot>(ctx.open_streams);
  if (query->follow) return ServeFollow(ctx, *query, std::move(slot), res);
  ServeOnce(ctx, *query, res);
}

}  // namespace almanac::api
