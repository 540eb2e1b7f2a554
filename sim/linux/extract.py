#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Brings the Linux files hvmm hosts into the build tree, and proves them untouched.

    extract.py --source SRC --out DIR FILE...   copy FILEs (paths inside the kernel tree)
    extract.py --source SRC --out DIR --verify FILE...
    extract.py --find                           the newest /usr/src/linux-source-*.tar.xz

SRC is a kernel tarball (.tar.xz/.tar.gz/.tar, one top directory, as Debian's
/usr/src/linux-source-*.tar.xz) or an unpacked kernel tree. Extraction reads
each member from SRC, writes it under DIR with the tree's relative path, and
records the SHA-256 of the bytes read from SRC in DIR/SHA256SUMS; the kernel
version (from the top Makefile) goes to DIR/VERSION. A second run with the
same SRC (path, size, mtime) and file list keeps what is there.

--verify reads SRC again, independently of the manifest, and fails unless
every file under DIR is byte-identical to SRC's and to the manifest.

Exit status: 0 ok, 1 mismatch or missing file, 2 bad arguments or SRC.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys
import tarfile
import tempfile


def die(msg, code=2):
    print(f"extract.py: {msg}", file=sys.stderr)
    sys.exit(code)


def read_members(src, wanted):
    """{relpath: bytes} for every wanted path found in SRC (a tarball or a tree)."""
    found = {}
    if os.path.isdir(src):
        for rel in wanted:
            p = os.path.join(src, rel)
            if os.path.isfile(p):
                with open(p, 'rb') as f:
                    found[rel] = f.read()
        return found
    try:
        # Streaming: one pass over the compressed tarball, whatever its order.
        with tarfile.open(src, 'r|*') as tar:
            for m in tar:
                parts = m.name.split('/', 1)
                if len(parts) != 2 or parts[1] not in wanted or not m.isfile():
                    continue
                found[parts[1]] = tar.extractfile(m).read()
                if len(found) == len(wanted):
                    break
    except (tarfile.TarError, OSError, EOFError) as e:
        die(f"{src}: not a readable kernel tarball or tree: {e}")
    return found


def kernel_version(makefile):
    fields = {}
    for line in makefile.decode('utf-8', 'replace').splitlines()[:12]:
        m = re.match(r'^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)', line)
        if m:
            fields[m.group(1)] = m.group(2)
    if not all(k in fields for k in ('VERSION', 'PATCHLEVEL', 'SUBLEVEL')):
        die("the top Makefile has no VERSION/PATCHLEVEL/SUBLEVEL")
    return '{VERSION}.{PATCHLEVEL}.{SUBLEVEL}'.format(**fields) + fields.get('EXTRAVERSION', '')


def write_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.tmp-')
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
    os.chmod(tmp, 0o444)  # read-only: nothing in the build edits them
    os.replace(tmp, path)


def stamp_of(src, files):
    st = os.stat(src)
    return {'source': os.path.abspath(src), 'size': st.st_size,
            'mtime': int(st.st_mtime), 'files': sorted(files)}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def extract(src, out, files):
    stamp = stamp_of(src, files)
    stamp_path = os.path.join(out, 'STAMP')
    try:
        with open(stamp_path) as f:
            if json.load(f) == stamp and all(os.path.isfile(os.path.join(out, r)) for r in files):
                with open(os.path.join(out, 'VERSION')) as v:
                    print(v.read().strip())
                return 0
    except (OSError, ValueError):
        pass
    wanted = set(files) | {'Makefile'}
    found = read_members(src, wanted)
    missing = sorted(wanted - set(found))
    if missing:
        die(f"{src} lacks {', '.join(missing)}")
    version = kernel_version(found['Makefile'])
    for rel in files:
        write_atomic(os.path.join(out, rel), found[rel])
    manifest = ''.join(f"{sha(found[r])}  {r}\n" for r in sorted(files))
    write_atomic(os.path.join(out, 'SHA256SUMS'), manifest.encode())
    write_atomic(os.path.join(out, 'VERSION'), (version + '\n').encode())
    write_atomic(stamp_path, json.dumps(stamp).encode())
    print(version)
    return 0


def verify(src, out, files):
    found = read_members(src, set(files))
    manifest = {}
    with open(os.path.join(out, 'SHA256SUMS')) as f:
        for line in f:
            h, rel = line.rstrip('\n').split('  ', 1)
            manifest[rel] = h
    bad = 0
    for rel in sorted(files):
        try:
            with open(os.path.join(out, rel), 'rb') as f:
                here = f.read()
        except OSError as e:
            print(f"not ok {rel}: {e}")
            bad += 1
            continue
        if rel not in found:
            print(f"not ok {rel}: not in {src}")
            bad += 1
        elif sha(here) != sha(found[rel]):
            print(f"not ok {rel}: sha256 {sha(here)} in the build, {sha(found[rel])} in {src}")
            bad += 1
        elif manifest.get(rel) != sha(here):
            print(f"not ok {rel}: sha256 {sha(here)}, manifest says {manifest.get(rel)}")
            bad += 1
        else:
            print(f"ok {rel} sha256 {sha(here)} ({len(here)} bytes) identical to {src}")
    print(f"{len(files) - bad} passed, {bad} failed")
    return 1 if bad else 0


def find_auto():
    """Prints Debian's newest linux-source tarball, or nothing."""
    def key(p):
        v = re.search(r'linux-source-([0-9.]+)\.tar', p).group(1)
        return [int(x) for x in v.split('.') if x]
    found = sorted(glob.glob('/usr/src/linux-source-*.tar.xz'), key=key)
    print(found[-1] if found else '')
    return 0


def main():
    if sys.argv[1:] == ['--find']:
        return find_auto()
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--source', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--verify', action='store_true')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    if not os.path.exists(a.source):
        die(f"{a.source}: no such tarball or directory")
    return (verify if a.verify else extract)(a.source, a.out, a.files)


if __name__ == '__main__':
    sys.exit(main())
