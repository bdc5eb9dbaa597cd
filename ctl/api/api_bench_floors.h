// Floors under the admin API's durable POST rate (almanac-bench api): servers that answer
// the benchmark's requests doing nothing but what a durable answer cannot do without.
// Each batch of requests is one overwrite + fdatasync of 256 bytes per request in a
// zeroed file (journal_bench.h's ZeroedSyncFile: how the journal's log reaches the disk),
// and each answer is a 200 with `body_bytes` of filler (the benchmark passes the size of
// Almanac's answer to the same request). What the benchmark's clients get from these,
// next to what they get from Almanac in the same run, splits the gap between Almanac and
// the machine's limit into the cost of the front end's thread structure and the cost of
// its work (HTTP, JSON, deciding and journaling the change).
//
//   kOneThread: one thread waits on epoll over every connection, reads every request that
//     has arrived, makes them durable with one synced write, answers them all and waits
//     again. A request costs its share of an fsync and one wake-up of its client: the
//     most 8 closed-loop clients can get from this machine and disk.
//   kThreadPerRequest: Almanac's structure without its work. A thread per connection
//     reads a request, hands it to one committing thread through a CommitQueue
//     (journal/commit_queue.h) and sleeps until its batch is durable; the committer holds
//     each batch for the callers of the last one (journal/group_hold.h) as the sequencer
//     does. Per request: the client's wake-up, its reader's on the request and again on
//     the answer, and a share of the committer's.
//
// Requests are parsed only as far as the benchmark's own clients need (a head up to a
// blank line, Content-Length); a connection that sends more than kFloorRequestBytesMax
// without completing a request is closed. For benchmarks only: listens on 127.0.0.1.
#ifndef ALMANAC_CTL_API_API_BENCH_FLOORS_H_
#define ALMANAC_CTL_API_API_BENCH_FLOORS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "ctl/sequencer.h"

namespace almanac::api {

enum class FloorKind { kOneThread, kThreadPerRequest };

// Bytes of a request (head and body) a floor server buffers before closing the connection.
inline constexpr size_t kFloorRequestBytesMax = 64 * 1024;
// Connections a floor server serves at once; more are closed when accepted.
inline constexpr size_t kFloorConnectionsMax = 64;

class FloorServer {
 public:
  // Starts serving on an ephemeral port of 127.0.0.1, syncing to a file created in `dir`.
  // Errors: the socket, the file or a thread could not be made.
  static absl::StatusOr<std::unique_ptr<FloorServer>> Start(FloorKind kind,
                                                            const std::string& dir,
                                                            size_t body_bytes);
  // Stops serving: closes every connection and joins every thread.
  virtual ~FloorServer() = default;

  int port() const { return port_; }
  // Synced writes so far, and the requests they made durable (counted before their
  // answers are sent): their ratio is the batching factor.
  uint64_t syncs() const { return syncs_.load(); }
  uint64_t answered() const { return answered_.load(); }
  // kThreadPerRequest: where its committer's time went, in the sequencer's stages, to set
  // next to the sequencer's: nothing decides or applies here, and the committer starts
  // its hold with nothing queued, so what the sequencer counts as waiting it counts as
  // holding (compare waiting + holding). kOneThread: zero (batches == 0).
  ctl::SequencerStageTimes stage_times() const {
    std::lock_guard<std::mutex> lock(stages_mu_);
    return stages_;
  }

 protected:
  explicit FloorServer(int port) : port_(port) {}
  void AddStageTimes(const ctl::SequencerStageTimes& batch);

  const int port_;
  std::atomic<uint64_t> syncs_{0};     // counted by the serving threads
  std::atomic<uint64_t> answered_{0};

 private:
  mutable std::mutex stages_mu_;
  ctl::SequencerStageTimes stages_;  // guarded by stages_mu_
};

// A name for reports: "one thread (epoll)" or "thread per request".
const char* FloorName(FloorKind kind);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_API_BENCH_FLOORS_H_
