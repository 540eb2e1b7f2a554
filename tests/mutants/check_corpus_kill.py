#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A fuzz target's own regression corpus, or one trace, catches a mutant,
with the oracle named, and runs clean on the real code: a reach of that
target or generator (an op shape its inputs make) is shown by a bug that
needs it, not only by the other targets' corpora or the tests, which the
mutants suite's first-kill stops at.

  check_corpus_kill.py --fuzz FUZZ-TARGET-dyn --corpus DIR --mutant LIB.so --oracle NAME
  check_corpus_kill.py --hvmm hvmm-dyn --trace FILE --mutant LIB.so --oracle NAME

Exit 0 if the real code runs the corpus (replays the trace) clean and the
mutant fails it with a violation of NAME; 1 otherwise (with what happened);
2 on a usage error.
"""
import argparse
import os
import re
import subprocess
import sys

VIOLATION = re.compile(r'VIOLATION (\S+) at (?:op|record) (\d+)')
TIMEOUT = 600


def run(cmd, preload=None):
    env = dict(os.environ)
    if preload:
        env['LD_PRELOAD'] = preload
        env['ASAN_OPTIONS'] = ':'.join(filter(None, [env.get('ASAN_OPTIONS'),
                                                     'verify_asan_link_order=0',
                                                     'detect_odr_violation=0']))
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, ''
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--fuzz', help='an engine-less fuzz-TARGET-dyn program')
    ap.add_argument('--corpus', help="the target's regression corpus")
    ap.add_argument('--hvmm', help='hvmm-dyn, to replay --trace')
    ap.add_argument('--trace', help='a trace to replay')
    ap.add_argument('--mutant', required=True, help='libhvmm_mutant_NAME.so')
    ap.add_argument('--oracle', required=True, help='the oracle that must fire')
    args = ap.parse_args()
    if bool(args.fuzz and args.corpus) == bool(args.hvmm and args.trace) or \
            bool(args.fuzz) != bool(args.corpus) or bool(args.hvmm) != bool(args.trace):
        print('give --fuzz with --corpus, or --hvmm with --trace', file=sys.stderr)
        return 2
    for path in (args.fuzz or args.hvmm, args.corpus or args.trace, args.mutant):
        if not os.path.exists(path):
            print('%s: no such file or directory' % path, file=sys.stderr)
            return 2
    if args.fuzz:
        cmd = [args.fuzz, args.corpus]
    else:
        cmd = [args.hvmm, 'replay', args.trace]
        args.corpus = args.trace

    rc, out = run(cmd)
    if rc != 0:
        print('FAIL: the real code does not run %s clean (exit %s):\n%s' %
              (args.corpus, rc, out[-2000:]))
        return 1
    print('ok: the real code runs %s clean' % args.corpus)

    rc, out = run(cmd, preload=args.mutant)
    found = VIOLATION.search(out)
    if rc in (0, None) or not found:
        print('FAIL: %s %s on %s (exit %s), expected a %s violation:\n%s' %
              (os.path.basename(args.mutant), 'times out' if rc is None else 'is not caught',
               args.corpus, rc, args.oracle, out[-2000:]))
        return 1
    if found.group(1) != args.oracle:
        print('FAIL: %s is caught by %s, expected %s:\n%s' %
              (os.path.basename(args.mutant), found.group(1), args.oracle,
               next(line for line in out.splitlines() if VIOLATION.search(line))))
        return 1
    line = next(line for line in out.splitlines() if VIOLATION.search(line))
    print('ok: %s fails %s: %s' % (os.path.basename(args.mutant), args.corpus, line.strip()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
