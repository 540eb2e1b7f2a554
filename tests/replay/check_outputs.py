#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nothing lost: every file an hvmm command writes, in each form, is read by
every command that reads traces; an output that is its own input is refused
before anything is written; a failed command leaves no output and no
temporary file behind, and an existing output as it was.

Usage: check_outputs.py --hvmm build/hvmm --mutant build/.../hvmm-mutant-X \
           --samples traces/samples -- SCENARIO ARGS...
(the mutant and its scenario give 'minimize' a violation to shrink)
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def writers(hvmm, mutant, scenario, sample, tmp):
    """(name, function writing OUT) for each command that writes a trace."""
    src = os.path.join(tmp, 'src.trace')
    r = run([hvmm, 'record', 'alloc-random', '--ops', '300', '-o', src])
    expect(r.returncode == 0, 'record for the source: %s' % r.stderr)
    bad = os.path.join(tmp, 'violating.trace')
    r = run([mutant, 'record'] + scenario + ['-o', bad])
    expect(r.returncode == 1, 'the mutant shows no violation: exit %d' % r.returncode)
    return [
        ('convert', lambda out: [hvmm, 'convert', src, out]),
        ('replay --record', lambda out: [hvmm, 'replay', '--record', out, src]),
        ('import', lambda out: [hvmm, 'import', 'ftrace', sample, '-o', out]),
        ('record', lambda out: [hvmm, 'record', 'alloc-random', '--ops', '300', '-o', out]),
        ('minimize', lambda out: [mutant, 'minimize', '--max-seconds', '100', bad, '-o', out]),
    ], src


def check_readable(hvmm, name, out, tmp):
    for form in ('text', 'binary'):
        again = os.path.join(tmp, 'again.' + ('trace' if form == 'text' else 'htrace'))
        r = run([hvmm, 'convert', '--to', form, out, again])
        expect(r.returncode == 0, '%s wrote %s; convert --to %s cannot read it: %s'
               % (name, out, form, r.stderr.decode(errors='replace')))
    r = run([hvmm, 'stats', out])
    expect(r.returncode == 0, '%s wrote %s; stats cannot read it: %s'
           % (name, out, r.stderr.decode(errors='replace')))
    r = run([hvmm, 'replay', '--oracles', 'off', out])
    err = r.stderr.decode(errors='replace')
    expect(r.returncode in (0, 1) and 'expected' not in err,
           '%s wrote %s; replay cannot read it: exit %d %s' % (name, out, r.returncode, err))


def leftovers(tmp, known):
    return sorted(set(os.listdir(tmp)) - known)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    ap.add_argument('--mutant', required=True)
    ap.add_argument('--samples', required=True)
    ap.add_argument('scenario', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    scenario = [a for a in args.scenario if a != '--']
    hvmm = args.hvmm
    sample = os.path.join(args.samples, 'ftrace-hex.txt')
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        cmds, src = writers(hvmm, args.mutant, scenario, sample, tmp)

        def case(label, fn):
            nonlocal failed
            try:
                fn()
                print('%-50s ok' % label)
            except (Failed, subprocess.TimeoutExpired) as e:
                print('%-50s FAIL: %s' % (label, e))
                failed += 1

        # Every output form of every writer is readable by every reader.
        for name, cmd in cmds:
            for ext in ('trace', 'htrace', 'bin'):
                def written(name=name, cmd=cmd, ext=ext):
                    out = os.path.join(tmp, 'out.' + ext)
                    if os.path.exists(out):
                        os.unlink(out)
                    r = run(cmd(out))
                    expect(r.returncode in (0, 1) and os.path.exists(out),
                           'exit %d: %s' % (r.returncode, r.stderr.decode(errors='replace')))
                    check_readable(hvmm, name, out, tmp)
                    os.unlink(out)
                case('%s -> .%s readable' % (name, ext), written)

        # An output that is its input (by name, hard link or symlink) is refused.
        src_bytes = open(src, 'rb').read()
        link = os.path.join(tmp, 'hardlink.trace')
        sym = os.path.join(tmp, 'symlink.trace')
        os.link(src, link)
        os.symlink(src, sym)
        same = [
            ('convert A A', [hvmm, 'convert', src, src]),
            ('convert A hardlink-of-A', [hvmm, 'convert', src, link]),
            ('convert A symlink-to-A.htrace', [hvmm, 'convert', '--to', 'binary', src, sym]),
            ('replay --record A A', [hvmm, 'replay', '--record', src, src]),
            ('replay --events A A', [hvmm, 'replay', '--events', src, src]),
            ('replay --events hardlink-of-A A', [hvmm, 'replay', '--events', link, src]),
            ('import X -o X', [hvmm, 'import', 'ftrace', src, '-o', src]),
            ('minimize A -o A', [hvmm, 'minimize', src, '-o', src]),
        ]
        for label, cmd in same:
            def refused(cmd=cmd):
                known = set(os.listdir(tmp))
                r = run(cmd)
                err = r.stderr.decode(errors='replace')
                expect(r.returncode == 2 and 'is the input' in err,
                       'exit %d, stderr %r' % (r.returncode, err))
                expect(open(src, 'rb').read() == src_bytes, 'the input changed')
                expect(not leftovers(tmp, known), 'left %s' % leftovers(tmp, known))
            case('refused: ' + label, refused)

        # A failed command leaves no output, and an existing output as it was.
        broken = os.path.join(tmp, 'broken.trace')
        with open(broken, 'wb') as f:
            f.write(src_bytes + b'frobnicate h1\n')
        bad_import = os.path.join(tmp, 'bad-import.txt')
        with open(bad_import, 'wb') as f:
            f.write(open(sample, 'rb').read() + b'  a-1 [000] 1.0: mm_page_free: page=0x1 pfn=0xZZ order=0\n')
        failing = [
            ('convert of a malformed trace', lambda out: [hvmm, 'convert', broken, out]),
            ('replay --record of a malformed trace',
             lambda out: [hvmm, 'replay', '--record', out, broken]),
            ('replay --events of a malformed trace',
             lambda out: [hvmm, 'replay', '--events', out, broken]),
            ('import of a malformed input', lambda out: [hvmm, 'import', 'ftrace', bad_import, '-o', out]),
        ]
        for label, cmd in failing:
            for existing in (False, True):
                def no_partial(cmd=cmd, existing=existing):
                    out = os.path.join(tmp, 'kept.htrace')
                    if existing:
                        with open(out, 'wb') as f:
                            f.write(b'precious')
                    known = set(os.listdir(tmp))
                    r = run(cmd(out))
                    expect(r.returncode == 2, 'exit %d' % r.returncode)
                    if existing:
                        expect(open(out, 'rb').read() == b'precious', 'the old output changed')
                        os.unlink(out)
                    else:
                        expect(not os.path.exists(out), 'a partial output was left')
                    expect(not leftovers(tmp, known), 'left %s' % leftovers(tmp, known))
                case('%s leaves %s' % (label, 'the old output' if existing else 'nothing'),
                     no_partial)
    print('%d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
