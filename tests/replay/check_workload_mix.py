#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Workload generators do what they claim.

vm-random: every VM op kind runs, most ops succeed (>= 75%), each kind
succeeds at least 30% of the time and also fails on purpose sometimes
(5..25% of all ops fail: the deliberately invalid share).
day: the night tears everything down: no allocation, VM or guest page left.

Usage: check_workload_mix.py --hvmm build/hvmm
"""
import argparse
import json
import subprocess
import sys

VM_KINDS = ['vm_create', 'vm_destroy', 's2_map', 's2_unmap', 's2_protect', 'host_donate_hyp',
            'hyp_donate_host', 'host_donate_guest', 'host_share_guest', 'host_unshare_guest',
            'guest_share_host', 'guest_unshare_host', 'fault', 'load', 'store', 'vm_pin',
            'vm_unpin']


def workload(hvmm, *args):
    r = subprocess.run([hvmm, 'workload', '--json'] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit('hvmm workload %s: exit %d\n%s%s' % (' '.join(args), r.returncode,
                                                               r.stdout, r.stderr))
    return json.loads(r.stdout)


def check_vm_random(hvmm, seed):
    errors = []
    j = workload(hvmm, 'vm-random', '--ops', '20000', '--seed', str(seed))
    kinds = j['ops_by_kind']
    total = sum(k['count'] for k in kinds.values())
    failed = sum(k['failed'] for k in kinds.values())
    if failed > total * 0.25 or failed < total * 0.05:
        errors.append('%d of %d ops failed, expected 5..25%%' % (failed, total))
    for name in VM_KINDS:
        k = kinds.get(name, {'count': 0, 'failed': 0})
        ok = k['count'] - k['failed']
        if not k['count'] or ok < 0.3 * k['count']:
            errors.append('%s: %d of %d succeeded, expected >= 30%%' % (name, ok, k['count']))
        if not k['failed']:
            errors.append('%s: no deliberately invalid op failed' % name)
    if j['violations']:
        errors.append('%d violations' % j['violations'])
    return ['vm-random seed %d: %s' % (seed, e) for e in errors]


def check_day(hvmm, ops):
    j = workload(hvmm, 'day', '--ops', str(ops), '--seed', '7')
    left = {k: j[k] for k in ('pages_in_use', 'vms_live', 'guest_pages', 'violations') if j[k]}
    return ['day --ops %d: left at the end: %s' % (ops, left)] if left else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    args = ap.parse_args()
    errors = check_vm_random(args.hvmm, 1) + check_vm_random(args.hvmm, 2)
    errors += check_day(args.hvmm, 3000) + check_day(args.hvmm, 20000)
    for e in errors:
        print('FAIL:', e)
    print('%d problems' % len(errors))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
