#include "replay/cli.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ctl/home.h"
#include "replay/render.h"
#include "replay/source.h"
#include "replay/timeline.h"
#include "replay/verify.h"

namespace almanac::replay {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitProblem = 1;
constexpr int kExitUsage = 2;
// How often `log --follow` looks for new records (it reopens the read-only view).
constexpr auto kFollowPoll = std::chrono::milliseconds(500);

constexpr char kUsage[] =
    "usage: almanac-replay [--home DIR | --backup DIR] [--json] <command>\n"
    "  verify\n"
    "  log [--network NWID] [--member [NWID/]ADDR] [--actor TEXT] [--since P] [--until P]\n"
    "      [--all] [--follow]\n"
    "  state [--at P]\n"
    "  history NWID[/ADDR]\n"
    "  diff P1 P2\n"
    "P is a sequence number or a UTC time such as \"2026-11-27 21:14:03\".\n"
    "\n"
    "Reads a controller home (default ./var/almanac; safe beside a running almanacd) or a\n"
    "backup directory, never writing to it.\n"
    "  verify   checksums, FlatBuffers verification, chain, gaps, every seal's signature\n"
    "           and that a replay from record 1 equals the newest snapshot; one line per\n"
    "           problem with its seq, exit 1 on any problem\n"
    "  log      the events in order, one line each; --follow waits for new ones\n"
    "  state    networks and members as the admin API answered at point P (default: now)\n"
    "  history  one network's or member's life, field by field, before and after\n"
    "  diff     what changed between two points\n"
    "--json prints JSON instead of text. Exit codes: 0 ok, 1 problem found or failure,\n"
    "2 usage.\n";

struct Args {
  std::string dir = ctl::kDefaultHome;
  bool json = false;
  bool all = false;
  bool follow = false;
  std::map<std::string, std::string> values;  // --network, --member, --actor, ...
  std::vector<std::string> positional;        // command first
};

// Parses flags anywhere on the line ("--flag value" or "--flag=value").
bool ParseArgs(const std::vector<std::string>& in, Args* a, std::string* error) {
  static const char* const kValued[] = {"home", "backup", "network", "member",
                                        "actor", "since", "until", "at"};
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& arg = in[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      a->positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "json" || name == "all" || name == "follow") {
      (name == "json" ? a->json : name == "all" ? a->all : a->follow) = true;
      continue;
    }
    if (std::find(std::begin(kValued), std::end(kValued), name) == std::end(kValued)) {
      *error = "unknown option --" + name;
      return false;
    }
    if (!has_value) {
      if (i + 1 >= in.size()) {
        *error = "--" + name + " needs a value";
        return false;
      }
      value = in[++i];
    }
    if (name == "home" || name == "backup") {
      a->dir = value;
    } else {
      a->values[name] = value;
    }
  }
  return true;
}

bool ParseHex(const std::string& text, size_t digits, uint64_t* out) {
  if (text.empty() || text.size() > digits) return false;
  return absl::SimpleHexAtoi(text, out);
}

// "nwid" or "nwid/address" (also "address" alone when allow_bare_member).
bool ParseObject(const std::string& text, std::optional<uint64_t>* nwid, uint64_t* address,
                 bool allow_bare_member) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  uint64_t n = 0;
  if (parts.size() == 1 && allow_bare_member) {
    *nwid = std::nullopt;
    return ParseHex(parts[0], 10, address);
  }
  if (parts.size() == 1) {
    *address = 0;
    if (!ParseHex(parts[0], 16, &n)) return false;
    *nwid = n;
    return true;
  }
  if (parts.size() != 2 || !ParseHex(parts[0], 16, &n) || !ParseHex(parts[1], 10, address)) {
    return false;
  }
  *nwid = n;
  return true;
}

class Session {
 public:
  Session(Args args, std::ostream& out, std::ostream& err)
      : a_(std::move(args)), paths_(a_.dir), out_(out), err_(err) {}

  int Run();

