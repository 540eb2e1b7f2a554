#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hvmm replay with the oracles off runs in hvmm-plain (mm/ without its
event hooks) and must do exactly what hvmm does: the trace it writes with
--record and its summary are those of the same replay in hvmm
(HVMM_MM_EVENTS=1), for every bundled trace and regression, among them
the concurrent blocks that hvmm-plain hands back to hvmm (their interleaver
switches vCPUs at mm/'s accesses, and the schedule --record writes shows
it). hvmm-plain run directly on what it does not run (oracles on, another
command) hands it to hvmm. A replay without --record, which runs the ops
a batch at a time, ends as one with it, which runs them one by one.

Usage: check_plain.py --hvmm build/hvmm --traces traces/
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, env=env)
    # The summary's first line gives the time the run took: the rest must match.
    r.stdout = re.sub(rb' in [0-9.]+ s \([0-9]+ ops/s\)', b'', r.stdout)
    # A sanitizer's runtime notices name the process (==PID==).
    r.stderr = re.sub(rb'^==[0-9]+==', b'==PID==', r.stderr, flags=re.M)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--traces', required=True)
    a = ap.parse_args()
    plain = os.path.join(os.path.dirname(os.path.abspath(a.hvmm)), 'hvmm-plain')
    if not os.access(plain, os.X_OK):
        print('FAIL: %s is missing' % plain)
        return 1
    events = dict(os.environ, HVMM_MM_EVENTS='1')
    quiet = {k: v for k, v in os.environ.items() if k != 'HVMM_MM_EVENTS'}
    traces = sorted(glob.glob(os.path.join(a.traces, '*.trace')) +
                    glob.glob(os.path.join(a.traces, 'regressions', '*.trace')))
    failed = 0
    conc = 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in traces:
            with open(t) as f:
                conc += any(line.startswith('sched') for line in f)
            outs = []
            for env, name in ((events, 'hvmm'), (quiet, 'plain')):
                out = os.path.join(tmp, name + '.trace')
                r = run([a.hvmm, 'replay', '--oracles', 'off', '--record', out, t], env)
                with open(out, 'rb') as f:
                    outs.append((r.returncode, r.stdout, f.read()))
                os.unlink(out)
            if outs[0] != outs[1]:
                print('FAIL: %s: replay --oracles off in hvmm-plain differs from hvmm '
                      '(exit %d / %d, summary %s, record %s)'
                      % (os.path.basename(t), outs[0][0], outs[1][0],
                         'same' if outs[0][1] == outs[1][1] else 'differs',
                         'same' if outs[0][2] == outs[1][2] else 'differs'))
                failed += 1
            # Without --record the ops run a batch at a time (one panic catcher
            # a batch): exit, summary and messages as when they run one by one.
            for oracles in (['--oracles', 'off'], []):
                out = os.path.join(tmp, 'one.trace')
                one = run([a.hvmm, 'replay'] + oracles + ['--record', out, t], quiet)
                os.unlink(out)
                batch = run([a.hvmm, 'replay'] + oracles + [t], quiet)
                if (one.returncode, one.stdout, one.stderr) != \
                   (batch.returncode, batch.stdout, batch.stderr):
                    print('FAIL: %s: replay %s without --record differs from with it '
                          '(exit %d / %d, summary %s, messages %s)'
                          % (os.path.basename(t), ' '.join(oracles) or '(oracles on)',
                             batch.returncode, one.returncode,
                             'same' if one.stdout == batch.stdout else 'differs',
                             'same' if one.stderr == batch.stderr else 'differs'))
                    failed += 1
        if not conc:
            print('FAIL: no trace with a concurrent block among %d' % len(traces))
            failed += 1
        # Run directly on what it must not run itself: the same as hvmm.
        t = os.path.join(a.traces, 'regressions', 'conc-block-vm-ops-serial.trace')
        for args in (['replay', t], ['stats', t]):
            want, got = run([a.hvmm] + args, quiet), run([plain] + args, quiet)
            if (want.returncode, want.stdout) != (got.returncode, got.stdout):
                print('FAIL: hvmm-plain %s: exit %d, against %d from hvmm'
                      % (' '.join(args[:1]), got.returncode, want.returncode))
                failed += 1
    print('%d traces (%d with a concurrent block), %d failed' % (len(traces), conc, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
