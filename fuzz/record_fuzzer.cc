// Fuzzes journal records as read back from disk: journal::VerifyRecord (size, the
// FlatBuffers Verifier, required fields) and then the projector, which trusts a verified
// record's layout but not its meaning. The input is a run of records, each
// length(4, big-endian, capped by what is left) | bytes; each verified one is applied to
// one State in order (a bad one is skipped, as replay would stop there).
// Properties: no crash; a verified record has seq >= 1 and a 32-byte prev_hash.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ctl/state/projector.h"
#include "ctl/state/state.h"
#include "fuzz/fuzz_check.h"
#include "journal/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  almanac::state::State state;
  std::array<uint8_t, 32> chain_hash{};
  size_t at = 0;
  while (at + 4 <= size) {
    size_t length = (size_t{data[at]} << 24) | (size_t{data[at + 1]} << 16) |
                    (size_t{data[at + 2]} << 8) | data[at + 3];
    at += 4;
    if (length > size - at) length = size - at;
    // A std::string's heap buffer is 8-byte aligned, as VerifyRecord requires.
    const std::string bytes(reinterpret_cast<const char*>(data) + at, length);
    at += length;
    (void)almanac::journal::VerifyDraft(bytes);
    auto record = almanac::journal::VerifyRecord(bytes);
    if (!record.ok()) continue;
    FUZZ_ASSERT((*record)->seq() >= 1);
    FUZZ_ASSERT((*record)->prev_hash() != nullptr && (*record)->prev_hash()->size() == 32);
    chain_hash[0]++;
    (void)almanac::state::Apply(state, **record, chain_hash);
  }
  return 0;
}
