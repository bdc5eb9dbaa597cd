// One authenticated, encrypted replication connection over a connected TCP socket
// (frames and handshake: ctl/replication/protocol.h).
//
// Handshake: send our hello, read the peer's, derive the session keys, send AUTH, read
// and decrypt the peer's AUTH, all within kHandshakeTimeoutMs. A peer without the
// identity fails at its AUTH frame (PermissionDenied, "... does not hold this
// controller's identity"); a peer not speaking the protocol fails at its hello
// (InvalidArgument). Both sides send AUTH before reading, so both learn of a mismatch.
//
// Thread safety: Send may be called from several threads (one lock); Receive from one
// thread at a time. Close may be called from any thread, to wake a blocked Receive.
#ifndef ALMANAC_CTL_REPLICATION_CHANNEL_H_
#define ALMANAC_CTL_REPLICATION_CHANNEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ctl/replication/protocol.h"
#include "ctl/zt/identity.h"

namespace almanac::replication {

class Channel {
 public:
  // Takes ownership of fd (closed by the destructor). On error fd is closed too.
  // Errors: InvalidArgument (a bad hello: not our protocol, same role), PermissionDenied
  // (the peer does not hold the identity), Unavailable (I/O, timeout, peer closed).
  static absl::StatusOr<std::unique_ptr<Channel>> Handshake(int fd, const zt::Identity& identity,
                                                            Role me, const AuthInfo& mine);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const AuthInfo& peer_auth() const { return peer_auth_; }
  const Hello& peer_hello() const { return peer_hello_; }

  // Sends one message. Unavailable on I/O errors (the connection is then unusable).
  absl::Status Send(MessageType type, std::string_view payload);

  // Receives one message, waiting at most timeout_ms (Unavailable "timed out" then, or
  // on EOF/I/O errors; InvalidArgument for a bad frame length; PermissionDenied for a
  // frame that does not authenticate). After any error the connection is unusable.
  absl::StatusOr<Message> Receive(int timeout_ms);

  // True when bytes wait to be read now (a Receive would not block for long, since a
  // peer writes whole frames). Never blocks.
  bool Readable() const;

  // Shuts the socket down: blocked Receive and Send calls return Unavailable.
  void Close();

 private:
  Channel(int fd, SessionKeys keys) : fd_(fd), keys_(keys) {}

  const int fd_;
  const SessionKeys keys_;
  AuthInfo peer_auth_;
  Hello peer_hello_;
  absl::Mutex send_mu_;
  uint64_t send_counter_ ABSL_GUARDED_BY(send_mu_) = 0;
  uint64_t receive_counter_ = 0;  // the one receiving thread's
  std::atomic<bool> closed_{false};
};

// Raw socket helpers, shared by the primary and the standby.
// Connects to "host:port" (IPv4 or a name) within timeout_ms. Unavailable on failure.
absl::StatusOr<int> ConnectTcp(const std::string& host_port, int timeout_ms);
// Writes all of bytes (MSG_NOSIGNAL). Unavailable on failure.
absl::Status WriteAll(int fd, std::string_view bytes);
// Reads exactly n bytes waiting at most timeout_ms in all. Unavailable on EOF, error,
// or timeout.
absl::StatusOr<std::string> ReadExactly(int fd, size_t n, int timeout_ms);

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_CHANNEL_H_
