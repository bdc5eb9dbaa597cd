// absl::Status to HTTP, for the admin API (shared/docs/style.md §2): InvalidArgument and
// OutOfRange 400, Unauthenticated 401, PermissionDenied 403, NotFound 404, AlreadyExists
// and FailedPrecondition 409, ResourceExhausted 429 (a queue is full), Unavailable 503
// (stopping, or a standby), anything else 500.
//
// Thread safety: pure functions.
#ifndef ALMANAC_CTL_API_STATUS_HTTP_H_
#define ALMANAC_CTL_API_STATUS_HTTP_H_

#include <string>

#include "absl/status/status.h"

namespace almanac::api {

// REQUIRES: !status.ok().
int HttpStatusFor(const absl::Status& status);

// {"error": "<message>"} as compact JSON text.
std::string ErrorBody(const absl::Status& status);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_STATUS_HTTP_H_
