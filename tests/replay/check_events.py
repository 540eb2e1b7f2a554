#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The events mm/ emits through its trace hook are the traces hvmm replays:
a run's --events output, imported with 'hvmm import ftrace', replays to the
same allocator states, event for event (the same blocks allocated and freed
in the same order), and the recording holds the stage-2 and ownership
events of VM ops. (The stage-2 events are checked against the page tables
by tests/unit/test_trace_hooks.c.)

Usage: check_events.py --hvmm build/hvmm
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

PAGE_EVENT = re.compile(r'\] +[0-9.]+: (mm_page_(?:alloc|free): .*)$')


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240,
                          text=True)


def page_events(path):
    out = []
    with open(path) as f:
        for line in f:
            m = PAGE_EVENT.search(line.rstrip('\n'))
            if m:
                out.append(m.group(1))
    return out


def round_trip(hvmm, tmp, scenario, ops):
    first = os.path.join(tmp, scenario + '.events')
    trace = os.path.join(tmp, scenario + '.imported.trace')
    again = os.path.join(tmp, scenario + '.again.events')
    r = run([hvmm, 'record', scenario, '--ops', str(ops), '-o', os.path.join(tmp, 'rec.trace'),
             '--events', first])
    if r.returncode != 0:
        return 'record %s --events: exit %d %s' % (scenario, r.returncode, r.stderr)
    r = run([hvmm, 'import', '--strict', 'ftrace', first, '-o', trace])
    if r.returncode != 0:
        return 'import --strict of the recorded events: exit %d %s' % (r.returncode, r.stderr)
    r = run([hvmm, 'replay', '--events', again, trace])
    if r.returncode != 0:
        return 'replay of the imported trace: exit %d %s%s' % (r.returncode, r.stdout, r.stderr)
    a, b = page_events(first), page_events(again)
    if len(a) < ops // 2:
        return 'only %d page events for %d ops of %s' % (len(a), ops, scenario)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return 'page event %d differs: recorded %r, replayed %r' % (i, x, y)
    if len(a) != len(b):
        return '%d page events recorded, %d replayed' % (len(a), len(b))
    print('#   %s: %d page events, identical after import and replay' % (scenario, len(a)))
    return None


def vm_events(hvmm, tmp):
    ev = os.path.join(tmp, 'vm.events')
    r = run([hvmm, 'workload', 'vm-random', '--ops', '2000', '--events', ev])
    if r.returncode != 0:
        return 'workload vm-random --events: exit %d %s' % (r.returncode, r.stderr)
    text = open(ev).read()
    for name in ('hvmm_s2_map:', 'hvmm_s2_unmap:', 'hvmm_ownership:', 'hvmm_hyp_page_alloc:'):
        if text.count(name) < 50:
            return 'vm-random emitted %d %s events' % (text.count(name), name)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        cases = [('alloc-random round trip', lambda: round_trip(args.hvmm, tmp, 'alloc-random', 5000)),
                 ('day round trip', lambda: round_trip(args.hvmm, tmp, 'day', 5000)),
                 ('vm-random emits stage-2 and ownership events', lambda: vm_events(args.hvmm, tmp))]
        for label, fn in cases:
            try:
                why = fn()
            except subprocess.TimeoutExpired as e:
                why = 'timed out: %s' % e
            print('%-50s %s' % (label, 'ok' if not why else 'FAIL: ' + why))
            failed += why is not None
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
