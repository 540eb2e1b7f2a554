#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hvmm stats: exact figures on a small hand-written trace, the same figures
from its binary form, and consistent figures on every bundled trace.

Usage: check_stats.py --hvmm build/hvmm --traces traces/
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

SMALL = """hvmm-trace 1
# h1 is freed, h2 is not, h3 cannot be allocated
alloc h1 order=2
alloc h2 order=0
free h1
alloc h3 order=30
vm_create vm1 vcpus=1
host_donate_guest vm1 ipa=0x40000000 pfn=0x90000 pages=2
"""


def stats(hvmm, path):
    r = subprocess.run([hvmm, 'stats', '--json', path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise AssertionError('stats %s: exit %d: %s' % (path, r.returncode, r.stderr))
    d = json.loads(r.stdout)
    del d['trace']
    return d


def check_small(hvmm, tmp):
    text = os.path.join(tmp, 'small.trace')
    binary = os.path.join(tmp, 'small.htrace')
    with open(text, 'w') as f:
        f.write(SMALL)
    subprocess.run([hvmm, 'convert', text, binary], check=True)
    d = stats(hvmm, text)
    assert d == stats(hvmm, binary), 'text and binary forms give different stats'
    assert d['ops'] == 6, d['ops']
    kinds = d['ops_by_kind']
    assert kinds['alloc'] == {'count': 3, 'failed': 1, 'results': {'ok': 2, 'ENOMEM': 1}}, kinds
    assert kinds['host_donate_guest']['results'] == {'ok': 1}, kinds
    assert d['alloc_orders'] == {'0': {'count': 1, 'failed': 0}, '2': {'count': 1, 'failed': 0},
                                 '30': {'count': 1, 'failed': 1}}, d['alloc_orders']
    live = d['live_pages']
    assert (live['peak'], live['peak_op'], live['peak_allocator']) == (5, 1, 5), live
    assert [(p['op'], p['allocator'], p['guests']) for p in live['curve']] == \
        [(0, 4, 0), (1, 5, 0), (2, 1, 0), (3, 1, 0), (4, 1, 0), (5, 1, 2)], live['curve']
    assert d['never_freed'] == [{'handle': 2, 'pages': 1, 'pfn': d['never_freed'][0]['pfn'],
                                 'refs': 1, 'op': 1}], d['never_freed']
    assert d['vms_never_destroyed'] == [{'vm': 1, 'op': 4, 'guest_pages': 2}], d
    r = subprocess.run([hvmm, 'stats', text], stdout=subprocess.PIPE, text=True, check=True)
    for want in ('alloc ', 'ENOMEM=1', 'order 30', 'allocator  |', 'handles never freed: 1 (1 pages)',
                 'VMs never destroyed: 1'):
        assert want in r.stdout, 'text output lacks %r:\n%s' % (want, r.stdout)


def check_bundled(hvmm, path):
    d = stats(hvmm, path)
    with open(path) as f:
        ops = sum(1 for line in f if line.strip() and not line.startswith('#')
                  and line.split()[0] not in ('hvmm-trace', 'ram', 'reserved', 'mmio', 'allocator',
                                              'pool-base', 'pool-pages', 'pool-reserved', 'vcpus',
                                              'seed'))
    assert d['ops'] == ops, '%d ops, stats says %d' % (ops, d['ops'])
    assert sum(k['count'] for k in d['ops_by_kind'].values()) == ops
    assert d['expect_mismatches'] == 0, d['expect_mismatches']
    assert 'ENOTSUP' not in json.dumps(d['ops_by_kind']), 'ops the simulator cannot run'
    assert d['live_pages']['curve'], 'no curve'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--traces', required=True)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        checks = [('small', lambda: check_small(args.hvmm, tmp))]
        for path in sorted(glob.glob(os.path.join(args.traces, '*.trace'))):
            checks.append((os.path.basename(path), lambda p=path: check_bundled(args.hvmm, p)))
        for name, check in checks:
            try:
                check()
                print('%-30s ok' % name)
            except AssertionError as e:
                print('%-30s FAIL: %s' % (name, e))
                failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
