#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Applies one mutant patch (a unified diff of one file) to a copy.

  apply.py target PATCH            prints the file the patch changes: relative to mm/
                                   for "+++ b/mm/FILE", or linux/PATH for a file of the
                                   hosted kernel ("+++ b/linux/PATH", PATH inside the
                                   kernel tree, as sim/linux/meson.build's linux_files)
  apply.py apply PATCH SRC OUT     writes SRC with PATCH applied to OUT

Hunks must match exactly (context and removed lines); a hunk may have moved
by any number of lines since the patch was written. Anything else is an
error naming the hunk, so a mutant that no longer applies breaks the build
instead of silently testing unmutated code.
"""
import re
import sys

HUNK = re.compile(r'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')


def fail(msg):
    sys.stderr.write('apply.py: %s\n' % msg)
    sys.exit(1)


def parse(path):
    with open(path) as f:
        lines = f.read().split('\n')
    target = None
    hunks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('+++ '):
            name = line[4:].split('\t')[0].strip()
            if target is not None:
                fail('%s: changes more than one file' % path)
            if name.startswith('b/mm/'):
                target = name[len('b/mm/'):]
            elif name.startswith('b/linux/'):
                target = name[len('b/'):]
            else:
                fail('%s: expected "+++ b/mm/FILE" or "+++ b/linux/PATH", got %r' % (path, line))
        elif HUNK.match(line):
            m = HUNK.match(line)
            old, new = [], []
            old_len = int(m.group(2) or 1)
            new_len = int(m.group(4) or 1)
            i += 1
            while len(old) < old_len or len(new) < new_len:
                if i >= len(lines):
                    fail('%s: hunk at line %s is truncated' % (path, m.group(1)))
                body = lines[i]
                tag, text = (body[:1], body[1:]) if body else (' ', '')
                if tag in ' -':
                    old.append(text)
                if tag in ' +':
                    new.append(text)
                if tag not in ' -+':
                    fail('%s: unexpected line in hunk: %r' % (path, body))
                i += 1
            hunks.append((int(m.group(1)), old, new))
            continue
        i += 1
    if target is None or not hunks:
        fail('%s: no "+++ b/mm/FILE" (or b/linux/PATH) or no hunks' % path)
    return target, hunks


def apply(patch, src, out):
    _, hunks = parse(patch)
    with open(src) as f:
        text = f.read().split('\n')
    shift = 0
    for start, old, new in hunks:
        want = start - 1 + shift
        found = None
        for delta in range(0, len(text) + 1):
            for at in (want - delta, want + delta):
                if 0 <= at <= len(text) - len(old) and text[at:at + len(old)] == old:
                    found = at
                    break
            if found is not None:
                break
        if found is None:
            fail('%s: hunk at line %d does not apply to %s' % (patch, start, src))
        text[found:found + len(old)] = new
        shift = found - (start - 1) + len(new) - len(old)
    with open(out, 'w') as f:
        f.write('\n'.join(text))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'target':
        print(parse(sys.argv[2])[0])
    elif len(sys.argv) == 5 and sys.argv[1] == 'apply':
        apply(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail('usage: apply.py target PATCH | apply.py apply PATCH SRC OUT')


if __name__ == '__main__':
    main()
