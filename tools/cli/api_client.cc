#include "tools/cli/api_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "tools/cli/limits.h"

namespace almanac::cli {

const char kConnectionHelp[] =
    "Finding the controller:\n"
    "  --home DIR        controller home (default ./var/almanac): reads DIR/api.address\n"
    "                    and DIR/authtoken.secret\n"
    "  --api HOST:PORT   the admin API address (instead of DIR/api.address)\n"
    "  --token T         the admin token (instead of DIR/authtoken.secret)\n"
    "  --token-file F    read the admin token from F\n"
    "  --json            print the controller's JSON as is\n"
    "Exit codes: 0 ok, 1 refused or not found, 2 usage error, 3 controller unreachable\n"
    "or token refused.\n";

namespace {

constexpr char kDefaultHome[] = "./var/almanac";  // ctl/home.h's kDefaultHome

// Reads at most bytes_max bytes of a small file. NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadSmall(const std::string& path, size_t bytes_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string text(bytes_max + 1, '\0');
  in.read(&text[0], static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is larger than ", bytes_max,
                                                   " bytes"));
  }
  return text;
}

std::string FirstLine(const std::string& text) {
  return std::string(absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
}

absl::StatusOr<std::string> ReadToken(const ParsedArgs& args, const std::string& home) {
  if (args.values.count("--token")) {
    std::string token = args.Value("--token", "");
    if (token.empty()) return absl::UnauthenticatedError("--token is empty");
    return token;
  }
  const std::string path = args.Value("--token-file", home + "/authtoken.secret");
  absl::StatusOr<std::string> text = ReadSmall(path, kTokenFileBytesMax);
  if (!text.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "cannot read the admin token from ", path, " (pass --token or --token-file)"));
  }
  std::string token = FirstLine(*text);
  if (token.empty()) return absl::UnauthenticatedError(absl::StrCat(path, " is empty"));
  return token;
}

}  // namespace

bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string h = text.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return false;  // a bare IPv6 address is ambiguous; ask for brackets
  }
  int p = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &p) || p <= 0 || p > 65535) return false;
  *host = h;
  *port = p;
  return true;
}

absl::StatusOr<ApiEndpoint> ResolveEndpoint(const ParsedArgs& args) {
  const std::string home = args.Value("--home", kDefaultHome);
  ApiEndpoint endpoint;
  if (args.values.count("--api")) {
    endpoint.display = args.Value("--api", "");
    if (!SplitHostPort(endpoint.display, &endpoint.host, &endpoint.port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--api: expected HOST:PORT, got '", endpoint.display, "'"));
    }
  } else {
    const std::string path = home + "/api.address";
    absl::StatusOr<std::string> text = ReadSmall(path, kAddressFileBytesMax);
    if (!text.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "no controller address in ", path,
          " (is almanacd running with --home ", home, "? or pass --api HOST:PORT)"));
    }
    endpoint.display = FirstLine(*text);
    if (!SplitHostPort(endpoint.display, &endpoint.host, &endpoint.port)) {
      return absl::UnavailableError(
          absl::StrCat(path, ": expected HOST:PORT, got '", endpoint.display, "'"));
    }
  }
  absl::StatusOr<std::string> token = ReadToken(args, home);
  if (!token.ok()) return token.status();
  endpoint.token = *token;
  return endpoint;
}

ApiClient::ApiClient(ApiEndpoint endpoint)
    : endpoint_(std::move(endpoint)),
      client_(std::make_unique<httplib::Client>(endpoint_.host, endpoint_.port)) {
  client_->set_connection_timeout(std::chrono::milliseconds(kApiConnectTimeoutMs));
  client_->set_read_timeout(std::chrono::milliseconds(kApiReadTimeoutMs));
  client_->set_write_timeout(std::chrono::milliseconds(kApiReadTimeoutMs));
  client_->set_default_headers({{"X-ZT1-Auth", endpoint_.token}});
}

ApiClient::~ApiClient() = default;

absl::Status ApiClient::TransportError(int error) const {
  std::string why;
  switch (static_cast<httplib::Error>(error)) {
    case httplib::Error::Connection:
      why = "connection refused (is almanacd running?)";
      break;
    case httplib::Error::ConnectionTimeout:
      why = "timed out connecting (is the address right?)";
      break;
    case httplib::Error::Read:
      why = "the connection closed before an answer came";
      break;
    case httplib::Error::Write:
      why = "the connection closed while sending the request";
      break;
    default:
      why = httplib::to_string(static_cast<httplib::Error>(error));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot reach the controller at ", endpoint_.display, ": ", why));
}

namespace {

absl::StatusOr<ApiReply> ToReply(const httplib::Result& result) {
  ApiReply reply;
  reply.http_status = result->status;
  reply.raw = result->body;
  if (!reply.raw.empty()) {
    reply.body = nlohmann::json::parse(reply.raw, nullptr, /*allow_exceptions=*/false);
    if (reply.body.is_discarded()) reply.body = nullptr;
  }
  return reply;
}

}  // namespace

absl::StatusOr<ApiReply> ApiClient::Get(const std::string& path) {
  httplib::Result result = client_->Get(path.c_str());
  if (!result) return TransportError(static_cast<int>(result.error()));
  return ToReply(result);
}

absl::StatusOr<ApiReply> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  // replace: a field=value word that is not UTF-8 must not throw out of dump().
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  httplib::Result result = client_->Post(path.c_str(), text, "application/json");
  if (!result) return TransportError(static_cast<int>(result.error()));
  return ToReply(result);
}

absl::StatusOr<ApiReply> ApiClient::Delete(const std::string& path) {
  httplib::Result result = client_->Delete(path.c_str());
  if (!result) return TransportError(static_cast<int>(result.error()));
  return ToReply(result);
}

absl::Status CheckReply(const ApiReply& reply, const ApiEndpoint& endpoint,
                        const std::string& not_found_message) {
  if (reply.http_status >= 200 && reply.http_status < 300) return absl::OkStatus();
  if (reply.http_status == 401 || reply.http_status == 403) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the controller at ", endpoint.display,
        " refused the admin token (check --token, --token-file or <home>/authtoken.secret)"));
  }
  if (reply.http_status == 404) return absl::NotFoundError(not_found_message);
  std::string message;
  if (reply.body.is_object()) {
    for (const char* key : {"message", "error"}) {
      auto it = reply.body.find(key);
      if (it != reply.body.end() && it->is_string()) {
        message = it->get<std::string>();
        break;
      }
    }
  }
  if (message.empty()) {
    message = std::string(absl::StripAsciiWhitespace(reply.raw.substr(0, 200)));
    for (char& c : message) {
      if (c == '\n' || c == '\r') c = ' ';
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the controller refused (HTTP ", reply.http_status, ")",
      message.empty() || message == "{}" ? "" : absl::StrCat(": ", message)));
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnauthenticated:
      return kExitUnreachable;
    default:
      return kExitRefused;
  }
}

int Fail(const absl::Status& status, std::ostream& err) {
  err << "almanac: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace almanac::cli
