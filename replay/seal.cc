#include "replay/seal.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace almanac::replay {

std::array<uint8_t, kSealMessageBytes> SealMessage(uint64_t sealed_seq,
                                                   const journal::ChainHash& sealed_hash) {
  std::array<uint8_t, kSealMessageBytes> message{};
  std::memcpy(message.data(), kSealMagic.data(), kSealMagic.size());
  for (int i = 0; i < 8; ++i) {
    message[kSealMagic.size() + i] = static_cast<uint8_t>(sealed_seq >> (56 - 8 * i));
  }
  std::memcpy(message.data() + kSealMagic.size() + 8, sealed_hash.data(), sealed_hash.size());
  return message;
}

absl::Status CheckSealSignature(const schema::Seal& seal, const zt::Identity& controller) {
  if (seal.sealed_hash() == nullptr || seal.sealed_hash()->size() != journal::kChainHashBytes) {
    return absl::DataLossError("seal: sealed_hash is not 32 bytes");
  }
  if (seal.signature() == nullptr || seal.signature()->size() != zt::kSignatureBytes) {
    return absl::DataLossError("seal: signature is not 96 bytes");
  }
  journal::ChainHash hash;
  std::memcpy(hash.data(), seal.sealed_hash()->data(), hash.size());
  const auto message = SealMessage(seal.sealed_seq(), hash);
  absl::Status s = controller.CheckSignature(
      message, absl::MakeConstSpan(seal.signature()->data(), seal.signature()->size()));
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("seal signature does not verify under controller ",
                     controller.ToString(false).substr(0, 10), ": ", s.message()));
  }
  return absl::OkStatus();
}

ctl::Command MakeSealCommand(const zt::Identity* identity) {
  ALMANAC_CHECK(identity != nullptr && identity->has_secret());
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Controller()};
  command.actor.kind = schema::ActorKind::System;
  command.actor.id = "seal";
  command.decide = [identity](const state::State& state, ctl::CommandContext& ctx) {
    if (state.last_seq() == 0) return absl::OkStatus();
    const uint64_t seq = state.last_seq();
    const journal::ChainHash hash = state.chain_hash();
    const auto signature = identity->Sign(SealMessage(seq, hash));
    ctx.Emit(schema::Body::Seal, [&](flatbuffers::FlatBufferBuilder& b) {
      auto hash_vec = b.CreateVector(hash.data(), hash.size());
      auto sig_vec = b.CreateVector(signature.data(), signature.size());
      return schema::CreateSeal(b, seq, hash_vec, sig_vec).Union();
    });
    return absl::OkStatus();
  };
  return command;
}

}  // namespace almanac::replay
