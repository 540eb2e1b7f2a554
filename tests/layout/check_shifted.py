#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The oracles judge mm/ built with shifted encodings (tests/layout/shift.py)
as they judge mm/ itself, because they read its data only through the
layout unit:

1. every bundled trace (traces/*.trace, traces/regressions/*.trace) replays
   on the shifted build with exit 0, no violation and no recorded outcome
   differing, with a sweep every 500 ops, and its summary (ops and failures
   by kind, pages, VMs) equals the real hvmm's;
2. the control: the same shifted mm/ read through the unshifted layout unit
   reports violations (so the shift reaches what the oracles read);
3. each mutant built on the shifted copy records a violation (exit 1).

Usage: check_shifted.py --hvmm H --shifted S --mislaid M --traces DIR
                        [--mutant NAME EXE SCENARIO ARGS...]...
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

SAME = ('ops', 'ops_by_kind', 'peak_pages_in_use', 'pages_in_use', 'vms_live', 'guest_pages',
        'failed_enomem', 'failed_enotsup')


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def summary(cmd):
    r = run(cmd + ['--json'])
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {'error': (r.stdout + r.stderr)[-2000:]}


def parse(argv):
    opts, mutants, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        if a == '--mutant':
            j = i + 3
            while j < len(argv) and argv[j] != '--mutant':
                j += 1
            mutants.append((argv[i + 1], argv[i + 2], argv[i + 3:j]))
            i = j
        else:
            opts[a.lstrip('-')] = argv[i + 1]
            i += 2
    return opts, mutants


def main():
    opts, mutants = parse(sys.argv[1:])
    failures = 0
    traces = sorted(glob.glob(os.path.join(opts['traces'], '*.trace')) +
                    glob.glob(os.path.join(opts['traces'], 'regressions', '*.trace')))
    if not traces:
        print('FAIL: no trace in %s' % opts['traces'])
        return 1
    for t in traces:
        name = os.path.relpath(t, opts['traces'])
        rc, d = summary([opts['shifted'], 'replay', '--sweep-every', '500', t])
        ok = rc == 0 and d.get('violations') == 0 and d.get('expect_mismatches') == 0
        _, want = summary([opts['hvmm'], 'replay', t])
        differ = [k for k in SAME if d.get(k) != want.get(k)]
        if not ok or differ:
            failures += 1
            print('FAIL %s: exit %d, %s violations %s, outcomes differing %s; differs from hvmm '
                  'in %s' % (name, rc, d.get('violations'), d.get('first_violations', d),
                             d.get('expect_mismatches'), differ))
        else:
            print('ok %s: %d ops, %d sweeps, 0 violations, same summary as hvmm'
                  % (name, d['ops'], d['sweeps']))

    # vm-random reads page states, types and owners; heap-churn heap metadata.
    for trace, want in (('vm-random.trace', {'OWNERSHIP', 'TYPE'}), ('heap-churn.trace', {'HEAP-STRUCT'})):
        rc, d = summary([opts['mislaid'], 'replay', os.path.join(opts['traces'], trace)])
        got = set(d.get('violations_by_oracle', {}))
        if rc != 1 or not want <= got:
            failures += 1
            print('FAIL control %s: the shifted mm/ through the unshifted layout unit: exit %d, '
                  'oracles %s, expected %s among them' % (trace, rc, sorted(got), sorted(want)))
        else:
            print('ok control %s: through the unshifted layout unit, %d violations (%s)'
                  % (trace, d['violations'], ', '.join(sorted(got))))

    with tempfile.TemporaryDirectory() as tmp:
        for name, exe, scenario in mutants:
            rc, d = summary([exe, 'record', '-o', os.path.join(tmp, name + '.trace')] + scenario)
            if rc != 1 or not d.get('violations'):
                failures += 1
                print('FAIL mutant %s on the shifted build: exit %d, not caught' % (name, rc))
            else:
                print('ok mutant %s on the shifted build: caught, first %s'
                      % (name, d['first_violations'][0]))
    print('%d failures' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
