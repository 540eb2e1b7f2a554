#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The text reader reads a line laid out as hvmm writes it in one pass,
and any other line with its general parser: both must read the same op.
Recorded traces (allocator and VM ops) are written twice, each op line in
a form the one-pass reader takes (extra blanks, '=ok', decimal with
leading zeros for hex, 0X) and in one it must hand to the general parser
(arguments in reverse order, a handle as 'h=hN'); both are converted to
the binary form, which must come out byte for byte the same.

Usage: check_text_fast.py --hvmm build/hvmm
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


HEADER = re.compile(r'^(hvmm-trace|ram|allocator|pool-[a-z]+|vcpus|seed|reserved|mmio|'
                    r'hyp-pool-pages|pgtable|#)( |$)')


def split_line(line):
    """(name, args, result) of an op line as hvmm writes it."""
    body, _, result = line.partition(' = ')
    parts = body.split(' ')
    return parts[0], parts[1:], result


def number_variant(rng, tok):
    """The same value written another way sim_parse_u64 reads."""
    m = re.fullmatch(r'([a-z_]+=h?|h|vm)(0x[0-9a-f]+|[0-9]+)', tok)
    if not m:
        return tok
    key, val = m.groups()
    v = int(val, 0)
    choice = rng.randrange(4)
    if choice == 0:
        val = '0' * rng.randrange(1, 4) + str(v)
    elif choice == 1:
        val = '0X%X' % v
    elif choice == 2:
        val = '0x%x' % v
    return key + val


def fast_form(rng, line):
    name, args, result = split_line(line)
    args = [number_variant(rng, a) for a in args]
    sep = lambda: rng.choice([' ', ' ', '  ', '\t', ' \t'])
    out = name + ''.join(sep() + a for a in args)
    if result:
        out += rng.choice([' = ', ' =', '\t= ', ' = ']) + result
        if result == 'ok' and rng.randrange(3) == 0:
            out = out.rsplit('=', 1)[0].rstrip() + ' =ok'
    return out + rng.choice(['', '', ' ', '\t'])


def general_form(line):
    name, args, result = split_line(line)
    if len(args) >= 2:
        args = args[::-1]
    elif len(args) == 1 and re.fullmatch(r'h[0-9]+', args[0]):
        args = ['h=' + args[0]]
    out = ' '.join([name] + args)
    return out + (' = ' + result if result else '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    a = ap.parse_args()
    rng = random.Random(18)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in ('alloc-random', 'vm-random'):
            src = os.path.join(tmp, scenario + '.trace')
            r = run([a.hvmm, 'record', scenario, '--ops', '3000', '-o', src])
            if r.returncode:
                print('FAIL: hvmm record %s: %s' % (scenario, r.stderr.decode()[-300:]))
                return 1
            with open(src) as f:
                lines = f.read().splitlines()
            first = next(i for i, l in enumerate(lines) if not HEADER.match(l))
            outs = []
            for form in (lambda l: fast_form(rng, l), general_form):
                text = lines[:first] + [form(l) if not l.startswith('#') else l
                                        for l in lines[first:]]
                path = os.path.join(tmp, 'form.trace')
                with open(path, 'w') as f:
                    f.write('\n'.join(text) + '\n')
                out = os.path.join(tmp, 'form.htrace')
                r = run([a.hvmm, 'convert', path, out])
                if r.returncode:
                    print('FAIL: %s: hvmm convert: %s' % (scenario, r.stderr.decode()[-300:]))
                    return 1
                with open(out, 'rb') as f:
                    outs.append(f.read())
            if outs[0] != outs[1]:
                print('FAIL: %s: the lines read in one pass and the same ops read by the '
                      'general parser convert to different binary traces' % scenario)
                failed += 1
            else:
                print('%s: %d lines, both forms read the same ops' % (scenario, len(lines)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
