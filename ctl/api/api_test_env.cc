#include "ctl/api/api_test_env.h"

#include "base/testing.h"

namespace almanac::api {
namespace {

HttpResult Convert(const httplib::Result& r) {
  HttpResult out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  out.header_allow = r->get_header_value("Allow");
  return out;
}

httplib::Headers Auth() { return {{"X-ZT1-Auth", kTestToken}}; }

}  // namespace

void ApiServerTestBase::SetUp() {
  auto journal = journal::Journal::Open(testing::MakeTempDir("api") + "/journal",
                                        journal::JournalOptions{});
  ASSERT_TRUE(journal.ok()) << journal.status();
  journal_ = std::move(*journal);
  ctl::SequencerOptions options;
  options.clock_ms = [] { return int64_t{1795818880722}; };
  sequencer_ = std::make_unique<ctl::Sequencer>(journal_.get(), state::State{}, options);
  telemetry_ = std::make_unique<ctl::Telemetry>();
  ApiServerOptions api;
  api.listen_port = 0;
  api.auth_token = kTestToken;
  api.controller_address = kTestController;
  api.controller_identity_public = "949cb95e9d:0:ff05";
  api.peers = [this] {
    absl::MutexLock lock(&peers_mu_);
    return peers_;
  };
  api.clock_ms = [] { return int64_t{1795818880999}; };
  AdjustServerOptions(&api);
  auto server = ApiServer::Start(api, sequencer_.get(), telemetry_.get());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  ASSERT_GT(server_->port(), 0);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  client_->set_read_timeout(30, 0);
  client_->set_write_timeout(30, 0);
  client_->set_keep_alive(true);
}

void ApiServerTestBase::TearDown() {
  client_.reset();
  if (server_) server_->Stop();
  server_.reset();
  sequencer_.reset();
  journal_.reset();
}

void ApiServerTestBase::SetPeers(nlohmann::json peers) {
  absl::MutexLock lock(&peers_mu_);
  peers_ = std::move(peers);
}

HttpResult ApiServerTestBase::Get(const std::string& path) {
  return Convert(client_->Get(path.c_str(), Auth()));
}
HttpResult ApiServerTestBase::Post(const std::string& path, const std::string& body) {
  return Convert(client_->Post(path.c_str(), Auth(), body, "application/json"));
}
HttpResult ApiServerTestBase::Put(const std::string& path, const std::string& body) {
  return Convert(client_->Put(path.c_str(), Auth(), body, "application/json"));
}
HttpResult ApiServerTestBase::Delete(const std::string& path) {
  return Convert(client_->Delete(path.c_str(), Auth()));
}
HttpResult ApiServerTestBase::Patch(const std::string& path, const std::string& body) {
  return Convert(client_->Patch(path.c_str(), Auth(), body, "application/json"));
}
HttpResult ApiServerTestBase::GetWithHeaders(const std::string& path,
                                             const httplib::Headers& headers) {
  return Convert(client_->Get(path.c_str(), headers));
}

std::string ApiServerTestBase::CreateNetwork(const std::string& body) {
  HttpResult r = Post("/controller/network", body);
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200 || !r.json.is_object()) return "";
  return r.json["id"].get<std::string>();
}

}  // namespace almanac::api