 private:
  int Usage(const std::string& why) {
    err_ << "almanac-replay: " << why << "\n" << kUsage;
    return kExitUsage;
  }
  int Fail(const absl::Status& s) {
    err_ << "almanac-replay: " << paths_.dir << ": " << s.message() << "\n";
    return kExitProblem;
  }
  bool OpenView() {
    absl::StatusOr<std::unique_ptr<JournalView>> v = JournalView::Open(paths_.journal());
    if (!v.ok()) {
      open_error_ = v.status();
      return false;
    }
    view_ = std::move(*v);
    return true;
  }
  std::optional<Point> PointArg(const std::string& text, int* rc) {
    absl::StatusOr<Point> p = ParsePoint(text);
    if (!p.ok()) {
      *rc = Usage(std::string(p.status().message()));
      return std::nullopt;
    }
    return *p;
  }

  int Verify();
  int Log();
  int State();
  int History();
  int Diff();

  Args a_;
  SourcePaths paths_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<JournalView> view_;
  absl::Status open_error_;
};

int Session::Verify() {
  absl::StatusOr<VerifyReport> report = VerifySource(paths_, [this](const std::string& line) {
    if (!a_.json) err_ << "almanac-replay: " << line << "\n";
  });
  if (!report.ok()) return Fail(report.status());
  if (a_.json) {
    out_ << report->Json().dump() << "\n";
  } else {
    out_ << report->Text();
  }
  return report->ok() ? kExitOk : kExitProblem;
}

int Session::State() {
  int rc = kExitOk;
  std::optional<Point> at = PointArg(a_.values.count("at") ? a_.values["at"] : "end", &rc);
  if (!at.has_value()) return rc;
  if (!OpenView()) return Fail(open_error_);
  Replayer replayer(view_.get());
  if (absl::Status s = replayer.Advance(*at, Watch{[](const schema::Record&) { return false; },
                                                   std::nullopt},
                                        nullptr);
      !s.ok()) {
    return Fail(s);
  }
  const nlohmann::json j = StateJson(replayer.state(), replayer.last_time_ms());
  out_ << (a_.json ? j.dump() : j.dump(2)) << "\n";
  return kExitOk;
}

int Session::Diff() {
  if (a_.positional.size() != 3) return Usage("diff needs two points");
  int rc = kExitOk;
  std::optional<Point> from = PointArg(a_.positional[1], &rc);
  if (!from.has_value()) return rc;
  std::optional<Point> to = PointArg(a_.positional[2], &rc);
  if (!to.has_value()) return rc;
  if (!OpenView()) return Fail(open_error_);
  const Watch silent{[](const schema::Record&) { return false; }, std::nullopt};
  Replayer replayer(view_.get());
  if (absl::Status s = replayer.Advance(*from, silent, nullptr); !s.ok()) return Fail(s);
  const state::State before = replayer.state();
  if (absl::Status s = replayer.Advance(*to, silent, nullptr); !s.ok()) return Fail(s);
  const std::vector<ObjectDiff> diffs = DiffStates(before, replayer.state());
  if (a_.json) {
    nlohmann::json j;
    j["from"] = before.last_seq();
    j["to"] = replayer.state().last_seq();
    j["changes"] = nlohmann::json::array();
    for (const ObjectDiff& d : diffs) j["changes"].push_back(DiffJson(d));
    out_ << j.dump() << "\n";
  } else {
    out_ << "changes from record " << before.last_seq() << " to record "
         << replayer.state().last_seq() << ":\n";
    for (const ObjectDiff& d : diffs) out_ << DiffLine(d) << "\n";
  }
  return kExitOk;
}

