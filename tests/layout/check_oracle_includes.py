#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Oracle independence, checked from the build: every sim/oracle/ file but
the layout unit (oracle/mm_layout.c) is compiled without mm/'s include
directory, and none of them reads an mm/ header by any path (an installed
copy of mm/'s headers in a system directory included).

  check_oracle_includes.py BUILD_DIR SOURCE_ROOT

Reads BUILD_DIR/compile_commands.json, and for each oracle source re-runs
its compile command with -M (the headers it reads, nothing compiled).
"""
import json
import os
import shlex
import subprocess
import sys

LAYOUT_UNIT = 'sim/oracle/mm_layout.c'


def main():
    build, root = (os.path.realpath(p) for p in sys.argv[1:3])
    mm_inc = os.path.join(root, 'mm', 'include')
    with open(os.path.join(build, 'compile_commands.json')) as f:
        commands = json.load(f)
    seen, bad = set(), []
    for c in commands:
        src = os.path.realpath(os.path.join(c['directory'], c['file']))
        rel = os.path.relpath(src, root)
        if not rel.startswith('sim/oracle/') or rel == LAYOUT_UNIT:
            continue
        args = shlex.split(c['command'])
        if '-o' in args:
            i = args.index('-o')
            del args[i:i + 2]
        for a in args:
            if a.startswith('-I') and os.path.realpath(os.path.join(c['directory'], a[2:])) == mm_inc:
                bad.append('%s: compiled with mm/include on its include path (%s)' % (rel, a))
        # Headers actually read: -M lists every one, whatever path found it.
        args = [a for a in args if a not in ('-MD', '-MMD')]
        for flag in ('-MQ', '-MF'):
            while flag in args:
                i = args.index(flag)
                del args[i:i + 2]
        out = subprocess.run(args + ['-M'], cwd=c['directory'], capture_output=True, text=True)
        if out.returncode:
            bad.append('%s: does not preprocess on its own: %s' % (rel, out.stderr.strip()[:300]))
            continue
        deps = out.stdout.replace('\\\n', ' ').split()[1:]
        for d in deps:
            path = os.path.realpath(os.path.join(c['directory'], d))
            if path.startswith(os.path.join(root, 'mm') + os.sep) or os.sep + 'hvmm' + os.sep + 'hvmm' in path \
                    or (os.path.basename(os.path.dirname(path)) == 'hvmm' and not path.startswith(root)):
                bad.append('%s: reads mm/ header %s' % (rel, d))
        seen.add(rel)
    for b in bad:
        print('FAIL ' + b)
    if not seen:
        print('FAIL no sim/oracle/ source in %s/compile_commands.json' % build)
        return 1
    print('%d oracle sources read no mm/ header (the layout unit %s aside)' % (len(seen), LAYOUT_UNIT))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
