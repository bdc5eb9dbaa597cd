// Named limits of ctl/commands: what admin commands may make the state hold.
#ifndef ALMANAC_CTL_COMMANDS_LIMITS_H_
#define ALMANAC_CTL_COMMANDS_LIMITS_H_

#include <cstddef>

namespace almanac::commands {

// Members an admin may create in one network. A member costs about 300 bytes in the
// state and a snapshot; a million per network keeps one network under ~300 MB.
inline constexpr size_t kNetworkMembersMax = size_t{1} << 20;

// Random 24-bit network ids tried before giving up. With n of 2^24 ids taken, all 64
// tries collide with probability (n / 2^24)^64: negligible below ~90% full.
inline constexpr int kRandomNetworkIdAttempts = 64;

}  // namespace almanac::commands

#endif  // ALMANAC_CTL_COMMANDS_LIMITS_H_
