// api_bench: the admin API's throughput and latency (almanac-bench api), against the disk's
// fdatasync rate it is bounded by.
//
// Set-up: an in-process ApiServer + Sequencer + Journal in a fresh directory on a real disk
// (under /var/tmp unless --dir; the journal opened as almanacd opens it, with its zeroed
// log spare, unless --zeroed-logs=false), one network with N members (default 100,000) created
// through the sequencer directly in large batches (not N HTTP calls). Then, with 1 and with
// 8 keep-alive connections (TCP_NODELAY on the client too, so only the server could stall;
// --client=raw, the default: a minimal client that sends each request in one write and
// blocks in recv, so the clients sharing the machine take little of the server's CPU;
// --client=httplib: cpp-httplib's client, as scripts built on it call the API):
//   - durable authorize/deauthorize POSTs (each a real change, answered after its fsync):
//     requests/s, p50, p99;
//   - GET of one member: requests/s, p50, p99;
//   - the whole member list, both /controller/network/<nwid>/member and the /unstable/...
//     form with every member object: p50, p99 (and bytes).
//   - the floors under the 8-connection POST rate (ctl/api/api_bench_floors.h): the same
//     clients and POSTs against a server that only syncs and answers, on one thread
//     (what this machine allows) and with Almanac's thread per request (what that
//     structure allows); then --rounds (6) paired rounds of 1.5 s of Almanac's POSTs and
//     1.5 s of the thread-per-request floor's, back to back, order alternating: Almanac's
//     share of the floor, which the disk's drift cannot flatter;
// Under each 8-connection POST row and after the paired rounds, where the committing
// thread's time went per batch (ctl/sequencer.h's stages: waiting and holding for callers,
// deciding, writing, applying, answering), the sequencer's and the floor committer's, read
// over the middle of each phase: their difference says which part of the cycle Almanac's
// work lengthens (session 10: gathering the callers back, i.e. the HTTP round trips).
// Also prints the journal's commands per fsync (group commit is why the durable POST rate
// can be several times the disk's fdatasync rate) and that rate itself: write + fdatasync
// of 256-byte records on the same disk, one second before and one after the POSTs, since
// on a virtual disk it drifts from minute to minute. Ends with the targets, each
// with the figure it was judged on and "met" or "NOT met": 10,000 POSTs/s over 8
// connections with p99 under 5 ms, no keep-alive stall (every POST and GET-one-member
// phase's p99 under 40 ms), the member map listed in under 300 ms.
//
// Thread safety: RunApiBench is a whole program's main; call it once.
#ifndef ALMANAC_CTL_API_API_BENCH_H_
#define ALMANAC_CTL_API_API_BENCH_H_

namespace almanac::api {

// argv[0] is "api"; flags: --dir=D --members=N --seconds=S (per timed phase) --rounds=N
// --client=raw|httplib --zeroed-logs=true|false.
// Returns the process exit code (0 ok, 1 failure, 2 usage).
int RunApiBench(int argc, char** argv);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_API_BENCH_H_
