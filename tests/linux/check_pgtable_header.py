#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A trace names the page tables it ran on, and every command follows it.

A run on KVM's page tables (hvmm ... --pgtable linux-kvm) writes
'pgtable linux-kvm' in its trace's header, text and binary; 'hvmm replay'
of that trace, with no option, runs it there again (the summary says so);
'--pgtable hvmm' on the command line overrides the header; a trace on
standard input cannot be re-read by another program, so there the command
asks for the option; an unknown name is refused at its line. Where no
kernel source is hosted, a trace that names linux-kvm is refused at its
line naming -Dlinux_source, and the rest skips (exit 77).
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run(cmd, stdin=None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, input=stdin)


def with_header_line(src, dst, line):
    """@src with @line after its version line."""
    lines = open(src).read().splitlines(True)
    with open(dst, 'w') as f:
        f.write(lines[0] + line + '\n' + ''.join(lines[1:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('trace', help='a bundled trace that runs VMs')
    a = ap.parse_args()
    bad = []

    def expect(cond, what):
        print(('ok' if cond else 'FAIL') + ': ' + what)
        if not cond:
            bad.append(what)

    with tempfile.TemporaryDirectory() as d:
        named = os.path.join(d, 'named.trace')
        with_header_line(a.trace, named, 'pgtable linux-kvm')
        unknown = os.path.join(d, 'unknown.trace')
        with_header_line(a.trace, unknown, 'pgtable no-such-tables')

        r = run([a.hvmm, 'replay', unknown])
        expect(r.returncode == 2 and unknown + ':2: pgtable no-such-tables: unknown page tables'
               in r.stderr, 'an unknown pgtable is refused at its line (exit %d, %r)'
               % (r.returncode, r.stderr.strip()))
        twice = os.path.join(d, 'twice.trace')
        with_header_line(named, twice, 'pgtable hvmm')
        r = run([a.hvmm, 'replay', twice])
        expect(r.returncode == 2 and ':3:' in r.stderr and "'pgtable' once" in r.stderr,
               'a second pgtable line is refused at its line (%r)' % r.stderr.strip())

        r = run([a.hvmm, 'replay', named])
        if r.returncode == 2 and '-Dlinux_source' in r.stderr:
            expect(named + ':2: pgtable linux-kvm' in r.stderr,
                   'without a hosted kernel, the line is named (%r)' % r.stderr.strip())
            if bad:
                return 1
            print('SKIP: no kernel source hosted (-Dlinux_source)')
            return 77
        expect(r.returncode == 0 and 'page tables linux-kvm' in r.stdout and
               'violations: 0' in r.stdout,
               'hvmm replay follows the header to KVM\'s tables (exit %d)' % r.returncode)
        r = run([a.hvmm, 'replay', '--pgtable', 'hvmm', named])
        expect(r.returncode == 0 and 'page tables' not in r.stdout.splitlines()[0],
               '--pgtable hvmm overrides the header (%r)' % r.stdout.splitlines()[:1])
        r = run([a.hvmm, 'replay', '-'], stdin=open(named).read())
        expect(r.returncode == 2 and 'give --pgtable linux-kvm' in r.stderr,
               'on standard input the option is asked for (%r)' % r.stderr.strip())
        r = run([a.hvmm, 'replay', '--pgtable', 'linux-kvm', '-'], stdin=open(named).read())
        expect(r.returncode == 0 and 'page tables linux-kvm' in r.stdout,
               'on standard input with --pgtable linux-kvm it runs there')

        for out in ('rec.trace', 'rec.htrace'):
            path = os.path.join(d, out)
            r = run([a.hvmm, 'record', '--pgtable', 'linux-kvm', 'vm-random', '--ops', '200',
                     '-o', path])
            expect(r.returncode == 0, 'hvmm record --pgtable linux-kvm -o %s' % out)
            if out.endswith('.trace'):
                expect('\npgtable linux-kvm\n' in open(path).read(),
                       'the recorded text trace names its page tables')
            r = run([a.hvmm, 'replay', path])
            expect(r.returncode == 0 and 'page tables linux-kvm' in r.stdout and
                   'violations: 0' in r.stdout and 'recorded outcomes not reproduced' not in r.stdout,
                   'the recorded %s replays on KVM\'s tables with its outcomes' % out)
        r = run([a.hvmm, 'record', 'vm-random', '--ops', '50'])
        expect(r.returncode == 0 and '\npgtable ' not in r.stdout,
               'a trace on mm/\'s own tables has no pgtable line')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
