#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs .clusterfuzzlite/build.sh into a temporary $OUT and checks the result
# as OSS-Fuzz's build check does: every target is there with its seed
# corpus, dictionary and options, has coverage instrumentation, starts and
# runs its seed inputs.
set -eu
SRC=$1
command -v clang >/dev/null || { echo "no clang: skipped"; exit 77; }
command -v zip >/dev/null || { echo "no zip: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
OUT=$T/out WORK=$T/work CC=clang CXX=clang++ "$SRC/.clusterfuzzlite/build.sh"
for t in buddy bitmap stage2 machine trace ftrace lttng; do
	for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
		[ -s "$T/out/$f" ] || { echo "FAIL: $f missing from \$OUT"; exit 1; }
	done
	nm "$T/out/$t" | grep -q __sanitizer_cov_trace_pc || nm "$T/out/$t" | grep -q __sancov_ ||
		{ echo "FAIL: $t has no coverage instrumentation"; exit 1; }
	mkdir -p "$T/seeds/$t"
	(cd "$T/seeds/$t" && unzip -q "$T/out/${t}_seed_corpus.zip")
	"$T/out/$t" -runs=0 "$T/seeds/$t" > "$T/$t.log" 2>&1 ||
		{ echo "FAIL: $t did not run its seeds"; tail -20 "$T/$t.log"; exit 1; }
	grep -q INITED "$T/$t.log" || { echo "FAIL: $t did not start"; exit 1; }
	echo "ok: $t"
done
