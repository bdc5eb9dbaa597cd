// Test-only: a seeded generator of valid, varied record streams (every body type), for
// determinism tests (snapshot + tail == full replay) and the benchmark.
#ifndef ALMANAC_CTL_STATE_RANDOM_STREAM_H_
#define ALMANAC_CTL_STATE_RANDOM_STREAM_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ctl/state/state.h"
#include "ctl/state/test_records.h"

namespace almanac::state::testing {

// Returns `count` record buffers, seqs 1..count, each valid against the state the
// previous ones produce (the generator applies them as it goes). Same seed, same bytes.
std::vector<std::string> RandomStream(uint64_t seed, size_t count);

NetworkConfig RandomNetworkConfig(std::mt19937_64& rng);
MemberConfig RandomMemberConfig(std::mt19937_64& rng);

}  // namespace almanac::state::testing

#endif  // ALMANAC_CTL_STATE_RANDOM_STREAM_H_
