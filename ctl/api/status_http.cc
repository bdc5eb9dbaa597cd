#include "ctl/api/status_http.h"

#include "base/check.h"
#include "ctl/api/json_fields.h"
#include "nlohmann/json.hpp"

namespace almanac::api {

int HttpStatusFor(const absl::Status& status) {
  ALMANAC_CHECK(!status.ok());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorBody(const absl::Status& status) {
  return DumpJson(nlohmann::json{{"error", std::string(status.message())}});
}

}  // namespace almanac::api