int Session::History() {
  if (a_.positional.size() != 2) return Usage("history needs NWID or NWID/ADDRESS");
  std::optional<uint64_t> nwid;
  uint64_t address = 0;
  if (!ParseObject(a_.positional[1], &nwid, &address, false) || !nwid.has_value()) {
    return Usage("'" + a_.positional[1] + "' is not NWID (16 hex) or NWID/ADDRESS");
  }
  const bool member = a_.positional[1].find('/') != std::string::npos;
  Watch watch;
  watch.focus = Subject{member ? "member" : "network", *nwid, address};
  watch.want = [n = *nwid](const schema::Record& r) {
    const Subject s = SubjectOf(r);
    return s.kind != "controller" && s.nwid == n;
  };
  if (!OpenView()) return Fail(open_error_);
  Replayer replayer(view_.get());
  size_t shown = 0;
  absl::Status s = replayer.Advance(Point{false, journal::kSeqMax, 0}, watch,
                                    [&](const AuditEvent& e) {
                                      if (e.changes.empty()) return absl::OkStatus();
                                      ++shown;
                                      out_ << (a_.json ? EventJson(e, true).dump()
                                                       : LogLine(e, true))
                                           << "\n";
                                      return absl::OkStatus();
                                    });
  if (!s.ok()) return Fail(s);
  if (shown == 0 && !a_.json) out_ << SubjectText(*watch.focus) << ": no history\n";
  return kExitOk;
}

int Session::Log() {
  int rc = kExitOk;
  std::optional<Point> since, until;
  if (a_.values.count("since") && !(since = PointArg(a_.values["since"], &rc))) return rc;
  if (a_.values.count("until") && !(until = PointArg(a_.values["until"], &rc))) return rc;
  std::optional<uint64_t> net_filter, member_nwid;
  uint64_t member_filter = 0, ignored = 0;
  bool has_member = false;
  if (a_.values.count("network") &&
      (!ParseObject(a_.values["network"], &net_filter, &ignored, false) ||
       a_.values["network"].find('/') != std::string::npos)) {
    return Usage("--network needs a 16-hex network id");
  }
  if (a_.values.count("member")) {
    if (!ParseObject(a_.values["member"], &member_nwid, &member_filter, true)) {
      return Usage("--member needs ADDRESS or NWID/ADDRESS");
    }
    has_member = true;
  }
  const std::string actor = a_.values.count("actor") ? a_.values["actor"] : "";
  Watch watch;
  watch.want = [&](const schema::Record& r) {
    if (since.has_value() && (since->is_time ? r.time_ms() < since->time_ms : r.seq() < since->seq)) {
      return false;
    }
    const Subject s = SubjectOf(r);
    if (net_filter.has_value() && (s.kind == "controller" || s.nwid != *net_filter)) return false;
    if (has_member && (s.kind != "member" || s.address != member_filter ||
                       (member_nwid.has_value() && s.nwid != *member_nwid))) {
      return false;
    }
    return actor.empty() || ActorText(r.actor()).find(actor) != std::string::npos;
  };
  auto print = [&](const AuditEvent& e) {
    out_ << (a_.json ? EventJson(e, a_.all).dump() : LogLine(e, a_.all)) << "\n";
    if (a_.follow) out_.flush();
    return absl::OkStatus();
  };
  const Point end = until.value_or(Point{false, journal::kSeqMax, 0});
  if (!OpenView()) return Fail(open_error_);
  Replayer replayer(view_.get());
  while (true) {
    if (absl::Status s = replayer.Advance(end, watch, print); !s.ok()) return Fail(s);
    if (!a_.follow || until.has_value()) return kExitOk;
    // A read-only view is frozen at its opening: reopen to see what almanacd appended.
    std::this_thread::sleep_for(kFollowPoll);
    if (!OpenView()) return Fail(open_error_);
    replayer.set_view(view_.get());
  }
}

int Session::Run() {
  if (a_.positional.empty()) return Usage("no command");
  const std::string& command = a_.positional[0];
  if (command == "verify" && a_.positional.size() == 1) return Verify();
  if (command == "log" && a_.positional.size() == 1) return Log();
  if (command == "state" && a_.positional.size() == 1) return State();
  if (command == "history") return History();
  if (command == "diff") return Diff();
  if (command == "help") {
    out_ << kUsage;
    return kExitOk;
  }
  return Usage("unknown command or extra arguments: " + command);
}

}  // namespace

int RunReplay(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kUsage;
      return kExitOk;
    }
  }
  Args parsed;
  std::string error;
  if (!ParseArgs(args, &parsed, &error)) {
    err << "almanac-replay: " << error << "\n" << kUsage;
    return kExitUsage;
  }
  return Session(std::move(parsed), out, err).Run();
}

}  // namespace almanac::replay
