#include "journal/journal_testing.h"

#include "journal/record.h"
#include "schemas/events_generated.h"

namespace almanac::journal {

std::string SampleDraft(uint64_t n, std::string_view actor_id) {
  return BuildRecordDraft(
      /*time_ms=*/1700000000000 + static_cast<int64_t>(n), /*epoch=*/1,
      schema::ActorKind::AdminToken, actor_id, "127.0.0.1:53412",
      schema::Body::MemberAuthorized, [n](flatbuffers::FlatBufferBuilder& fbb) {
        return schema::CreateMemberAuthorizedDirect(fbb, 0x8056c2e21c000001ULL,
                                                    0x1000000000ULL + n, "api")
            .Union();
      });
}

}  // namespace almanac::journal
