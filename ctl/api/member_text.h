// Member JSON written straight into a string, byte for byte what
// DumpJson(RenderMember(member, live)) gives, without building an nlohmann tree: member
// lists of 100,000 objects must render in well under 300 ms (an nlohmann tree costs ~30
// allocations per member and took seconds).
//
// Thread safety: pure functions.
#ifndef ALMANAC_CTL_API_MEMBER_TEXT_H_
#define ALMANAC_CTL_API_MEMBER_TEXT_H_

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

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_MEMBER_TEXT_H_
