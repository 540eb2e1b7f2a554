#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A mutant (hvmm built against mm/ with one bug patched in, tests/mutants/)
is caught, and what catches it is a trace that reproduces and shrinks:

1. the mutant records a scenario and an oracle reports a violation (exit 1);
2. the mutant replays the recorded trace to the same first violation
   (oracle and op index; exit 1);
3. the real hvmm replays it with no violation. Recorded outcomes may differ
   (the mutant changed what ops returned: a stale TLB entry lets a load
   succeed, an unmerged buddy makes an alloc fail), so exit 1 is accepted
   when, and only when, every failure is an outcome mismatch;
4. the mutant minimizes it to fewer ops (no more, for a recording of at
   most ALREADY_SMALL ops) that still show a violation of the same oracle first, and the real hvmm replays that with no violation;
   the real hvmm finds nothing to minimize (exit 2), and --oracle works.

Usage: check_mutants.py --hvmm build/hvmm --mutant build/.../hvmm-mutant-X -- SCENARIO ARGS...
"""
import argparse
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import checks  # noqa: E402


# A bug caught on the first call that reaches it (a held-lock assertion
# fires even with one vCPU) ends the recording within a few ops: such a
# trace may already be as small as it gets, and minimizing must only not
# make it longer.
ALREADY_SMALL = 5


def run(cmd):
    return checks.run(cmd, timeout=None)


def summary(cmd, want_exit):
    r = run(cmd + ['--json'])
    if r.returncode not in want_exit:
        raise AssertionError('%s: exit %d, expected %s\n%s%s' % (' '.join(cmd), r.returncode,
                             want_exit, r.stdout, r.stderr[-2000:]))
    return json.loads(r.stdout)


def first(d):
    """(oracle, op index) of the run's first violation."""
    m = re.match(r'VIOLATION (\S+) at op (\d+)', d['first_violations'][0])
    return m.group(1), int(m.group(2))


def ops(hvmm, path):
    r = run([hvmm, 'stats', '--json', path])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)['ops']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--mutant', required=True)
    ap.add_argument('record', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    scenario = [a for a in args.record if a != '--']
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, 'recorded.trace')
        small = os.path.join(tmp, 'minimized.trace')
        d = summary([args.mutant, 'record', '-o', rec] + scenario, [1])
        assert d['violations'] > 0, 'the mutant recorded no violation: %s' % d
        want = first(d)
        print('recorded %d ops; first violation: %s' % (ops(args.hvmm, rec), d['first_violations'][0]))

        d = summary([args.mutant, 'replay', rec], [1])
        assert first(d) == want, 'mutant replay: first violation %s, recorded %s' % (first(d), want)
        print('mutant replay: same first violation %s at op %d' % want)

        d = summary([args.hvmm, 'replay', rec], [0, 1])
        assert d['violations'] == 0, 'hvmm replay: violations: %s' % d['first_violations']
        print('hvmm replay: no violation, %d recorded outcomes differ' % d['expect_mismatches'])

        r = run([args.mutant, 'minimize', '--max-seconds', '100', rec, '-o', small])
        assert r.returncode == 0, 'minimize: exit %d\n%s%s' % (r.returncode, r.stdout, r.stderr)
        print(r.stdout.strip())
        before, after = ops(args.hvmm, rec), ops(args.hvmm, small)
        if before > ALREADY_SMALL:
            assert after < before, 'minimize kept %d of %d ops' % (after, before)
            assert os.path.getsize(small) < os.path.getsize(rec)
        else:
            assert after <= before, 'minimize grew %d ops to %d' % (before, after)
        d = summary([args.mutant, 'replay', small], [1])
        assert first(d)[0] == want[0], 'minimized: first violation %s, expected %s' % (first(d), want)
        d = summary([args.hvmm, 'replay', small], [0, 1])
        assert d['violations'] == 0, 'hvmm replay of the minimized trace: %s' % d['first_violations']
        # Nothing to minimize on the real code; --oracle names what to keep.
        r = run([args.hvmm, 'minimize', rec, '-o', os.path.join(tmp, 'none.trace')])
        assert r.returncode == 2 and 'nothing to minimize' in r.stderr, (r.returncode, r.stderr)
        r = run([args.mutant, 'minimize', '--oracle', want[0].lower(), small, '-o',
                 os.path.join(tmp, 'again.trace')])
        assert r.returncode == 0 and ('keeps: VIOLATION %s ' % want[0]) in r.stdout, r.stdout
        print('minimized: %d -> %d ops, %d -> %d bytes, still %s on the mutant, clean on hvmm'
              % (before, after, os.path.getsize(rec), os.path.getsize(small), want[0]))
    return 0


if __name__ == '__main__':
    checks.main(main)
