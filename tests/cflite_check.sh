#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs .clusterfuzzlite/build.sh the way OSS-Fuzz's `compile` does, and
# checks the result as OSS-Fuzz's build check does.
#
# The layout is the Dockerfile's: the source copied to $SRC/hvmm, build.sh
# copied to $SRC/build.sh, run as `bash -eux $SRC/build.sh` with the working
# directory $SRC/hvmm and OSS-Fuzz's environment for a libFuzzer + ASan
# build ($SRC, $OUT, $WORK, $CC, $CFLAGS, $LIB_FUZZING_ENGINE, ...; $CXXFLAGS
# without -stdlib=libc++, which Debian's clang has no library for: hvmm has
# no C++). Then every target must be in $OUT with its seed corpus,
# dictionary and options, have coverage instrumentation, start and run its
# seed inputs.
#
#   cflite_check.sh SOURCE_ROOT TARGET...
set -eu
ROOT=$1
shift
command -v clang >/dev/null || { echo "no clang: skipped"; exit 77; }
command -v zip >/dev/null || { echo "no zip: skipped"; exit 77; }
command -v unzip >/dev/null || { echo "no unzip: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/hvmm" "$T/out" "$T/work"
# COPY . $SRC/hvmm: the checkout's files (without build or campaign directories).
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$T/src/hvmm" -xf -
else
	tar -C "$ROOT" --exclude='./build*' --exclude='./campaign*' -cf - . | tar -C "$T/src/hvmm" -xf -
fi
cp "$ROOT/.clusterfuzzlite/build.sh" "$T/src/build.sh"
CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
CFLAGS="$CFLAGS -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
if ! (cd "$T/src/hvmm" && env -u SANITIZER_FLAGS -u LDFLAGS \
	SRC="$T/src" OUT="$T/out" WORK="$T/work" CC=clang CXX=clang++ \
	CFLAGS="$CFLAGS" CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	SANITIZER=address FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=c ARCHITECTURE=x86_64 \
	bash -eux "$T/src/build.sh") > "$T/build.log" 2>&1; then
	echo "FAIL: build.sh failed in OSS-Fuzz's layout:"
	tail -40 "$T/build.log"
	exit 1
fi
[ $# -gt 0 ] || { echo "FAIL: no targets given"; exit 1; }
for t in "$@"; do
	for f in "$t" "$t.options"; do
		[ -s "$T/out/$f" ] || { echo "FAIL: $f missing from \$OUT"; exit 1; }
	done
	for f in "$t.dict" "${t}_seed_corpus.zip"; do
		[ -s "$T/out/$f" ] || echo "note: $t has no $f"
	done
	nm "$T/out/$t" | grep -q __sanitizer_cov_trace_pc || nm "$T/out/$t" | grep -q __sancov_ ||
		{ echo "FAIL: $t has no coverage instrumentation"; exit 1; }
	# The coverage policy of the libFuzzer build: no comparison tracing.
	if objdump -d --no-show-raw-insn "$T/out/$t" | grep -q 'call.*<__sanitizer_cov_trace_cmp'; then
		echo "FAIL: $t has comparison tracing"; exit 1
	fi
	mkdir -p "$T/seeds/$t"
	[ -f "$T/out/${t}_seed_corpus.zip" ] && (cd "$T/seeds/$t" && unzip -q "$T/out/${t}_seed_corpus.zip")
	"$T/out/$t" -runs=0 "$T/seeds/$t" > "$T/$t.log" 2>&1 ||
		{ echo "FAIL: $t did not run its seeds"; tail -20 "$T/$t.log"; exit 1; }
	grep -q INITED "$T/$t.log" || { echo "FAIL: $t did not start"; exit 1; }
	echo "ok: $t"
done
