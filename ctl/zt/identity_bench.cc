// Micro-benchmarks of identity operations: the memory-hard address check (Validate), and
// Sign, Verify, Agree. Run: bazel run -c opt //ctl/zt:identity_bench
#include <string>

#include "benchmark/benchmark.h"
#include "ctl/zt/identity.h"

namespace almanac::zt {
namespace {

// A fixed identity from shared/vectors/zerotier-1.14.1/identities.json (a lab throwaway),
// so the benchmark needs no files and no slow Generate before the clock starts.
constexpr char kSecretA[] =
    "e62f792a24:0:425e1f7caf6e9207e414afcedf0b8584717ca2aa10b469a6a8737397f0e212151a951d4cbeaab1f"
    "a03be44a70c3cf49182419103bc85139f983992350a3efccf:019e4c398076716a789e0f22703dd2d728d22d439"
    "b7829fc3ba6490dcef1a4acbf4dfdfeb1d67bbb49fa558e3913bc60915dd314e2e4e10c08e3ac196e3cb441";

Identity Load(const char* text) {
  absl::StatusOr<Identity> id = Identity::FromString(text);
  if (!id.ok()) abort();
  return *id;
}

void BM_Validate(benchmark::State& state) {
  Identity id = Load(kSecretA);
  for (auto _ : state) {
    absl::Status status = id.Validate();
    if (!status.ok()) state.SkipWithError("Validate failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Validate)->Unit(benchmark::kMillisecond);

void BM_Sign(benchmark::State& state) {
  Identity id = Load(kSecretA);
  std::string message(static_cast<size_t>(state.range(0)), 'm');
  auto bytes =
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  for (auto _ : state) benchmark::DoNotOptimize(id.Sign(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign)->Arg(64)->Arg(1400);

void BM_Verify(benchmark::State& state) {
  Identity id = Load(kSecretA);
  std::string message(static_cast<size_t>(state.range(0)), 'm');
  auto bytes =
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  const auto signature = id.Sign(bytes);
  for (auto _ : state) {
    if (!id.Verify(bytes, signature)) state.SkipWithError("Verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify)->Arg(64)->Arg(1400);

void BM_Agree(benchmark::State& state) {
  Identity a = Load(kSecretA);
  Identity b = Identity::Generate();
  for (auto _ : state) benchmark::DoNotOptimize(a.Agree(b));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Agree);

void BM_Generate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Identity::Generate());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace almanac::zt

BENCHMARK_MAIN();
