// Conversions between the domain config structs (ctl/state/state.h) and the FlatBuffers
// tables of schemas/config.fbs. Commands build event bodies with Build*; the projector
// and the snapshot loader read tables with *FromFlat.
//
// Rules (so equal structs always give equal bytes, and a round trip is exact):
// - Empty strings are not written (absent and "" mean the same thing in the schema).
// - Empty vectors are not written; dns is written only when set.
// - Scalars equal to the schema default are written anyway only if FlatBuffers does so
//   (it omits defaults): the bytes depend only on the struct's values.
// Thread safety: pure functions, any thread.
#ifndef ALMANAC_CTL_STATE_CONVERT_H_
#define ALMANAC_CTL_STATE_CONVERT_H_

#include "ctl/state/state.h"
#include "flatbuffers/flatbuffers.h"
#include "schemas/config_generated.h"

namespace almanac::state {

// Reads a verified table. A null table gives the defaults (an event that omitted its
// config means "all defaults"). Never fails: the Verifier has already run on the buffer.
NetworkConfig NetworkConfigFromFlat(const schema::NetworkConfig* flat);
MemberConfig MemberConfigFromFlat(const schema::MemberConfig* flat);

// Serializes into `builder` and returns the offset of the finished table (not yet a
// root: the caller places it inside an event or snapshot).
flatbuffers::Offset<schema::NetworkConfig> BuildNetworkConfig(
    flatbuffers::FlatBufferBuilder& builder, const NetworkConfig& config);
flatbuffers::Offset<schema::MemberConfig> BuildMemberConfig(
    flatbuffers::FlatBufferBuilder& builder, const MemberConfig& config);

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_CONVERT_H_
