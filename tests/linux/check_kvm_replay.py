#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every bundled trace that runs VMs replays clean on KVM's page tables.

hvmm replay --pgtable linux-kvm runs mm/ with the kernel's own stage-2 code
(arch/arm64/kvm/hyp/pgtable.c) in place of mm/pgtable.c: each trace must
end with 'violations: 0', say which page tables it ran on, and give every
kind of op the same number of failures as the same trace on mm/'s tables
(the traces carry their expected outcomes, which SPEC predicts). The
command line refuses an unknown choice naming the ones it knows, and
lists the option in --help.

Where no kernel source is hosted (-Dlinux_source=disabled) the option must
be refused with a clear error naming -Dlinux_source; the test then skips
(exit 77).
"""
import argparse
import glob
import os
import re
import subprocess
import sys


def run(cmd, timeout=900):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def kinds(out):
    """'ops by kind' lines: kind -> (count, failed)."""
    res = {}
    for m in re.finditer(r'^  (\S+)\s+(\d+)  \((\d+) failed\)$', out, re.M):
        res[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('traces_dir')
    a = ap.parse_args()
    failed = 0

    traces = sorted(t for pat in ('*.trace', 'regressions/*.trace', 'concurrency/*.trace')
                    for t in glob.glob(os.path.join(a.traces_dir, pat))
                    if 'vm_create' in open(t).read())
    probe = run([a.hvmm, 'replay', '--pgtable', 'linux-kvm', traces[0]])
    if probe.returncode == 2 and '-Dlinux_source' in probe.stderr:
        print('# refused as it must be: ' + probe.stderr.strip())
        print('SKIP: no kernel source hosted (-Dlinux_source)')
        return 77

    bogus = run([a.hvmm, 'replay', '--pgtable', 'no-such-tables', traces[0]])
    if bogus.returncode != 2 or 'known: hvmm linux-kvm' not in bogus.stderr:
        print('FAIL: --pgtable no-such-tables: exit %d, %r' % (bogus.returncode, bogus.stderr))
        failed += 1
    helptext = run([a.hvmm, 'replay', '--help']).stdout
    if '--pgtable NAME' not in helptext or 'linux-kvm' not in helptext:
        print('FAIL: hvmm replay --help does not list --pgtable linux-kvm')
        failed += 1

    for t in traces:
        name = os.path.relpath(t, a.traces_dir)
        kvm = run([a.hvmm, 'replay', '--pgtable', 'linux-kvm', '--sweep-every', '1000', t])
        mm = run([a.hvmm, 'replay', '--sweep-every', '1000', t])
        problems = []
        if kvm.returncode != 0:
            problems.append('exit %d' % kvm.returncode)
        if 'violations: 0' not in kvm.stdout:
            problems.append('violations: ' + ' | '.join(
                l for l in (kvm.stdout + kvm.stderr).splitlines() if 'VIOLATION' in l)[:2000])
        if 'page tables linux-kvm' not in kvm.stdout:
            problems.append('the summary does not say it ran on linux-kvm')
        if not kinds(kvm.stdout) or kinds(kvm.stdout) != kinds(mm.stdout):
            problems.append('ops by kind differ from mm/\'s tables: %r vs %r' %
                            (kinds(kvm.stdout), kinds(mm.stdout)))
        ops = sum(n for n, _ in kinds(kvm.stdout).values())
        if problems:
            failed += 1
            print('FAIL %s: %s' % (name, '; '.join(problems)))
        else:
            print('ok %s: %d ops, violations: 0' % (name, ops))
    print('%d traces on linux-kvm, %d failed' % (len(traces), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
