// One changed field of a network or member, for the audit story of NetworkChanged and
// MemberChanged (schemas/events.fbs, FieldChange). Values are JSON texts exactly as the
// admin API renders the field ("null" when absent).
//
// Thread safety: plain values and pure functions.
#ifndef ALMANAC_CTL_COMMANDS_FIELD_CHANGE_H_
#define ALMANAC_CTL_COMMANDS_FIELD_CHANGE_H_

#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "schemas/events_generated.h"

namespace almanac::commands {

struct FieldChange {
  std::string field;  // the API's field name: "mtu", "v4AssignMode", "ipAssignments"
  std::string old_json;
  std::string new_json;

  bool operator==(const FieldChange& o) const {
    return field == o.field && old_json == o.old_json && new_json == o.new_json;
  }
};

// Serializes the list into `builder` (the vector of FieldChange tables of an event).
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::FieldChange>>>
BuildFieldChanges(flatbuffers::FlatBufferBuilder& builder,
                  const std::vector<FieldChange>& changes);

}  // namespace almanac::commands

#endif  // ALMANAC_CTL_COMMANDS_FIELD_CHANGE_H_
