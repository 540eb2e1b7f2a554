#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every bundled trace: text -> binary -> text is the identity, it replays
clean, and (remake) the "# hvmm record ..." line it carries makes it again,
byte for byte: the workload generators are deterministic and the line says
everything they were given.

Usage: check_bundled.py --hvmm build/hvmm --traces traces/ {roundtrip,replay,remake}
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def roundtrip(hvmm, path, tmp):
    binary = os.path.join(tmp, os.path.basename(path) + '.htrace')
    text = os.path.join(tmp, os.path.basename(path))
    for src, dst in ((path, binary), (binary, text)):
        r = run([hvmm, 'convert', src, dst])
        if r.returncode != 0:
            return 'convert %s %s: exit %d: %s' % (src, dst, r.returncode, r.stderr.strip())
    with open(path, 'rb') as a, open(text, 'rb') as b:
        if a.read() != b.read():
            return 'text -> binary -> text differs from the original'
    if os.path.getsize(binary) >= os.path.getsize(path):
        return 'the binary form is not smaller than the text form'
    return None


def replay(hvmm, path, tmp):
    r = run([hvmm, 'replay', '--json', path])
    if r.returncode != 0:
        return 'replay: exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr)
    if '"violations": 0' not in r.stdout or '"expect_mismatches": 0' not in r.stdout:
        return 'replay: summary does not say clean: ' + r.stdout
    return None


def remake(hvmm, path, tmp):
    with open(path) as f:
        line = next((l for l in f if l.startswith('# hvmm record ')), None)
    if line is None:
        return 'no "# hvmm record ..." line says how it was made'
    out = os.path.join(tmp, os.path.basename(path))
    r = run([hvmm] + shlex.split(line[len('# hvmm '):]) + ['-o', out])
    if r.returncode != 0:
        return '%s: exit %d: %s' % (line.strip(), r.returncode, r.stderr.strip())
    with open(path, 'rb') as a, open(out, 'rb') as b:
        if a.read() != b.read():
            return '%s makes a different trace' % line.strip()
    return None


CHECKS = {'roundtrip': roundtrip, 'replay': replay, 'remake': remake}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--traces', required=True)
    ap.add_argument('check', choices=sorted(CHECKS))
    args = ap.parse_args()
    traces = sorted(glob.glob(os.path.join(args.traces, '*.trace')))
    if not traces:
        print('no traces in', args.traces)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in traces:
            why = CHECKS[args.check](args.hvmm, path, tmp)
            print('%-50s %s' % (os.path.basename(path), 'ok' if why is None else 'FAIL: ' + why))
            failed += why is not None
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
