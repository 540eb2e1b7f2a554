#!/usr/bin/env python3
"""Compiles every mm/**/*.c freestanding for one target and checks that the
objects reference no symbol outside mm/ except those declared in
mm/include/hvmm/platform.h.

Exit status: 0 pass, 1 fail, 77 skip (clang or llvm-nm absent)."""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile


def platform_symbols(header):
    text = header.read_text()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    syms = set()
    for line in text.splitlines():
        if line.lstrip().startswith('#'):
            continue
        syms.update(re.findall(r'\b(hvmm_\w+)\s*\(', line))
        # variables the platform defines (extern T hvmm_name;)
        syms.update(re.findall(r'^\s*extern\b[^;(]*\b(hvmm_\w+)\s*;', line))
    return syms


def nm_symbols(nm, obj):
    out = subprocess.run([nm, '--format=posix', obj], check=True,
                         capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        (undefined if kind == 'U' else defined).add(name)
    return defined, undefined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--target', required=True)
    ap.add_argument('--mm', required=True, type=pathlib.Path)
    ap.add_argument('--clang', default='clang')
    ap.add_argument('--nm', default='llvm-nm')
    args = ap.parse_args()

    for tool in (args.clang, args.nm):
        if not shutil.which(tool):
            print(f'skip: {tool} not found')
            return 77

    sources = sorted(args.mm.rglob('*.c'))
    if not sources:
        print(f'{args.mm}: no mm/ sources found')
        return 1
    allowed = platform_symbols(args.mm / 'include' / 'hvmm' / 'platform.h')
    defined, undefined, failed = set(), {}, False
    with tempfile.TemporaryDirectory() as tmp:
        for src in sources:
            obj = pathlib.Path(tmp) / (src.relative_to(args.mm).as_posix().replace('/', '_') + '.o')
            cmd = [args.clang, f'--target={args.target}', '-ffreestanding', '-nostdlibinc',
                   '-std=c11', '-Wall', '-Wextra', '-Werror', '-I', str(args.mm / 'include'),
                   '-c', str(src), '-o', str(obj)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode:
                print(f'FAIL {src}: does not compile freestanding for {args.target}')
                print(res.stderr.strip())
                failed = True
                continue
            d, u = nm_symbols(args.nm, obj)
            defined |= d
            for sym in u:
                undefined.setdefault(sym, []).append(src.name)
    if failed:
        return 1    # symbols of files that did not compile would only add noise
    stray = {s: f for s, f in undefined.items() if s not in defined and s not in allowed}
    for sym, files in sorted(stray.items()):
        print(f'FAIL {", ".join(sorted(set(files)))}: undefined symbol {sym} '
              f'is neither defined in mm/ nor declared in hvmm/platform.h')
    if stray:
        return 1
    print(f'ok: {len(sources)} files compile freestanding for {args.target}; '
          f'external symbols used: {", ".join(sorted(s for s in undefined if s not in defined))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
