// SyncDirectory: makes the entries of a directory durable (a file created in it, renamed
// into it or removed from it) by fsyncing the directory itself; fsyncing the file covers
// only its contents.
//
// Thread safety: any thread.
#ifndef ALMANAC_BASE_SYNC_DIRECTORY_H_
#define ALMANAC_BASE_SYNC_DIRECTORY_H_

#include <string>

#include "absl/status/status.h"

namespace almanac {

// Errors: the errno of open or fsync as an absl::Status (absl::ErrnoToStatus), naming
// the directory.
absl::Status SyncDirectory(const std::string& dir);

}  // namespace almanac

#endif  // ALMANAC_BASE_SYNC_DIRECTORY_H_
