#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# Builds hvmm's fuzz targets the OSS-Fuzz way: $CC/$CFLAGS instrument
# everything, $LIB_FUZZING_ENGINE is linked into the targets only, and $OUT
# receives each target (no extension) with <target>_seed_corpus.zip,
# <target>.dict and <target>.options.
#
# Where the source is: OSS-Fuzz copies this script to $SRC/build.sh and runs
# it as `bash -eux $SRC/build.sh` from the Dockerfile's WORKDIR, $SRC/hvmm;
# run from a checkout, it is the checkout this script is in. Every other
# variable has a default, so this also runs locally without Docker:
#   .clusterfuzzlite/build.sh            (into fuzz/out/)
is_hvmm() { [ -f "$1/meson.build" ] && [ -f "$1/fuzz/targets.txt.in" ]; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
if is_hvmm "$HERE"; then
	SRC_DIR=$HERE
elif is_hvmm "$PWD"; then
	SRC_DIR=$PWD
elif [ -n "${SRC:-}" ] && is_hvmm "$SRC/hvmm"; then
	SRC_DIR=$SRC/hvmm
else
	echo "build.sh: no hvmm source in $HERE, in the working directory $PWD, nor in \$SRC/hvmm" >&2
	exit 1
fi
: "${CC:=clang}"
: "${CXX:=clang++}"
if [ -z "${CFLAGS:-}" ]; then
	# Not OSS-Fuzz's compile: a libFuzzer + ASan/UBSan build.
	: "${SANITIZER_FLAGS:=-fsanitize=address,undefined -fno-sanitize-recover=undefined}"
	CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SANITIZER_FLAGS"
	LDFLAGS="${LDFLAGS:-$SANITIZER_FLAGS}"
fi
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$SRC_DIR/fuzz/out}"
: "${WORK:=$(mktemp -d)}"
export CC CXX CFLAGS CXXFLAGS LDFLAGS="${LDFLAGS:-}"
# An AFL++ engine build ($CC is afl-clang-fast) gets the libFuzzer build's
# coverage policy through AFL++'s own variable.
export AFL_LLVM_DENYLIST="${AFL_LLVM_DENYLIST:-$SRC_DIR/fuzz/engine/coverage-ignorelist.txt}"

mkdir -p "$OUT" "$WORK"
BUILD="$WORK/hvmm-build"
rm -rf "$BUILD"
# Output goes to a log, shown whole when a step fails. werror off: OSS-Fuzz's
# flags are not ours to keep warning-free.
step() {
	if ! "$@" > "$WORK/hvmm-build.log" 2>&1; then
		cat "$WORK/hvmm-build.log" >&2
		echo "build.sh: failed: $*" >&2
		exit 1
	fi
}
step meson setup "$BUILD" "$SRC_DIR" -Dfuzz_engine=oss-fuzz -Dbench=disabled -Dwerror=false \
	-Db_lundef=false -Dlib_fuzzing_engine="$LIB_FUZZING_ENGINE"
# The targets are the ones fuzz/meson.build lists.
mapfile -t TARGETS < "$BUILD/fuzz/targets.txt"
step ninja -C "$BUILD" "${TARGETS[@]/#/fuzz/fuzz-}"

for t in "${TARGETS[@]}"; do
	cp "$BUILD/fuzz/fuzz-$t" "$OUT/$t"
	opts="[libfuzzer]\nmax_len = 4096\n"
	if [ -f "$SRC_DIR/fuzz/dict/$t.dict" ]; then
		cp "$SRC_DIR/fuzz/dict/$t.dict" "$OUT/$t.dict"
		opts="[libfuzzer]\ndict = $t.dict\nmax_len = 4096\n"
	fi
	printf "$opts" > "$OUT/$t.options"
	rm -f "$OUT/${t}_seed_corpus.zip"
	if [ -d "$SRC_DIR/fuzz/corpus/$t" ]; then
		(cd "$SRC_DIR/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
	fi
done
