#include "tools/bench/node/identity_cache.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "tools/bench/node/limits.h"

namespace almanac::bench {
namespace {

// Reads up to `count` identities; stops early at the end of the file.
absl::Status ReadIdentities(const std::string& path, size_t count,
                            std::vector<zt::Identity>* out) {
  std::ifstream in(path);
  if (!in.is_open()) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string line;
  for (size_t number = 1; out->size() < count && std::getline(in, line); ++number) {
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    std::string_view text(stripped.data(), stripped.size());
    if (text.empty()) continue;
    auto identity = zt::Identity::FromString(text);
    if (!identity.ok() || !identity->has_secret()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", number, ": not a secret identity"));
    }
    out->push_back(*std::move(identity));
  }
  return absl::OkStatus();
}

// Generates `missing` identities on every core, appending each to the file as it comes,
// so an interrupted run keeps what it paid for.
absl::Status Generate(const std::string& path, size_t missing,
                      const std::function<void(const std::string&)>& progress,
                      std::vector<zt::Identity>* out) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  absl::Mutex mu;
  std::atomic<size_t> next{0};
  bool write_failed = false;
  auto work = [&] {
    while (next.fetch_add(1) < missing) {
      zt::Identity identity = zt::Identity::Generate();
      std::string line = identity.ToString(/*include_secret=*/true) + "\n";
      absl::MutexLock lock(&mu);
      if (std::fwrite(line.data(), 1, line.size(), file) != line.size()) write_failed = true;
      out->push_back(std::move(identity));
      if (progress && out->size() % 100 == 0) {
        progress(absl::StrCat("identities: ", out->size(), " ready"));
      }
    }
  };
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (size_t i = 0; i < threads; ++i) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  if (std::fclose(file) != 0 || write_failed) {
    return absl::InternalError(absl::StrCat("writing ", path, " failed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<zt::Identity>> LoadOrExtendIdentities(
    const std::string& path, size_t count,
    const std::function<void(const std::string&)>& progress) {
  if (count > kIdentityCacheLinesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(count, " identities asked for, at most ", kIdentityCacheLinesMax));
  }
  std::vector<zt::Identity> identities;
  identities.reserve(count);
  if (absl::Status s = ReadIdentities(path, count, &identities); !s.ok()) return s;
  if (identities.size() < count) {
    const size_t missing = count - identities.size();
    if (progress) {
      progress(absl::StrCat("identities: ", identities.size(), " cached in ", path,
                            ", generating ", missing, " (memory-hard, ~0.2 s each per core)"));
    }
    if (absl::Status s = Generate(path, missing, progress, &identities); !s.ok()) return s;
  }
  return identities;
}

}  // namespace almanac::bench
