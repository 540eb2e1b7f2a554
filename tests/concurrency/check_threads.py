#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real-threads mode (hvmm threads, sim/threads.h):

1. two host threads, and one, run random ops on mm/ at once and every
   quiescent point is linearized, committed and swept with no violation;
   every op kind succeeded some of the time (so the quiet is not that of
   ops that all failed); how many ops overlapped in time with another
   thread's is printed (not asserted: on a loaded machine the host may
   run the threads one after the other for a while);
2. a lock dropped in mm/ (the mutants buddy-put-no-lock and
   guest-s2-no-vm-lock) is caught under real threads: mm/'s held-lock
   assertion panics on a thread, reported as ROBUST, exit 1 (in the
   ThreadSanitizer build TSan's report of the race may come first: exit 66);
3. a run written as a trace (--record) is its ops in the order each epoch
   was committed: hvmm replays it with no violation and every op returns
   what it returned on the threads;
4. bad options are refused with exit 2.

Built with -Db_sanitize=thread this is the ThreadSanitizer run: a data
race in mm/ or in what the threads share makes the process exit non-zero.

Usage: check_threads.py --hvmm build/hvmm [--mutant NAME=PATH]...
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import checks  # noqa: E402

# Kinds every clean run must see succeed.
MUST_SUCCEED = ['alloc', 'free', 'get', 'put', 'host_share_guest', 'host_unshare_guest',
                'host_donate_guest', 'host_donate_hyp', 'hyp_donate_host', 's2_unmap',
                'guest_share_host']

# ThreadSanitizer's exit status when it reports (tests/run-all sets
# halt_on_error=1, so the first report ends the process).
TSAN_EXIT = 66


def run(cmd):
    return checks.run(cmd, timeout=500)


def clean_run(hvmm, threads, ops, seed):
    r = run([hvmm, 'threads', '--threads', str(threads), '--ops', str(ops), '--seed', str(seed),
             '--json'])
    assert r.returncode == 0, 'threads %d: exit %d\n%s%s' % (threads, r.returncode, r.stdout,
                                                              r.stderr[-3000:])
    d = json.loads(r.stdout)
    assert d['violations'] == 0 and d['undecided'] == 0, d
    assert d['ops'] == threads * ops, d
    assert d['epochs'] >= ops // 64, d
    for k in MUST_SUCCEED:
        assert d['ok_by_kind'].get(k, 0) > 0, 'no %s succeeded: %s' % (k, d)
    assert threads > 1 or d['overlapped'] == 0, d
    print('%d thread(s): %d ops (%d overlapping another thread\'s), %d epochs linearized and '
          'swept (%d ordered by the tables where the results allowed another), %d search '
          'nodes, %.0f ops/s, clean'
          % (threads, d['ops'], d['overlapped'], d['epochs'], d['state_reordered'],
             d['search_nodes'], d['ops_per_second']))


def killed_by(name, r):
    """What killed a lock-dropping mutant: mm/'s held-lock assertion
    (ROBUST, exit 1) or, in the ThreadSanitizer build, whichever comes
    first of that and TSan's report of the race the dropped lock opens
    (halt_on_error: TSan's exit status 66). Which one wins depends on how
    the host schedules the threads; both are the bug caught."""
    robust = 'VIOLATION ROBUST in thread' in r.stderr and 'hvmm_spin_is_locked' in r.stderr
    if r.returncode == 1 and robust:
        return [l for l in r.stderr.splitlines() if 'VIOLATION ROBUST' in l][-1]
    if r.returncode == TSAN_EXIT and 'WARNING: ThreadSanitizer: data race' in r.stderr:
        return 'ThreadSanitizer: data race (exit %d)' % TSAN_EXIT
    raise AssertionError('%s not caught: exit %d\n%s%s' % (name, r.returncode, r.stdout,
                                                           r.stderr[-3000:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--mutant', action='append', default=[])
    args = ap.parse_args()
    clean_run(args.hvmm, 2, 3000, 1)
    clean_run(args.hvmm, 2, 3000, 7)
    clean_run(args.hvmm, 1, 2000, 3)
    for m in args.mutant:
        name, path = m.split('=', 1)
        r = run([path, 'threads', '--threads', '2', '--ops', '2000'])
        print('%s: %s' % (name, killed_by(name, r)))
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, 'threads.trace')
        r = run([args.hvmm, 'threads', '--threads', '2', '--ops', '2000', '--record', trace])
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        r = run([args.hvmm, 'replay', '--json', trace])
        d = json.loads(r.stdout)
        assert r.returncode == 0 and d['violations'] == 0 and d['expect_mismatches'] == 0, \
            (r.returncode, d)
        assert d['ops'] >= 4000, d
        print('recorded run: %d ops replay clean, every outcome as on the threads' % d['ops'])
    for bad in (['--threads', '0'], ['--threads', '9'], ['--threads', '8', '--epoch-ops', '64'],
                ['--check', 'maybe'], ['--allocator', 'nosuch'],
                ['--check', 'off', '--record', '/dev/null']):
        r = run([args.hvmm, 'threads'] + bad)
        assert r.returncode == 2 and r.stderr.startswith('hvmm: '), (bad, r.returncode, r.stderr)
    print('bad options refused with exit 2')
    return 0


if __name__ == '__main__':
    checks.main(main)
