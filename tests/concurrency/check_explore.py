#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hvmm explore on a race trace: the real code is clean over every
interleaving up to the bound (and the search completes); a mutant's bug is
found, written as a trace with its schedule, which the mutant replays to
the same violation and the real hvmm replays clean; without sleep sets and
hashing the search needs more schedules than with them."""
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import checks  # noqa: E402


def run(cmd):
    r = checks.run(cmd)
    return r.returncode, r.stdout + r.stderr


def schedules(out):
    m = re.search(r': (\d+) schedules explored', out)
    assert m, out
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--mutant', required=True,
                    help='a mutant hvmm, or with --dyn the mutant library to preload')
    ap.add_argument('--dyn', help='hvmm-dyn, to run with --mutant preloaded')
    ap.add_argument('--oracle', required=True)
    ap.add_argument('trace')
    a = ap.parse_args()
    # Preloaded over hvmm-dyn as tests/mutants/run does: a sanitizer runtime
    # would otherwise have to come first in the load order.
    asan = ':'.join(filter(None, [os.environ.get('ASAN_OPTIONS'), 'verify_asan_link_order=0']))
    mutant = (['env', 'LD_PRELOAD=' + a.mutant, 'ASAN_OPTIONS=' + asan, a.dyn] if a.dyn
              else [a.mutant])
    if not checks.instrumented(a.hvmm, a.trace):
        print('skipped: mm/ is not instrumented (ThreadSanitizer build)')
        return checks.SKIP
    rc, out = run([a.hvmm, 'explore', '--max-schedules', '200000', a.trace])
    print(out, end='')
    assert rc == 0, 'hvmm explore: exit %d' % rc
    assert 'search: exhaustive' in out, 'the bounded search did not complete'
    assert 'violations: 0' in out
    reduced = schedules(out)
    # The same budget without the reductions does not get through the search.
    rc, out = run([a.hvmm, 'explore', '--no-sleep-sets', '--no-hashing',
                   '--max-schedules', str(reduced), '--pct-runs', '0', a.trace])
    assert rc == 0, out
    assert 'search: incomplete' in out, out
    print('without sleep sets and hashing, %d schedules do not complete the search' % reduced)
    with tempfile.TemporaryDirectory() as tmp:
        viol = os.path.join(tmp, 'violation.trace')
        rc, out = run(mutant + ['explore', '-o', viol, a.trace])
        print(out, end='')
        assert rc == 1, 'mutant explore: exit %d' % rc
        # The oracle, the op and the message must be the same; the op's
        # number need not: a violation the sweep finds once the witness
        # order is committed is numbered among the committed ops, after the
        # schedule's lines, of which the written trace has more.
        first = re.search(r'^VIOLATION (\S+) at op \d+ (.*)$', out, re.M)
        assert first and first.group(1) == a.oracle, out
        rc, out = run(mutant + ['replay', viol])
        again = re.search(r'^VIOLATION (\S+) at op \d+ (.*)$', out, re.M)
        assert rc == 1 and again and again.groups() == first.groups(), out
        rc, out = run([a.hvmm, 'replay', viol])
        assert rc == 0 and 'violations: 0' in out, out
        print('mutant: %s at %s, replayed step for step; clean on hvmm' % first.groups())
    return 0


if __name__ == '__main__':
    checks.main(main)
