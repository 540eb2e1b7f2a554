#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The conc fuzz target seeds the decisions past an input's written
schedule from the input's ops (fuzz/decode.c): inputs that differ in an op
run other interleavings, each replayable from its --print-trace (the seed
is the trace's). Variants of one race (traces/concurrency/get-race.trace
with `sched vcpu=N` switches of no ops appended) get distinct seeds, run
clean on the real code, and some catch get-page-after-unlock (a get's late
increment overwrites a put's decrement: a put finds refcount 0, ROBUST, or
a free is lost, ALLOC-CONSERVE), whose find replays to a violation on the
mutant and clean on the real code. With one seed for
every input they all run one interleaving past the written schedule."""
import argparse
import itertools
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import checks  # noqa: E402

TAIL = 5             # `sched vcpu=N` switches appended: 4^TAIL variants
VARIANTS = 4 ** TAIL


def run(cmd, env=None):
    r = checks.run(cmd) if env is None else _run_env(cmd, env)
    return r.returncode, r.stdout + r.stderr


def _run_env(cmd, env):
    import subprocess
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=900, env=env)


def mutant_env(so):
    env = dict(os.environ)
    env['LD_PRELOAD'] = so
    # As tests/mutants/run: a sanitizer runtime would otherwise insist on coming first.
    env['ASAN_OPTIONS'] = ':'.join(filter(None, [env.get('ASAN_OPTIONS'),
                                                 'verify_asan_link_order=0',
                                                 'detect_odr_violation=0']))
    return env


def check():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fuzz', required=True, help='the engine-less conc target (-dyn)')
    ap.add_argument('--hvmm', required=True, help='hvmm-dyn')
    ap.add_argument('--mutant', required=True, help='libhvmm_mutant_get-page-after-unlock.so')
    ap.add_argument('trace')
    a = ap.parse_args()
    if not checks.instrumented(a.hvmm, a.trace):
        print('skipped: mm/ is not instrumented (ThreadSanitizer build)')
        return checks.SKIP
    with open(a.trace) as f:
        race = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        traces = os.path.join(tmp, 'traces')
        os.makedirs(traces)
        for i, tail in enumerate(itertools.product(range(4), repeat=TAIL)):
            with open(os.path.join(traces, 'v%03d.trace' % i), 'w') as f:
                f.write(race + ''.join('sched vcpu=%d\n' % v for v in tail))
        names = sorted(os.listdir(traces))
        assert len(names) == VARIANTS
        inputs = []
        for k in range(0, len(names), 64):
            into = os.path.join(tmp, 'in%d' % k)
            cmd = [a.fuzz, '--make-seeds', into, '--seeds', '0']
            for n in names[k:k + 64]:
                cmd += ['--seed-from', os.path.join(traces, n)]
            rc, out = run(cmd)
            assert rc == 0, out
            inputs += [os.path.join(into, f) for f in sorted(os.listdir(into))]
        assert len(inputs) == VARIANTS, '%d inputs from %d traces' % (len(inputs), VARIANTS)

        seeds = set()
        for inp in inputs:
            rc, out = run([a.fuzz, '--print-trace', inp])
            assert rc == 0, out
            m = re.search(r'^seed (\d+)$', out, re.M)
            assert m, out
            seeds.add(m.group(1))
        print('%d inputs, %d distinct seeds' % (len(inputs), len(seeds)))
        assert len(seeds) == len(inputs), \
            'inputs of different ops share the seed of their schedule\'s fallback'

        rc, out = run([a.fuzz] + inputs)
        assert rc == 0, 'the real code fails a variant:\n' + out

        found = [inp for inp in inputs if run([a.fuzz, inp], mutant_env(a.mutant))[0] != 0]
        print('%d of %d variants catch the mutant' % (len(found), len(inputs)))
        assert found, 'no variant interleaves a put\'s decrement inside the get\'s increment'

        viol = os.path.join(tmp, 'find.trace')
        rc, out = run([a.fuzz, '--print-trace', '--trace-out', viol, found[0]])
        assert rc == 0, out
        rc, out = run([a.hvmm, 'replay', viol], mutant_env(a.mutant))
        first = re.search(r'^VIOLATION (\S+) at op (\d+)', out, re.M)
        assert rc == 1 and first, \
            'the find does not replay on the mutant (exit %d):\n%s' % (rc, out)
        print('the find replays on the mutant:', first.group(0))
        rc, out = run([a.hvmm, 'replay', viol])
        assert rc == 0 and 'violations: 0' in out, \
            'the real code fails the find (exit %d):\n%s' % (rc, out)
        print('and clean on the real code')
    return 0


if __name__ == '__main__':
    checks.main(check)
