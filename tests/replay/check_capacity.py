#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A machine too small for a trace is said so, once, in words a user acts on:

1. an imported trace (no recorded outcomes) replayed on a tiny pool: the
   summary says most ops failed for lack of memory and names the option,
   and a warning on stderr says nothing in the trace flags it;
2. VM ops on a machine with no room for the hypervisor pool: the summary
   says why once, and one mismatch line is printed, not one per op;
3. absurd sizes finish in bounded time or are refused up front with the
   limit named (each run here has a timeout far below what they took);
4. a 1 TiB machine replays the default trace, oracles on, in under 512 MiB
   of resident memory, and runs a workload on a pool spanning all of it in
   under 1 GiB: what it costs follows what the run touches, also on
   kernels that allocate a page for every read of untouched memory.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def tiny_pool(hvmm, tmp):
    text = os.path.join(tmp, 'allocs.txt')
    with open(text, 'w') as f:
        for i in range(20):
            f.write('  bash-1402  [001] .....  812.%06d: mm_page_alloc: page=00000000d1e0a8a4 '
                    'pfn=0x%x order=0 migratetype=0 gfp_flags=GFP_KERNEL\n' % (i, 0x1000 + i))
    out = os.path.join(tmp, 'imported.trace')
    r = run([hvmm, 'import', 'ftrace', text, '-o', out])
    if r.returncode:
        return 'import: ' + r.stderr
    r = run([hvmm, 'replay', out, '--pool-pages', '1'])
    want = 'cannot hold this trace (a larger --pool-pages)'
    if 'most ops failed' not in r.stdout or want not in r.stdout:
        return 'summary lacks %r:\n%s' % (want, r.stdout)
    if 'warning: %s: the trace records no outcomes, and most ops failed' % out not in r.stderr:
        return 'no warning on stderr: %r' % r.stderr
    r = run([hvmm, 'replay', out])
    if 'most ops failed' in r.stdout or 'warning' in r.stderr:
        return 'a pool that holds the trace is said not to:\n' + r.stdout + r.stderr
    return None


def no_hyp_pool(hvmm, traces, tmp):
    r = run([hvmm, 'replay', os.path.join(traces, 'vm-churn.trace'), '--ram', '64M',
             '--pool-pages', '0'])
    want = 'ops could not run: VMs need a hypervisor pool of 4096 pages after the allocator pool'
    if want not in r.stdout:
        return 'summary lacks %r:\n%s' % (want, r.stdout)
    lines = [l for l in r.stderr.splitlines() if 'returned ENOTSUP' in l]
    if len(lines) != 1:
        return '%d ENOTSUP mismatch lines, expected one' % len(lines)
    if 'records no outcomes' in r.stderr:
        return 'warned about missing outcomes on a trace that has them'
    return None


def absurd_sizes(hvmm, tmp):
    trace = os.path.join(tmp, 'a.trace')
    r = run([hvmm, 'record', 'alloc-random', '--ops', '606', '-o', trace])
    if r.returncode:
        return 'record: ' + r.stderr
    # Refused at once, the limit named (it ran for minutes).
    r = run([hvmm, 'replay', trace, '--ram', '64G', '--pool-pages', '0', '--oracles', 'full'],
            timeout=20)
    if r.returncode != 2 or 'at most 1048576 pool pages (4 GiB)' not in r.stderr:
        return '--oracles full on a 64 GiB pool: exit %d %s' % (r.returncode, r.stderr)
    # A large pool with incremental oracles runs to the end (0.7 s on a quiet machine).
    r = run([hvmm, 'replay', trace, '--ram', '64G', '--pool-pages', '0'], timeout=100)
    if r.returncode != 0:
        return '64 GiB pool: exit %d %s' % (r.returncode, r.stderr)
    return None


# Runs a command and prints its peak resident memory in KiB as the last line of stderr.
PEAK = ('import resource, subprocess, sys\n'
        'r = subprocess.run(sys.argv[1:])\n'
        'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n'
        'sys.exit(r.returncode)\n')


def peak_under(what, cmd, limit_mib):
    """Runs @cmd (0 violations expected); None if its peak RSS is under @limit_mib."""
    r = run([sys.executable, '-c', PEAK] + cmd, timeout=240)
    lines = r.stderr.splitlines()
    if r.returncode != 0 or 'violations: 0' not in r.stdout or not lines:
        return '%s: exit %d:\n%s%s' % (what, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    rss_mib = int(lines[-1]) >> 10
    if rss_mib >= limit_mib:
        return '%s: maximum RSS %d MiB, expected under %d MiB' % (what, rss_mib, limit_mib)
    print('%s: maximum RSS %d MiB' % (what, rss_mib))
    return None


def terabyte(hvmm, traces):
    # In the second, a pool spans all of it: its final sweep meets 4 GiB of metadata nobody wrote.
    return (peak_under('1 TiB', [hvmm, 'replay', os.path.join(traces, 'default.trace'),
                                 '--ram', '1T'], 512) or
            peak_under('1 TiB pool', [hvmm, 'workload', '--ram', '1T', '--pool-pages',
                                      str(1 << 28), '--ops', '100000'], 1024))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--traces', required=True)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in [('imported trace on a tiny pool',
                          lambda: tiny_pool(args.hvmm, tmp)),
                         ('VM ops without room for the hypervisor pool',
                          lambda: no_hyp_pool(args.hvmm, args.traces, tmp)),
                         ('absurd sizes', lambda: absurd_sizes(args.hvmm, tmp)),
                         ('a 1 TiB machine in bounded memory',
                          lambda: terabyte(args.hvmm, args.traces))]:
            try:
                why = fn()
            except subprocess.TimeoutExpired as e:
                why = 'timed out: %s' % e
            print('%-45s %s' % (name, 'ok' if why is None else 'FAIL: ' + why))
            failed += why is not None
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
