// Goal: the admin API answers every step of the shared conformance table
// (ctl/api/testdata/conformance.json: every endpoint and field, defaults, clamps,
// revisions, 401/404/400/405) with the expected status and body. The same table runs
// against a real almanacd process (//tests:api_conformance_test); this driver runs it in
// process over a real journal (api_test_env.h) so a failure points at the code directly.
// The table's matcher rules are in its "about" text.
#include <map>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/testing.h"
#include "ctl/api/api_test_env.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

using nlohmann::json;
using Saved = std::map<std::string, json>;

std::string TablePath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "almanac",
                      "/ctl/api/testdata/conformance.json");
}

std::string SubstituteText(const std::string& text, const Saved& saved) {
  static const std::regex kVar(R"(\{(\w+)\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kVar);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += text.substr(last, it->position() - last);
    const json& v = saved.at((*it)[1].str());
    out += v.is_string() ? v.get<std::string>() : v.dump();
    last = it->position() + it->length();
  }
  return out + text.substr(last);
}

json Substitute(const json& value, const Saved& saved) {
  if (value.is_string()) return SubstituteText(value.get<std::string>(), saved);
  if (!value.is_structured()) return value;
  json out = value;
  for (auto& item : out) item = Substitute(item, saved);
  return out;
}

// Empty when got matches want, else the difference (same rules as the Python driver).
std::string Mismatch(const json& want, const json& got, bool exact, const Saved& saved,
                     const std::string& where) {
  if (want.is_string() && want.get<std::string>().rfind('$', 0) == 0) {
    const std::string m = want.get<std::string>();
    bool ok = false;
    if (m == "$int") ok = got.is_number_integer();
    else if (m == "$nonzero") ok = got.is_number_integer() && got.get<int64_t>() != 0;
    else if (m == "$string") ok = got.is_string();
    else if (m.rfind("$var:", 0) == 0) ok = got == saved.at(m.substr(5));
    else ADD_FAILURE() << "unknown matcher " << m;
    return ok ? "" : absl::StrCat(where, ": ", got.dump(), " is not ", m);
  }
  if (want.is_object()) {
    if (!got.is_object()) return absl::StrCat(where, ": ", got.dump(), " is not an object");
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (it.value() == "$absent") {
        if (got.contains(it.key())) return absl::StrCat(where, ".", it.key(), ": present");
        continue;
      }
      if (!got.contains(it.key())) return absl::StrCat(where, ".", it.key(), ": missing");
      std::string diff =
          Mismatch(it.value(), got[it.key()], exact, saved, absl::StrCat(where, ".", it.key()));
      if (!diff.empty()) return diff;
    }
    if (exact && got.size() != want.size()) return absl::StrCat(where, ": unexpected keys");
    return "";
  }
  if (want.is_array()) {
    if (!got.is_array() || got.size() != want.size()) {
      return absl::StrCat(where, ": ", got.dump(), " does not have ", want.size(), " items");
    }
    for (size_t i = 0; i < want.size(); ++i) {
      std::string diff = Mismatch(want[i], got[i], exact, saved, absl::StrCat(where, "[", i, "]"));
      if (!diff.empty()) return diff;
    }
    return "";
  }
  if (want != got || want.type() != got.type()) {
    return absl::StrCat(where, ": ", got.dump(), ", want ", want.dump());
  }
  return "";
}

class ConformanceTest : public ApiServerTestBase {
 protected:
  httplib::Result Send(const json& step, const Saved& saved) {
    std::string path = SubstituteText(step["path"].get<std::string>(), saved);
    const std::string auth = step.value("auth", "header");
    httplib::Headers headers;
    if (auth == "header") headers.emplace("X-ZT1-Auth", kTestToken);
    if (auth == "bearer") headers.emplace("Authorization", std::string("Bearer ") + kTestToken);
    if (auth == "plain") headers.emplace("Authorization", kTestToken);
    if (auth == "wrong") headers.emplace("X-ZT1-Auth", std::string(sizeof(kTestToken) - 1, 'x'));
    if (auth == "query") path += std::string("?auth=") + kTestToken;
    std::string body;
    if (step.contains("body")) {
      const json b = Substitute(step["body"], saved);
      body = b.is_string() ? b.get<std::string>() : b.dump();
    }
    const std::string method = step["method"];
    const char* type = "application/json";
    if (method == "GET") return client_->Get(path.c_str(), headers);
    if (method == "DELETE") return client_->Delete(path.c_str(), headers);
    if (method == "POST") return client_->Post(path.c_str(), headers, body, type);
    if (method == "PUT") return client_->Put(path.c_str(), headers, body, type);
    if (method == "PATCH") return client_->Patch(path.c_str(), headers, body, type);
    ADD_FAILURE() << "unknown method " << method;
    return client_->Get(path.c_str(), headers);
  }
};

TEST_F(ConformanceTest, EveryStepOfTheSharedTable) {
  const json table = json::parse(testing::ReadFileOrFail(TablePath()));
  Saved saved{{"ctl", "949cb95e9d"}};
  ASSERT_GE(table["steps"].size(), 60u);
  for (const json& step : table["steps"]) {
    SCOPED_TRACE(absl::StrCat(step["name"].get<std::string>(), ": ",
                              step["method"].get<std::string>(), " ",
                              step["path"].get<std::string>()));
    httplib::Result r = Send(step, saved);
    ASSERT_TRUE(r) << "no answer";
    ASSERT_EQ(r->status, step["status"].get<int>()) << r->body.substr(0, 300);
    if (step.contains("allow")) {
      EXPECT_EQ(r->get_header_value("Allow"), step["allow"].get<std::string>());
    }
    if (step.contains("contains")) {
      EXPECT_NE(r->body.find(step["contains"].get<std::string>()), std::string::npos)
          << r->body.substr(0, 500);
    }
    const json got = json::parse(r->body, nullptr, false);
    if (step.contains("expect")) {
      EXPECT_EQ(Mismatch(Substitute(step["expect"], saved), got, step.value("exact", false),
                         saved, "body"),
                "")
          << r->body.substr(0, 500);
    }
    if (step.contains("save")) {
      for (auto it = step["save"].begin(); it != step["save"].end(); ++it) {
        saved[it.key()] = got.at(it.value().get<std::string>());
      }
    }
  }
}

}  // namespace
}  // namespace almanac::api
