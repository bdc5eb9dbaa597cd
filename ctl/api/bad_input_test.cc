// Goal: hostile input never changes state. Method: a few valid requests (whose events are
// counted), then more than 40 hostile ones (malformed and truncated JSON, deep nesting, a
// 10 MB body, wrong types, bogus addresses and ids, injection-looking strings); each must
// get a 4xx, and afterwards the journal holds exactly the valid requests' events and the
// objects read back unchanged.
#include <string>
#include <vector>

#include "ctl/api/api_test_env.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

using nlohmann::json;

struct Hostile {
  std::string method;
  std::string path;
  std::string body;
  int status;
};

class BadInputTest : public ApiServerTestBase {};

TEST_F(BadInputTest, HostileRequestsChangeNothing) {
  // Valid requests: create (1 event), rename (1), no-op (0), member create+authorize (2).
  const std::string id = CreateNetwork(R"({"name":"before"})");
  const std::string net = "/controller/network/" + id;
  const std::string member = net + "/member/73d8c8d12f";
  ASSERT_EQ(Post(net, R"({"name":"valid"})").status, 200);
  ASSERT_EQ(Post(net, R"({"name":"valid"})").status, 200);
  ASSERT_EQ(Post(member, R"({"authorized":true})").status, 200);
  ASSERT_EQ(last_seq(), 4u);
  const json network_before = Get(net).json;
  const json member_before = Get(member).json;

  const std::string deep(100000, '[');
  const std::vector<Hostile> cases = {
      {"POST", net, "{", 400},
      {"POST", net, R"({"name":)", 400},
      {"POST", net, R"({"name":"x")", 400},
      {"POST", net, R"({"name":"x",})", 400},
      {"POST", net, deep, 400},
      {"POST", net, R"({"rules":)" + std::string(5000, '[') + std::string(5000, ']') + "}", 400},
      {"POST", net, std::string(10 << 20, ' ') + "{}", 413},
      {"POST", net, "null", 400},
      {"POST", net, R"("string")", 400},
      {"POST", net, "[1,2]", 400},
      {"POST", net, "\xff\xfe{}", 400},
      {"POST", net, R"({"name":"\ud800"})", 400},
      {"POST", net, R"({"mtu":"big"})", 400},
      {"POST", net, R"({"mtu":1e3})", 400},
      {"POST", net, R"({"multicastLimit":null})", 400},
      {"POST", net, R"({"private":"maybe"})", 400},
      {"POST", net, R"({"private":"TRUE"})", 400},
      {"POST", net, R"({"enableBroadcast":0})", 400},
      {"POST", net, R"({"name":")" + std::string(2000, 'x') + R"("})", 400},
      {"POST", net, R"({"name":"ok","routes":"10.0.0.0/8"})", 400},
      {"POST", net, R"({"routes":[{"target":"10.0.0.0/8; DROP TABLE networks"}]})", 400},
      {"POST", net, R"({"routes":[{"target":"' OR 1=1 --"}]})", 400},
      {"POST", net,
       R"({"ipAssignmentPools":[{"ipRangeStart":"10.0.0.9","ipRangeEnd":"10.0.0.1"}]})", 400},
      {"POST", net, R"({"rules":[{"type":"<script>alert(1)</script>"}]})", 400},
      {"POST", net, R"({"rules":[{"type":"MATCH_ETHERTYPE","etherType":-1}]})", 400},
      {"POST", net, R"({"rules":5})", 400},
      {"POST", net, R"({"capabilities":[{"id":"x","rules":[]}]})", 400},
      {"POST", net, R"({"tags":[{"id":1e40}]})", 400},
      {"POST", net, R"j({"dns":{"domain":"a","servers":["$(rm -rf /)"]}})j", 400},
      {"POST", net, R"({"v4AssignMode":"zt"})", 400},
      {"POST", net, R"({"v6AssignMode":{"rfc4193":"1"}})", 400},
      {"POST", net, R"({"remoteTraceTarget":"../../etc/passwd"})", 400},
      {"PUT", net, R"({"name":"ok","mtu":[]})", 400},
      {"POST", member, R"({"authorized":"yes"})", 400},
      {"POST", member, R"({"authorized":1})", 400},
      {"POST", member, R"({"ipAssignments":["10.0.0.1; rm -rf /"]})", 400},
      {"POST", member, R"({"ipAssignments":["::g"]})", 400},
      {"POST", member, R"({"tags":[[1,2,3]]})", 400},
      {"POST", member, R"({"capabilities":["1"]})", 400},
      {"POST", member, R"({"activeBridge":"false "})", 400},
      {"POST", member, R"({"name":"ok","noAutoAssignIps":{}})", 400},
      {"POST", "/controller/network/xyz", "{}", 400},
      {"POST", "/controller/network/zzzzzzzzzzzzzzzz", "{}", 400},
      {"POST", "/controller/network/1111111111000001", "{}", 400},
      {"POST", "/controller/network/deadbeef00______", "{}", 400},
      {"POST", "/controller/network/949cb95e9g______", "{}", 400},
      {"POST", net + "/member/12345", R"({"authorized":true})", 400},
      {"POST", net + "/member/ffffffffff", R"({"authorized":true})", 400},
      {"POST", net + "/member/0000000000", R"({"authorized":true})", 400},
      {"POST", net + "/member/73d8c8d12g", R"({"authorized":true})", 400},
      {"POST", "/controller/network/949cb95e9d00bad0/member/73d8c8d12f", R"({"authorized":true})",
       404},
      {"POST", "/controller/network", "{", 400},
      {"POST", "/controller/network", R"({"mtu":"x"})", 400},
      {"GET", "/controller/network/../../etc/passwd", "", 404},
      {"PATCH", net, R"({"name":"patched"})", 405},
      {"DELETE", "/controller/network/949cb95e9d00bad0", "", 404},
      {"DELETE", net + "/member/0123456789", "", 404},
      {"DELETE", "/controller/network", "", 405},
  };
  ASSERT_GE(cases.size(), 40u);
  for (const Hostile& h : cases) {
    HttpResult r;
    if (h.method == "POST") r = Post(h.path, h.body);
    if (h.method == "PUT") r = Put(h.path, h.body);
    if (h.method == "PATCH") r = Patch(h.path, h.body);
    if (h.method == "GET") r = Get(h.path);
    if (h.method == "DELETE") r = Delete(h.path);
    EXPECT_EQ(r.status, h.status) << h.method << " " << h.path << " " << h.body.substr(0, 80)
                                  << " -> " << r.body.substr(0, 200);
    if (r.status >= 400 && r.status != 413) {
      EXPECT_TRUE(r.json.is_object() && r.json.contains("error"))
          << h.method << " " << h.path << " " << r.body.substr(0, 200);
    }
  }
  // A request without the token changes nothing either.
  EXPECT_EQ(GetWithHeaders(net + "?auth=x", {}).status, 401);

  EXPECT_EQ(last_seq(), 4u);
  EXPECT_EQ(Get(net).json, network_before);
  EXPECT_EQ(Get(member).json, member_before);
  EXPECT_EQ(Get("/controller/network").json, json::array({id}));
}

TEST_F(BadInputTest, OversizedBodyGetsJsonNamingTheLimit) {
  HttpResult r = Post("/controller/network", std::string(kBodyBytesMax + 1, ' '));
  ASSERT_EQ(r.status, 413);
  EXPECT_EQ(r.json, json::parse(R"({"error":"body: larger than 4194304 bytes"})")) << r.body;
  EXPECT_EQ(last_seq(), 0u);
}

}  // namespace
}  // namespace almanac::api
