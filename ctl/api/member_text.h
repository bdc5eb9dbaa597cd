// Member JSON written straight into a string, byte for byte what
// DumpJson(RenderMember(member, live)) gives, without building an nlohmann tree: member
// lists of 100,000 objects must render in well under 300 ms (an nlohmann tree costs ~30
// allocations per member and took seconds).
//
// Thread safety: pure functions; RenderMemberList reaches the state only through `read`.
#ifndef ALMANAC_CTL_API_MEMBER_TEXT_H_
#define ALMANAC_CTL_API_MEMBER_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ctl/api/member_json.h"
#include "ctl/state/state.h"

namespace almanac::api {

// Appends text as a JSON string exactly as DumpJson escapes it (ensure_ascii off, invalid
// UTF-8 replaced by U+FFFD).
void AppendJsonString(std::string_view text, std::string* out);

// Appends the whole member object (same bytes as DumpJson(RenderMember(member, live))).
void AppendMemberJson(const state::Member& member, const MemberLiveFields& live,
                      std::string* out);

// Runs f on the state under its reader lock (Sequencer::Read in the daemon).
using ReadState = std::function<void(const std::function<void(const state::State&)>& f)>;
// The live fields (telemetry) of a member, by address; called under the reader lock.
using LiveFieldsOf = std::function<MemberLiveFields(uint64_t address)>;

// Appends the member list of network nwid, sorted by address: ZeroTier's map
// {"<address>":<revision>,...}, or with `full` the /unstable form
// {"data":[<member objects>],"meta":{"authorizedCount":A,"totalCount":T}}. Returns false,
// appending nothing, when the network does not exist.
//
// The state is held in steps, never for the whole list: one `read` takes the network's
// addresses, then one per `chunk` members renders them (addresses sorted, the reply's
// memory faulted in, between steps and outside the lock). So the sequencer applies, and
// the writes it answers go on, while a list of a million members renders. The list holds
// the members present at the first step, each as it is at its own step; one deleted
// meanwhile is left out (and out of the counts). REQUIRES: chunk > 0.
bool RenderMemberList(const ReadState& read, uint64_t nwid, bool full,
                      const LiveFieldsOf& live, size_t chunk, std::string* out);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_MEMBER_TEXT_H_
