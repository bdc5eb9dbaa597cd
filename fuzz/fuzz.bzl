"""almanac_fuzz_target: one libFuzzer target plus a corpus replay test.

Each target is a file defining LLVMFuzzerTestOneInput. Two builds of it exist:
- the default (gcc) build links replay_main.cc, a driver that runs every file of the
  seed corpus once; `<name>_corpus_test` does that under `bazel test`, so the seeds (and
  any crash input added to them) are replayed by the ordinary and the ASan test suites;
- `--config=fuzz` (clang-14, see tools/fuzz) links libFuzzer's own main instead.
"""

def almanac_fuzz_target(name, srcs, deps = [], size = "small"):
    corpus = native.glob(["corpus/%s/**" % name])
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name,
        testonly = True,
        deps = [":" + name + "_lib"] + select({
            ":libfuzzer": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    native.sh_test(
        name = name + "_corpus_test",
        size = size,
        srcs = ["replay_corpus.sh"],
        args = ["$(location :%s)" % name, "fuzz/corpus/" + name],
        data = [":" + name] + corpus,
    )
