#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The machine corpus's full-VM-table seeds keep their reach: each decodes
(fuzz-machine --print-trace) to a machine with the 2048-page hypervisor
pool a header's bit 7 picks, and its replay leaves 254 VMs live with no
violation, one create short of every VMID in use. If the decoder lost
that pool choice, the seeds would run clean on a smaller pool, their
creates refused for memory, and the fuzzers' reach of the VM table's
last slot (vm-create-last-slot) would go without any test noticing.

Usage: check_vm_table_seeds.py --fuzz build/fuzz/fuzz-machine --hvmm build/hvmm SEED...
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fuzz', required=True)
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('seeds', nargs='+')
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            name = os.path.basename(seed)
            trace = os.path.join(tmp, name + '.trace')
            r = subprocess.run([a.fuzz, '--print-trace', '--trace-out', trace, seed],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            if r.returncode != 0 or not os.path.exists(trace):
                print('FAIL: %s: --print-trace exited %d:\n%s' %
                      (name, r.returncode, r.stdout.decode(errors='replace')[-1000:]))
                failed += 1
                continue
            text = open(trace).read()
            if not re.search(r'^hyp-pool-pages 2048$', text, re.M):
                print('FAIL: %s: decodes to no 2048-page hypervisor pool' % name)
                failed += 1
                continue
            r = subprocess.run([a.hvmm, 'replay', trace], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            out = r.stdout.decode(errors='replace')
            live = re.search(r'^VMs live at end: (\d+)', out, re.M)
            if r.returncode != 0 or not live or live.group(1) != '254' or \
                    not re.search(r'^violations: 0$', out, re.M):
                print('FAIL: %s: replay exited %d, %s VMs live at end (254 expected):\n%s' %
                      (name, r.returncode, live.group(1) if live else 'no count of', out[-1500:]))
                failed += 1
                continue
            print('ok: %s: 2048-page hypervisor pool, 254 VMs live, 0 violations' % name)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
