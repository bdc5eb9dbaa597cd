// The HTTP side of GET /events (ctl/api/event_stream.h has the query and formats): a
// bounded number of streams at once, long polls, and follow streams written from the
// worker thread's content provider. Private to the api_server library.
//
// Nothing here takes the state lock: records come from the journal (Journal::Read and
// WaitForAfter), so a slow consumer can never stall the sequencer or other readers; the
// only thing it holds while its socket write waits is its own worker thread and one chunk.
//
// Thread safety: ServeEvents may run on many worker threads at once.
#ifndef ALMANAC_CTL_API_EVENTS_HTTP_H_
#define ALMANAC_CTL_API_EVENTS_HTTP_H_

#include <atomic>
#include <cstddef>

#include "ctl/api/metrics.h"
#include "journal/journal.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace almanac::api {

struct EventStreamContext {
  const journal::Journal* journal = nullptr;
  MetricsRegistry* metrics = nullptr;
  // Set by ApiServer::Stop: long polls and follow streams end within kEventWaitSliceMs.
  const std::atomic<bool>* stopping = nullptr;
  // /events requests running now (a follow stream counts until its response is gone).
  std::atomic<size_t>* open_streams = nullptr;
};

// Registers the stream metrics (gauge of open streams) once per server.
void RegisterEventMetrics(const EventStreamContext& context);

// Answers one authenticated request for /events. Sets res (status, headers, body or a
// chunked content provider that outlives this call; everything it captures must outlive
// the server's worker threads).
void ServeEvents(const EventStreamContext& context, const httplib::Request& req,
                 httplib::Response& res);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_EVENTS_HTTP_H_
