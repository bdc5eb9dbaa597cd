// Fuzzes the replication link's parsers (ctl/replication/protocol.h), the bytes a peer
// on the replication port controls. The first input byte picks one, the rest is its
// input: 0 hello; 1 frame (4-byte header and ciphertext, opened under a fixed key); 2..7
// the payload decoders (AUTH, FOLLOW/PROBE, PROBE_REPLY, RECORDS, ACK/HEARTBEAT). The
// payload decoders only ever see authenticated bytes in the daemon, but a peer holding
// the identity is still outside input, so they are fuzzed directly.
// Properties: no crash; whatever decodes re-encodes to exactly its input; a frame length
// accepted is within bounds; a frame opened under the fixed key re-seals to its bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ctl/replication/limits.h"
#include "ctl/replication/protocol.h"
#include "fuzz/fuzz_check.h"

namespace r = almanac::replication;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      auto hello = r::DecodeHello(in);
      if (hello.ok()) FUZZ_ASSERT(r::EncodeHello(*hello) == in);
      break;
    }
    case 1: {
      if (in.size() < r::kFrameHeaderBytes) break;
      const std::string header = in.substr(0, r::kFrameHeaderBytes);
      auto length = r::FrameLength(header);
      if (!length.ok()) break;
      FUZZ_ASSERT(*length >= 1 + r::kTagBytes &&
                  *length <= r::kFramePlaintextMax + r::kTagBytes);
      r::Key key{};
      key[0] = 1;
      const std::string body = in.substr(r::kFrameHeaderBytes);
      auto message = r::OpenFrame(key, 0, header, body);
      if (message.ok()) {
        FUZZ_ASSERT(r::SealFrame(key, 0, message->type, message->payload) == header + body);
      }
      break;
    }
    case 2: {
      auto auth = r::DecodeAuth(in);
      if (auth.ok()) FUZZ_ASSERT(r::EncodeAuth(*auth) == in);
      break;
    }
    case 3: {
      auto v = r::DecodeSeqHash(in);
      if (v.ok()) FUZZ_ASSERT(r::EncodeSeqHash(*v) == in);
      break;
    }
    case 4: {
      auto v = r::DecodeProbeReply(in);
      if (v.ok()) FUZZ_ASSERT(r::EncodeProbeReply(*v) == in);
      break;
    }
    case 5:
    case 6: {
      auto v = r::DecodeRecords(in);
      if (v.ok()) {
        FUZZ_ASSERT(!v->records.empty() && v->records.size() <= r::kRecordsFrameRecordsMax);
        FUZZ_ASSERT(r::EncodeRecords(v->last, v->records) == in);
      }
      break;
    }
    default: {
      auto v = r::DecodeU64(in);
      if (v.ok()) FUZZ_ASSERT(r::EncodeU64(*v) == in);
      break;
    }
  }
  return 0;
}
