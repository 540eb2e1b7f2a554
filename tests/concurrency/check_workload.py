#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs 'hvmm workload SCENARIO ...' (a concurrent scenario) or 'hvmm
explore TRACE' and requires a clean run that interleaved (for explore: a
search that completed); skipped (77) where mm/ has no event
instrumentation (the ThreadSanitizer build), since nothing interleaves
there."""
import subprocess
import sys


def main():
    hvmm, probe, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    r = subprocess.run([hvmm, 'explore', '--max-schedules', '1', '--pct-runs', '0', probe],
                       capture_output=True, text=True, timeout=600)
    if r.returncode == 2 and 'without the event instrumentation' in r.stderr:
        print('skipped: mm/ is not instrumented (ThreadSanitizer build)')
        return 77
    r = subprocess.run([hvmm] + args, capture_output=True, text=True, timeout=900)
    print(r.stdout + r.stderr, end='')
    if r.returncode != 0:
        print('FAIL: exit %d' % r.returncode)
        return 1
    want = 'search: exhaustive' if args[0] == 'explore' else 'interleaved:'
    if want not in r.stdout or 'violations: 0' not in r.stdout:
        print('FAIL: expected "%s" and no violation' % want)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
