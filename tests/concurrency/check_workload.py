#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs 'hvmm workload SCENARIO ...' (a concurrent scenario) or 'hvmm
explore TRACE' and requires a clean run that interleaved (for explore: a
search that completed); skipped (77) where mm/ has no event
instrumentation (the ThreadSanitizer build), since nothing interleaves
there."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import checks  # noqa: E402


def main():
    hvmm, probe, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not checks.instrumented(hvmm, probe):
        print('skipped: mm/ is not instrumented (ThreadSanitizer build)')
        return checks.SKIP
    r = checks.run([hvmm] + args)
    print(r.stdout + r.stderr, end='')
    assert r.returncode == 0, 'exit %d' % r.returncode
    want = 'search: exhaustive' if args[0] == 'explore' else 'interleaved:'
    assert want in r.stdout and 'violations: 0' in r.stdout, \
        'expected "%s" and no violation' % want
    return 0


if __name__ == '__main__':
    checks.main(main)
