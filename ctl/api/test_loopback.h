// Test-only: raw TCP clients of a server on 127.0.0.1, for tests that need sockets
// cpp-httplib's client cannot make (idle, half-sent, trickling connections).
#ifndef ALMANAC_CTL_API_TEST_LOOPBACK_H_
#define ALMANAC_CTL_API_TEST_LOOPBACK_H_

namespace almanac::api {

// A blocking TCP connection to 127.0.0.1:port, or -1 when it cannot connect.
int ConnectLoopback(int port);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_TEST_LOOPBACK_H_
