#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# Builds hvmm's fuzz targets the OSS-Fuzz way: $CC/$CFLAGS instrument
# everything, $LIB_FUZZING_ENGINE is linked into the targets only, and $OUT
# receives each target (no extension) with <target>_seed_corpus.zip,
# <target>.dict and <target>.options. Every variable has a default, so this
# also runs locally without Docker:  .clusterfuzzlite/build.sh
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${SANITIZER_FLAGS:=-fsanitize=address,undefined -fno-sanitize-recover=undefined}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SANITIZER_FLAGS}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$SRC_DIR/fuzz/out}"
: "${WORK:=$(mktemp -d)}"
export CC CXX CFLAGS CXXFLAGS LDFLAGS="${LDFLAGS:-$SANITIZER_FLAGS}"

mkdir -p "$OUT"
BUILD="$WORK/hvmm-build"
rm -rf "$BUILD"
# werror off: OSS-Fuzz's flags are not ours to keep warning-free.
meson setup "$BUILD" "$SRC_DIR" -Dfuzz_engine=oss-fuzz -Dbench=disabled -Dwerror=false \
	-Db_lundef=false -Dlib_fuzzing_engine="$LIB_FUZZING_ENGINE" >/dev/null
TARGETS="buddy bitmap stage2 machine trace ftrace lttng"
ninja -C "$BUILD" $(for t in $TARGETS; do echo "fuzz/fuzz-$t"; done) >/dev/null

for t in $TARGETS; do
	cp "$BUILD/fuzz/fuzz-$t" "$OUT/$t"
	cp "$SRC_DIR/fuzz/dict/$t.dict" "$OUT/$t.dict"
	printf '[libfuzzer]\ndict = %s.dict\nmax_len = 4096\n' "$t" > "$OUT/$t.options"
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "$SRC_DIR/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
done
