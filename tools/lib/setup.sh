# Shared set-up for tools/run and tools/test: installs the Debian packages Almanac
# builds with (only those missing), and exports what the build and tests read.
# Sourced, not run: it sets ALMANAC_ROOT and ALMANAC_SHARED in the caller.

ALMANAC_PACKAGES=(
  bazel-bootstrap bazel-rules-java pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libsodium-dev libabsl-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev nlohmann-json3-dev liblz4-dev
  libbenchmark-dev
  # Process-level tests drive the daemon with these.
  python3 curl iproute2
  # tools/fuzz: libFuzzer targets are built with clang-14 (ASan + UBSan).
  clang-14 libfuzzer-14-dev
)

almanac_install_packages() {
  local missing=()
  local pkg
  for pkg in "${ALMANAC_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "almanac: installing missing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "almanac: run as root to install packages (or install them first)" >&2
    return 1
  fi
  # A fresh machine has no package lists yet: update before the first install.
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >&2 || return 1
}

ALMANAC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ALMANAC_ROOT

# shared/ (vectors and docs) sits beside the checkout, in development and in CI.
if [ -z "${ALMANAC_SHARED:-}" ] && [ -d "$ALMANAC_ROOT/../shared/vectors" ]; then
  ALMANAC_SHARED=$(cd "$ALMANAC_ROOT/../shared" && pwd)
fi
export ALMANAC_SHARED="${ALMANAC_SHARED:-}"
