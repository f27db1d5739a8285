#!/usr/bin/env bash
# Builds wasm/core.wasm from core-rs, offline and reproducibly (the packages are installed by .ci/run):
# Debian's rustc-web (std built from its vendored sources), wasm-ld-22, then wasm-opt -O3.
#   bash scripts/build-wasm.sh          build, write wasm/core.wasm and wasm/BUILD-INFO
#   bash scripts/build-wasm.sh --check  rebuild in a temp dir; exit 1 if it differs from wasm/core.wasm
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE="$ROOT/core-rs"
MODE="${1:-build}"
RUSTC_BIN="${RUSTC_BIN:-/usr/bin/rustc}"
STD_SRC="$("$RUSTC_BIN" --print sysroot)/lib/rustlib/src/rust"
[ -d "$STD_SRC/library" ] || STD_SRC=/usr/lib/rustlib/src/rust
LINKER="${WASM_LD:-wasm-ld-22}"

for tool in "$RUSTC_BIN" "$LINKER" wasm-opt cargo; do
  command -v "$tool" >/dev/null || { echo "build-wasm: missing $tool (apt-get install rustc-web cargo-web rust-web-src lld-22 binaryen)" >&2; exit 2; }
done

case "$MODE" in
  build) TARGET_DIR="$CRATE/target/wasm"; OUT="$ROOT/wasm/core.wasm" ;;
  --check) TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT; TARGET_DIR="$TMP/target"; OUT="$TMP/core.wasm" ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# Reproducibility: no absolute paths (crate, std sources, cargo home, target dir) reach the binary, one
# codegen unit with LTO (release profile), no debug info, and wasm-opt drops the names/producers sections.
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
export RUSTC="$RUSTC_BIN" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$TARGET_DIR" SOURCE_DATE_EPOCH=0
export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Cdebuginfo=0 -Cstrip=debuginfo \
--remap-path-prefix=$CRATE=/tsprofile/core-rs --remap-path-prefix=$STD_SRC=/rustc-src \
--remap-path-prefix=$CARGO_HOME_DIR=/cargo --remap-path-prefix=$TARGET_DIR=/target"
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

START=$(date +%s.%N)
(cd "$CRATE" && cargo build --release --offline --quiet --locked \
  --target wasm32-unknown-unknown -Z build-std=std,panic_abort \
  --config 'source.crates-io.replace-with="rust-src-vendor"' \
  --config "source.rust-src-vendor.directory=\"$STD_SRC/library/vendor\"" \
  --config "target.wasm32-unknown-unknown.linker=\"$LINKER\"")
RAW="$TARGET_DIR/wasm32-unknown-unknown/release/tsprofile_core.wasm"
wasm-opt -O3 --strip-debug --strip-producers "$RAW" -o "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
END=$(date +%s.%N)

# The module must be import-free: WebAssembly.instantiate(bytes, {}) has to work everywhere.
if wasm-opt --print "$OUT" 2>/dev/null | grep -q '(import '; then
  echo "build-wasm: $OUT has imports" >&2; exit 1
fi

SUM="$(sha256sum "$OUT" | cut -d' ' -f1)"
if [ "$MODE" = "--check" ]; then
  WANT="$(sha256sum "$ROOT/wasm/core.wasm" | cut -d' ' -f1)"
  if [ "$SUM" != "$WANT" ]; then
    echo "build-wasm --check: rebuilt core.wasm ($SUM) differs from wasm/core.wasm ($WANT); rustc: $("$RUSTC_BIN" --version)" >&2
    exit 1
  fi
  echo "build-wasm --check: wasm/core.wasm matches a fresh build ($SUM)"
  exit 0
fi
{
  echo "rustc: $("$RUSTC_BIN" --version)"
  echo "wasm-ld: $("$LINKER" --version | head -1)"
  echo "wasm-opt: $(wasm-opt --version)"
  echo "sha256: $SUM  wasm/core.wasm"
  echo "size: $(stat -c %s "$OUT") bytes"
} > "$ROOT/wasm/BUILD-INFO"
printf 'build-wasm: wrote wasm/core.wasm (%s bytes, sha256 %s) in %.1f s\n' "$(stat -c %s "$OUT")" "$SUM" "$(echo "$END - $START" | bc)"
