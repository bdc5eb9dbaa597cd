// Test fixture for the admin API: a real journal and sequencer in $TEST_TMPDIR, telemetry,
// and an ApiServer on 127.0.0.1 port 0, driven over HTTP with httplib::Client.
#ifndef ALMANAC_CTL_API_API_TEST_ENV_H_
#define ALMANAC_CTL_API_API_TEST_ENV_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "ctl/api/api_server.h"
#include "ctl/sequencer.h"
#include "ctl/telemetry.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "journal/journal.h"
#include "nlohmann/json.hpp"

namespace almanac::api {

inline constexpr uint64_t kTestController = 0x949cb95e9dULL;
inline constexpr char kTestToken[] = "0123456789abcdefghijklmn";

struct HttpResult {
  int status = 0;           // 0: no response (connection error)
  std::string body;
  nlohmann::json json;      // discarded when the body is not JSON
  std::string header_allow;
};

class ApiServerTestBase : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Changes the server's options before SetUp starts it (a fixture's own limits).
  virtual void AdjustServerOptions(ApiServerOptions*) {}

  // Requests with the right token in X-ZT1-Auth.
  HttpResult Get(const std::string& path);
  HttpResult Post(const std::string& path, const std::string& body);
  HttpResult Put(const std::string& path, const std::string& body);
  HttpResult Delete(const std::string& path);
  HttpResult Patch(const std::string& path, const std::string& body);
  // A request with exactly these headers (no token added).
  HttpResult GetWithHeaders(const std::string& path, const httplib::Headers& headers);

  uint64_t last_seq() const { return journal_->last_seq(); }
  // Creates a network with the given body; returns its id text.
  std::string CreateNetwork(const std::string& body);

  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  std::unique_ptr<ctl::Telemetry> telemetry_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;

  // What the server's peers callback answers (GET /peer).
  void SetPeers(nlohmann::json peers);

 private:
  // The server's worker threads read peers_. A test's write and a worker's read are ordered
  // only by the HTTP round trip through the kernel, which ThreadSanitizer does not count as
  // synchronization; the mutex makes the ordering visible to it.
  absl::Mutex peers_mu_;
  nlohmann::json peers_ ABSL_GUARDED_BY(peers_mu_) = nlohmann::json::array();
};

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_API_TEST_ENV_H_
