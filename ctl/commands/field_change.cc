#include "ctl/commands/field_change.h"

namespace almanac::commands {

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::FieldChange>>>
BuildFieldChanges(flatbuffers::FlatBufferBuilder& builder,
                  const std::vector<FieldChange>& changes) {
  std::vector<flatbuffers::Offset<schema::FieldChange>> offsets;
  offsets.reserve(changes.size());
  for (const FieldChange& c : changes) {
    offsets.push_back(schema::CreateFieldChangeDirect(builder, c.field.c_str(),
                                                      c.old_json.c_str(), c.new_json.c_str()));
  }
  return builder.CreateVector(offsets);
}

}  // namespace almanac::commands
