// The UDP shell around the netconf Responder: one socket, one thread that receives
// (every waiting datagram, up to kReceiveBatchMax, in one recvmmsg between two polls),
// hands each datagram to the Responder, sends what it returns (kSendBatchMax datagrams per
// sendmmsg, the rest at the end of the batch), and calls Tick (root HELLOs, WHOIS expiry,
// config pushes) at least every kTickInterval under traffic, every 100 ms when idle, and
// at once when a responder worker (identity check, join) has finished something (an
// eventfd wakes the poll).
//
// Daemon wiring (almanacd): --zt-listen (default 0.0.0.0:9993; port 0 picks one, read it
// back with port()) and --planet (default <home>/planet):
//   auto server = netconf::StartNetconf({listen, planet_path, telemetry_sink}, &sequencer,
//                                       controller_identity);
// StartNetconf registers a sequencer listener; it may be called while the sequencer runs.
// Thread safety: port() and counters() from any thread; the destructor stops the thread.
#ifndef ALMANAC_CTL_NETCONF_UDP_SERVER_H_
#define ALMANAC_CTL_NETCONF_UDP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/netconf/responder.h"
#include "ctl/sequencer.h"
#include "ctl/zt/identity.h"

namespace almanac::netconf {

struct NetconfOptions {
  std::string listen = "0.0.0.0:9993";  // IPv4 "a.b.c.d:port"
  std::string planet_path;               // "" = no roots (tests, or a controller-only lab)
  TelemetrySink telemetry;               // may be empty
  std::function<absl::Time()> clock;     // empty = absl::Now (tests inject a fake one)
};

class UdpServer {
 public:
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  uint16_t port() const { return port_; }
  ResponderCounters counters() const { return responder_->counters(); }

 private:
  friend absl::StatusOr<std::unique_ptr<UdpServer>> StartNetconf(const NetconfOptions&,
                                                                  ctl::Sequencer*,
                                                                  const zt::Identity&);
  UdpServer() = default;
  void Run();

  int fd_ = -1;
  int wake_fd_ = -1;  // eventfd the responder's workers signal
  uint16_t port_ = 0;
  std::function<absl::Time()> clock_;
  std::unique_ptr<Responder> responder_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Binds the socket, reads and verifies the planet (if a path is given), and starts the
// thread. InvalidArgument: a bad listen address or planet file; NotFound: the planet file
// is missing; Unavailable: the socket cannot be bound. REQUIRES: identity.has_secret().
absl::StatusOr<std::unique_ptr<UdpServer>> StartNetconf(const NetconfOptions& options,
                                                        ctl::Sequencer* sequencer,
                                                        const zt::Identity& identity);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_UDP_SERVER_H_
