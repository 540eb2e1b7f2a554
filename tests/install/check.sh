#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs hvmm from the build directory into a temporary root (meson
# install --destdir), then configures, builds and runs the out-of-tree
# example project (tests/install/example) against the installed
# libhvmm-sim through pkg-config, as another project would.
#   check.sh SOURCE_DIR BUILD_DIR [CC [SANITIZERS]]
# CC and SANITIZERS are the build's: the example is compiled the same way,
# as it must be to link a sanitized library.
set -eu
SRC=$1
BUILD=$2
export CC="${3:-cc}"
SAN="${4:-none}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
meson install -C "$BUILD" --destdir "$T/root" --no-rebuild >"$T/install.log" 2>&1 ||
	{ echo "FAIL: meson install"; tail -20 "$T/install.log"; exit 1; }
pc=$(find "$T/root" -name hvmm-sim.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no hvmm-sim.pc installed"; exit 1; }
for h in hvmm/platform.h hvmm-sim/machine.h hvmm-sim/alloc/allocator.h hvmm-sim/pgtable/pgtable.h; do
	find "$T/root" -path "*/include/$h" | grep -q . || { echo "FAIL: $h not installed"; exit 1; }
done
# The .pc file names the final prefix; the sysroot maps it into the temporary root.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$T/root"
meson setup "$T/example" "$SRC/tests/install/example" -Db_sanitize="$SAN" -Db_lundef=false \
	>"$T/setup.log" 2>&1 ||
	{ echo "FAIL: the example does not configure"; tail -20 "$T/setup.log"; exit 1; }
ninja -C "$T/example" >"$T/build.log" 2>&1 ||
	{ echo "FAIL: the example does not build"; tail -20 "$T/build.log"; exit 1; }
"$T/example/example"
"$T/example/example" --bug || { echo "FAIL: the oracles missed the example's planted bug"; exit 1; }
echo "ok: the example built against the installed library, ran clean, and its planted bug was caught"
