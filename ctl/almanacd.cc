// almanacd: the Almanac controller daemon.
//
// Opens (or creates) a controller home, serves the ZeroTier controller JSON API, and
// runs until SIGINT or SIGTERM. See `almanacd --help`.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ctl/api/api_server.h"
#include "ctl/controller.h"
#include "ctl/home.h"
#include "ctl/telemetry.h"

ABSL_FLAG(std::string, home, almanac::ctl::kDefaultHome,
          "Controller home: identity, admin token, journal and snapshots live here. "
          "Created on first start.");
ABSL_FLAG(std::string, api_listen, "127.0.0.1:9993",
          "host:port for the admin JSON API (ZeroTier's controller API). Port 0 picks a "
          "free port; the address is written to <home>/api.address.");
ABSL_FLAG(uint64_t, snapshot_every, 100000,
          "Write a state snapshot in the background every N journal records (0: never). "
          "Snapshots only speed up start; deleting them loses nothing.");

namespace {

bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &p) || p < 0 || p > 65535) return false;
  *port = p;
  return true;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "almanacd: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the Almanac ZeroTier network controller daemon.\n\n"
      "Usage: almanacd [--home DIR] [--api-listen HOST:PORT] [--snapshot-every N]\n\n"
      "On first start it creates DIR with a new controller identity (identity.secret,\n"
      "identity.public) and an admin token (authtoken.secret). Every change is written\n"
      "to the journal in DIR/journal before it is acknowledged. Stop with SIGINT or\n"
      "SIGTERM.");
  absl::ParseCommandLine(argc, argv);

  std::string api_host;
  int api_port = 0;
  if (!SplitHostPort(absl::GetFlag(FLAGS_api_listen), &api_host, &api_port)) {
    std::fprintf(stderr, "almanacd: --api-listen: expected HOST:PORT, got '%s'\n",
                 absl::GetFlag(FLAGS_api_listen).c_str());
    return 2;
  }

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  almanac::ctl::ControllerOptions options;
  options.home = absl::GetFlag(FLAGS_home);
  options.snapshot_interval_records = absl::GetFlag(FLAGS_snapshot_every);
  options.log = [](const std::string& line) {
    std::fprintf(stderr, "almanacd: %s\n", line.c_str());
  };
  absl::StatusOr<std::unique_ptr<almanac::ctl::Controller>> controller =
      almanac::ctl::Controller::Open(options);
  if (!controller.ok()) return Fail("cannot open " + options.home, controller.status());
  almanac::ctl::Controller& c = **controller;

  almanac::ctl::Telemetry telemetry;
  almanac::api::ApiServerOptions api_options;
  api_options.listen_host = api_host;
  api_options.listen_port = api_port;
  api_options.auth_token = c.auth_token();
  api_options.controller_identity_public = c.identity().ToString(/*include_secret=*/false);
  api_options.controller_address = c.identity().address();
  absl::StatusOr<std::unique_ptr<almanac::api::ApiServer>> api =
      almanac::api::ApiServer::Start(api_options, c.sequencer(), &telemetry);
  if (!api.ok()) return Fail("cannot start the admin API", api.status());

  const std::string api_address = absl::StrCat(
      api_host.find(':') != std::string::npos ? "[" + api_host + "]" : api_host, ":",
      (*api)->port());
  if (absl::Status s = almanac::ctl::WriteFileAtomically(c.paths().api_address(),
                                                         api_address + "\n", 0644);
      !s.ok()) {
    return Fail("cannot write " + c.paths().api_address(), s);
  }
  std::printf("almanacd: controller %s, home %s, journal at record %llu\n",
              c.identity().ToString(false).substr(0, 10).c_str(), c.paths().dir.c_str(),
              static_cast<unsigned long long>(c.journal()->last_seq()));
  std::printf("almanacd: admin API listening on http://%s (token in %s)\n",
              api_address.c_str(), c.paths().auth_token().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("almanacd: stopping on signal %d\n", sig);
  std::fflush(stdout);
  (*api)->Stop();
  api->reset();
  controller->reset();
  return 0;
}
