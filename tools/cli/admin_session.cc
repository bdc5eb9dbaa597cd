#include "tools/cli/admin_session.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace almanac::cli {

absl::StatusOr<AdminSession> AdminSession::Parse(
    const std::vector<std::string>& args, const std::vector<std::string>& extra_value_flags) {
  std::vector<std::string> value_flags = kConnectionValueFlags;
  value_flags.insert(value_flags.end(), extra_value_flags.begin(), extra_value_flags.end());
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, value_flags, kCommonSwitches);
  if (!parsed.ok()) return parsed.status();
  return AdminSession(std::move(*parsed));
}

absl::Status AdminSession::Connect() {
  if (client_ != nullptr) return absl::OkStatus();
  absl::StatusOr<ApiEndpoint> endpoint = ResolveEndpoint(args_);
  if (!endpoint.ok()) return endpoint.status();
  client_ = std::make_shared<ApiClient>(std::move(*endpoint));
  return absl::OkStatus();
}

namespace {

absl::StatusOr<ApiReply> Checked(absl::StatusOr<ApiReply> reply, const ApiEndpoint& endpoint,
                                 const std::string& not_found) {
  if (!reply.ok()) return reply.status();
  if (absl::Status s = CheckReply(*reply, endpoint, not_found); !s.ok()) return s;
  return reply;
}

}  // namespace

absl::StatusOr<ApiReply> AdminSession::Get(const std::string& path,
                                           const std::string& not_found) {
  return Checked(client_->Get(path), client_->endpoint(), not_found);
}

absl::StatusOr<ApiReply> AdminSession::Post(const std::string& path,
                                            const nlohmann::json& body,
                                            const std::string& not_found) {
  return Checked(client_->Post(path, body), client_->endpoint(), not_found);
}

absl::StatusOr<ApiReply> AdminSession::Delete(const std::string& path,
                                              const std::string& not_found) {
  return Checked(client_->Delete(path), client_->endpoint(), not_found);
}

void PrintRaw(const ApiReply& reply, std::ostream& out) {
  out << reply.raw;
  if (reply.raw.empty() || reply.raw.back() != '\n') out << "\n";
}

absl::StatusOr<std::string> CheckNetworkId(const std::string& text) {
  if (!IsNetworkId(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a network id (16 hex digits)"));
  }
  return absl::AsciiStrToLower(text);
}

absl::StatusOr<std::string> CheckNodeAddress(const std::string& text) {
  if (!IsNodeAddress(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a member address (10 hex digits)"));
  }
  return absl::AsciiStrToLower(text);
}

absl::Status UsageError(const std::string& command, const std::string& problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(problem, " (see 'almanac ", command, " --help')"));
}

int RunSubcommand(const SubcommandTable& table, const std::vector<std::string>& args,
                  std::ostream& out, std::ostream& err) {
  absl::StatusOr<AdminSession> session = AdminSession::Parse(args, table.extra_value_flags);
  if (!session.ok()) {
    return Fail(UsageError(table.command, std::string(session.status().message())), err);
  }
  if (session->positional().empty()) {
    if (session->help()) {
      out << table.usage << "\n" << kConnectionHelp;
      return kExitOk;
    }
    err << table.usage;
    return kExitUsage;
  }
  const std::string& sub = session->positional()[0];
  auto help = table.help->find(sub);
  if (help == table.help->end()) {
    return Fail(UsageError(table.command, "unknown subcommand '" + sub + "'"), err);
  }
  if (session->help()) {
    out << help->second << "\n" << kConnectionHelp;
    return kExitOk;
  }
  if (absl::Status s = table.dispatch(*session, out); !s.ok()) return Fail(s, err);
  return kExitOk;
}

}  // namespace almanac::cli
