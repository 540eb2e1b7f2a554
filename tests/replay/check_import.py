#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Importers: the bundled samples, and the shared real LTTng trace (skip 77 if absent).

Each import must succeed, report the expected counts, and replay clean.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

# sample, format, lines the report must contain
SAMPLES = [
    ('ftrace-hex.txt', 'ftrace', ['ops: 3 alloc, 2 free; pcp hand-overs: 1',
                                  '1 frees of unknown pages, 0 re-allocations']),
    ('ftrace-decimal.txt', 'ftrace', ['ops: 4 alloc, 3 free; pcp hand-overs: 1',
                                      '0 frees of unknown pages, 1 re-allocations']),
    ('babeltrace2-kmem.txt', 'lttng', ['ops: 3 alloc, 2 free; pcp hand-overs: 1',
                                       '1 other mm_page']),
    ('babeltrace2-page-only.txt', 'lttng', ['ops: 3 alloc, 2 free; pcp hand-overs: 0',
                                            '1 frees of unknown pages']),
]
REAL_COUNTS = ['1128 mm_page_alloc, 964 mm_page_alloc_zone_locked, 193 mm_page_free, '
               '138 mm_page_free_batched, 1 other mm_page']


def check(hvmm, fmt, path, want, tmp):
    out = os.path.join(tmp, 'out.trace')
    r = subprocess.run([hvmm, 'import', fmt, path, '-o', out], capture_output=True, text=True)
    if r.returncode != 0:
        return 'import exit %d: %s' % (r.returncode, r.stderr)
    for w in want:
        if w not in r.stderr:
            return 'report lacks %r:\n%s' % (w, r.stderr)
    r = subprocess.run([hvmm, 'replay', out], capture_output=True, text=True)
    if r.returncode != 0:
        return 'replay of the import: exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--samples', required=True)
    ap.add_argument('--shared', help='the shared directory holding traces-real/')
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.shared is None:
            for name, fmt, want in SAMPLES:
                why = check(args.hvmm, fmt, os.path.join(args.samples, name), want, tmp)
                print('%-30s %s' % (name, 'ok' if why is None else 'FAIL: ' + why))
                failed += why is not None
            return 1 if failed else 0
        real = os.path.join(args.shared, 'traces-real')
        text = os.path.join(real, 'derived', 'uneven-streams-cpu3.mm_page.babeltrace2.txt')
        ctf = os.path.join(real, 'tracecompass-uneven-streams-cpu3-ctf')
        if not os.path.exists(text) or not os.path.isdir(ctf) or not shutil.which('babeltrace2'):
            print('shared real trace or babeltrace2 absent: skipped')
            return 77
        for path in (text, ctf):
            why = check(args.hvmm, 'lttng', path, REAL_COUNTS, tmp)
            print('%-40s %s' % (os.path.basename(path), 'ok' if why is None else 'FAIL: ' + why))
            failed += why is not None
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
