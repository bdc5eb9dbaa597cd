// Private to //ctl/state: the snapshot payload built straight into a builder, so writing
// a file does not copy a payload of hundreds of MB into a std::string first.
#ifndef ALMANAC_CTL_STATE_SNAPSHOT_INTERNAL_H_
#define ALMANAC_CTL_STATE_SNAPSHOT_INTERNAL_H_

#include <cstddef>

#include "ctl/state/state.h"
#include "flatbuffers/flatbuffers.h"

namespace almanac::state::internal {

// Finishes `builder` (which must be empty) with the Snapshot of `state`; the bytes are
// exactly SerializeState(state).
void BuildSnapshot(const State& state, flatbuffers::FlatBufferBuilder& builder);

// An initial builder size that usually avoids regrowth.
size_t SnapshotBytesEstimate(const State& state);

}  // namespace almanac::state::internal

#endif  // ALMANAC_CTL_STATE_SNAPSHOT_INTERNAL_H_
