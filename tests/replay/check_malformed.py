#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A table of malformed traces: each must give its message (file:line or file: byte N)
and exit status 2 from 'hvmm replay', never a crash or a hang. A second table does
the same for 'hvmm import' on malformed or inconsistent kernel traces, which must
also leave no output behind."""
import argparse
import os
import subprocess
import sys
import tempfile

H = b'hvmm-trace 1\n'
MAGIC = b'\x89hvmmTR\n'


def binary(header=b'', records=b'', version=1):
    return MAGIC + bytes([version, len(header)]) + header + records


GOOD40 = b''.join(b'\x02' + bytes([h]) + b'\x00' for h in range(1, 41))
PAD = b'\x00' * 100

# name, file content, the message expected on stderr ({f} is the file name)
CASES = [
    ('empty', b'', "{f}:1: expected 'hvmm-trace 1'"),
    ('no-version-line', b'alloc h1 order=0\n', "{f}:1: expected 'hvmm-trace 1'"),
    ('bad-version-number', b'hvmm-trace x\n', "{f}:1: expected 'hvmm-trace N'"),
    ('newer-version', b'hvmm-trace 2\n', "{f}:1: expected format version 1; this trace is version 2"),
    ('unknown-config', H + b'colour blue\n', "{f}:2: expected an op or a configuration line"),
    ('config-two-values', H + b'pool-pages 1 2\n', "{f}:2: expected 'pool-pages VALUE' with one value"),
    ('bad-ram', H + b'ram lots\n', "{f}:2: expected ram SIZE@BASE"),
    ('absurd-ram', H + b'ram 64T@0x80000000\n', "{f}:2: expected a region of 1 byte to 1T"),
    ('wrapping-ram', H + b'ram 1G@0xffffffffffff0000\n', "{f}:2: expected a region of 1 byte to 1T that does not wrap"),
    ('absurd-pool', H + b'pool-pages 99999999999999\n', "{f}:2: expected pool-pages N with N a number up to"),
    ('absurd-vcpus', H + b'vcpus 100000\n', "{f}:2: expected vcpus N with N a number up to 256"),
    ('repeated-pool-pages', H + b'pool-pages 100\nallocator buddy\npool-pages 200\n',
     "{f}:4: expected 'pool-pages' once; an earlier header line gave it already"),
    ('repeated-allocator', H + b'allocator buddy\nallocator bitmap\n',
     "{f}:3: expected 'allocator' once; an earlier header line gave it already"),
    ('repeated-seed-same-value', H + b'seed 5\nseed 5\n',
     "{f}:3: expected 'seed' once; an earlier header line gave it already"),
    ('bin-repeated-vcpus', binary(header=b'vcpus 2\nvcpus 4\n', records=b'\x01\x00'),
     "{f}: byte 18: expected 'vcpus' once; an earlier header line gave it already"),
    ('overlapping-ram', H + b'ram 64M@0x80000000\nallocator buddy\nram 64M@0x82000000\n',
     "{f}:4: expected a machine this simulator can build: region 0x82000000+0x4000000 overlaps region 0x80000000+0x4000000"),
    ('unaligned-ram', H + b'ram 4097@0x80000000\n',
     "{f}:2: expected a machine this simulator can build: region 0x80000000+0x1001: base and size must be non-zero page multiples"),
    ('ram-beyond-pa', H + b'ram 64M@0x10000000000000\n',
     "{f}:2: expected a machine this simulator can build: region 0x10000000000000+0x4000000: beyond the 52-bit physical address space"),
    ('pool-larger-than-ram', H + b'ram 64M@0x80000000\npool-pages 99999\nalloc h1 order=0\n',
     "{f}:3: expected a machine this simulator can build: pool of 99999 pages at 0x80000000 does not fit in one RAM region"),
    ('unknown-allocator', H + b'seed 3\nallocator slab\nalloc h1 order=0\n',
     "{f}:3: expected a machine this simulator can build: unknown allocator 'slab'"),
    ('pool-reserved-too-many', H + b'pool-pages 10\npool-reserved 11\n',
     "{f}:3: expected a machine this simulator can build: pool reserves 11 of its 10 pages"),
    ('bin-overlapping-ram', binary(header=b'ram 64M@0x80000000\nram 64M@0x82000000\n', records=b'\x01\x00'),
     "{f}: byte 29: expected a machine this simulator can build: region 0x82000000+0x4000000 overlaps"),
    ('config-after-ops', H + b'alloc h1 order=0\npool-pages 5\n', "{f}:3: expected an op; configuration lines belong in the header"),
    ('unknown-op', H + b'allocate h1 order=0\n', "{f}:2: expected an op or a configuration line"),
    ('unknown-op-later', H + b'alloc h1 order=0\nfrobnicate h1\n', "{f}:3: expected an op name"),
    ('bad-order', H + b'alloc h1 order=64\n', "{f}:2: expected order=N with N an order 0..63"),
    ('bad-number', H + b'alloc h1 order=two\n', "{f}:2: expected order=N with N an order 0..63; got 'two'"),
    ('number-overflow', H + b'bm_test pfn=99999999999999999999999\n', "{f}:2: expected pfn=N with N a decimal or 0x hex number below 2^64"),
    ('bad-hex', H + b'bm_test pfn=0xZZ\n', "{f}:2: expected pfn=N"),
    ('bad-handle', H + b'alloc hX order=0\n', "{f}:2: expected h: a handle h0..h16777215"),
    ('absurd-handle', H + b'alloc h16777216 order=0\n', "{f}:2: expected h: a handle h0..h16777215"),
    ('missing-arg', H + b'alloc h1\n', "{f}:2: expected alloc hN order=...; order is missing"),
    ('repeated-arg', H + b'alloc h1 order=1 order=2\n', "{f}:2: expected order given once"),
    ('unknown-arg', H + b'alloc h1 order=1 colour=red\n', "{f}:2: expected alloc hN order=...; got 'colour=red'"),
    ('bad-result', H + b'alloc h1 order=0 = fine\n', "{f}:2: expected '= RESULT' with RESULT ok"),
    ('junk-after-result', H + b'alloc h1 order=0 = ok junk\n', "{f}:2: expected the end of the line after '= ok'"),
    ('handle-before-defined', H + b'free h7\n', "{f}:2: expected h7 to be defined by an earlier alloc or split"),
    ('vm-before-created', H + b'vm_destroy vm3\n', "{f}:2: expected vm3 to be created by an earlier vm_create"),
    ('bad-vm', H + b'vm_create vm999\n', "{f}:2: expected a VM vm0..vm255"),
    ('bad-prot', H + b'vm_create vm1\ns2_map vm1 ipa=0 pfn=0 pages=1 prot=rwz\n', "{f}:3: expected prot=none|r|w|rw|x|rx|wx|rwx"),
    ('prot-past-32-bits', H + b'vm_create vm1\ns2_map vm1 ipa=0 pfn=0 pages=1 prot=0x100000000\n', "{f}:3: expected prot=none|r|w|rw|x|rx|wx|rwx or a number up to 0xffffffff; got '0x100000000'"),
    ('long-line', H + b'# ' + b'x' * 5000 + b'\n', "{f}:2: expected a line of at most 4096 bytes"),
    ('nul-byte', H + b'alloc h1\x00 order=0\n', "{f}:2: expected text without NUL bytes"),
    ('bin-bad-magic', b'\x89hvmmXX\n\x01\x00', "{f}: byte 0: expected the hvmm binary trace magic"),
    ('bin-truncated-magic', b'\x89hv', "{f}: byte 0: expected the hvmm binary trace magic"),
    ('bin-wrong-version', binary(version=7), "{f}: byte 8: expected format version 1; this trace is version 7"),
    ('bin-no-end', binary(), "{f}: byte 10: expected a record tag or the end record (the file is truncated)"),
    ('bin-truncated-op', binary(records=b'\x02\x01'), "{f}: byte 12: expected alloc's order (the file is truncated)"),
    ('bin-bad-kind', binary(records=b'\x7f'), "{f}: byte 10: expected a record tag"),
    ('bin-bad-order', binary(records=b'\x02\x01\x50\x01\x01'), "{f}: byte 12: expected alloc's order in range"),
    ('bin-varint-overflow', binary(records=b'\x02' + b'\xff' * 10 + b'\x01'), "{f}: byte 11: expected alloc's h as a varint below 2^64"),
    ('bin-absurd-line', binary(records=b'\x00\xff\xff\xff\x7f'), "{f}: byte 11: expected a line of at most 4096 bytes"),
    ('bin-line-not-comment', binary(records=b'\x00\x03abc\x01\x00'), "{f}: byte 10: expected a comment"),
    ('bin-line-before-first-op', binary(records=b'\x00\x00\x01\x00'),
     "{f}: byte 10: expected an op record (lines before the first op belong in the header)"),
    ('bin-bad-header', binary(header=b'colour blue\n', records=b'\x01\x00'), "{f}: byte 10: expected an op or a configuration line"),
    ('bin-absurd-header', MAGIC + b'\x01\xff\xff\xff\x0f', "{f}: byte 12: expected a header of at most 65535 bytes"),
    ('bin-wrong-count', binary(records=b'\x01\x05'), "{f}: byte 11: expected 5 ops as the end record says; the trace has 0"),
    ('bin-junk-after-end', binary(records=b'\x01\x00junk'), "{f}: byte 12: expected the end of the file after the end record"),
    ('bin-handle-before-defined', binary(records=b'\x04\x07\x01\x01'), "{f}: byte 11: expected h7 to be defined"),
    # The same faults after 40 good ops (alloc hN order=0) and before 100 more bytes:
    # the reader decodes a record wholly read ahead on a fast path, which must leave
    # every fault to the checked path and its message.
    ('bin-late-bad-kind', binary(records=GOOD40 + b'\x7f' + PAD), "{f}: byte 130: expected a record tag"),
    ('bin-late-bad-expect', binary(records=GOOD40 + b'\x03\x0a\x50\x00' + PAD),
     "{f}: byte 131: expected an expected result 0..9"),
    ('bin-late-bad-order', binary(records=GOOD40 + b'\x02\x50\x50' + PAD),
     "{f}: byte 132: expected alloc's order in range"),
    ('bin-late-varint-overflow', binary(records=GOOD40 + b'\x02' + b'\xff' * 10 + b'\x01' + PAD),
     "{f}: byte 131: expected alloc's h as a varint below 2^64"),
    ('bin-late-handle-before-defined', binary(records=GOOD40 + b'\x04\x7f' + PAD),
     "{f}: byte 131: expected h127 to be defined"),
]

FT = b'            bash-1402    [001] .....   812.100101: '
BT = b'[10:00:00.000000100] (+?.?????????) host kmem_'
ALLOC = FT + b'mm_page_alloc: page=00000000d1e0a8a4 pfn=0x1041c0 order=0 migratetype=0 gfp_flags=GFP_KERNEL\n'

# name, format, extra options, file content, the message expected on stderr
IMPORT_CASES = [
    ('imp-bad-pfn', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=0xZZ order=0\n',
     "{f}:1: expected mm_page_free with pfn=N, N decimal or 0x hex below 2^64; got '0xZZ'"),
    ('imp-pfn-overflow', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=99999999999999999999 order=0\n',
     "{f}:1: expected mm_page_free with pfn=N, N decimal or 0x hex below 2^64"),
    ('imp-pfn-too-big', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=0x10000000000000 order=0\n',
     "{f}:1: expected mm_page_free with a pfn of a 64-bit physical address (at most 0xfffffffffffff); got 0x10000000000000"),
    ('imp-negative-pfn', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=-5 order=0\n',
     "{f}:1: expected mm_page_free with pfn=N"),
    ('imp-no-pfn', 'ftrace', [], FT + b'mm_page_free: order=0\n',
     "{f}:1: expected mm_page_free with pfn=N or page=P"),
    ('imp-no-order', 'ftrace', [], FT + b'mm_page_alloc: page=00000000d1e0a8a4 pfn=0x1041c0 migratetype=0\n',
     "{f}:1: expected mm_page_alloc with order=N, N 0..63"),
    ('imp-order-64', 'ftrace', [], FT + b'mm_page_alloc: page=00000000d1e0a8a4 pfn=0x1041c0 order=64\n',
     "{f}:1: expected mm_page_alloc with order=N, N 0..63"),
    ('imp-repeated-field', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=0x1 pfn=0x2 order=0\n',
     "{f}:1: expected mm_page_free: each field once; pfn is repeated"),
    ('imp-not-key-value', 'ftrace', [], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=0x1 order=0 junk\n',
     "{f}:1: expected mm_page_free: key=value fields; got 'junk'"),
    ('imp-bad-refill', 'ftrace', [], FT + b'mm_page_alloc_zone_locked: page=000000001b2c3d4e pfn=0x2f100 order=0 migratetype=1 percpu_refill=2\n',
     "{f}:1: expected mm_page_alloc_zone_locked with percpu_refill=0 or 1; got '2'"),
    ('imp-no-blank-after-name', 'ftrace', [], FT + b'mm_page_free:page=0000000062a0c1f3 pfn=0xZZ order=0\n',
     "{f}:1: expected mm_page_free with pfn=N"),
    ('imp-nul-byte', 'ftrace', [], ALLOC + ALLOC.replace(b'pfn=', b'pfn\x00='),
     "{f}:2: expected text without NUL bytes"),
    ('imp-long-line', 'ftrace', [], ALLOC + b'#' + b'x' * 9000 + b'\n',
     "{f}:2: expected a line of at most 8192 bytes"),
    ('imp-no-events', 'ftrace', [], b'# tracer: nop\n',
     "{f}: expected page-allocator events (kmem:mm_page_*); none in 1 lines"),
    ('imp-empty', 'lttng', [], b'',
     "{f}: expected page-allocator events (kmem:mm_page_*); none in 0 lines"),
    ('imp-lttng-no-brace', 'lttng', [], BT + b'mm_page_free: { cpu_id = 0 }, { page = 0x1, pfn = 5, order = 0\n',
     "{f}:1: expected mm_page_free: '{{ field = value, ... }}' at the end of the line"),
    ('imp-lttng-bad-item', 'lttng', [], BT + b'mm_page_free: { cpu_id = 0 }, { page = 0x1, pfn 5, order = 0 }\n',
     "{f}:1: expected mm_page_free: 'field = value' items; got 'pfn 5'"),
    ('imp-lttng-bad-page', 'lttng', [], BT + b'mm_page_free: { cpu_id = 0 }, { page = lots, order = 0 }\n',
     "{f}:1: expected mm_page_free with page = a pointer; got 'lots'"),
    ('imp-strict-unknown-free', 'ftrace', ['--strict'], FT + b'mm_page_free: page=0000000062a0c1f3 pfn=0x2f106 order=0\n',
     "{f}:1: free of pfn 0x2f106, never allocated in this trace (without --strict it counts as a page allocated before tracing began)"),
    ('imp-strict-realloc', 'ftrace', ['--strict'], ALLOC + ALLOC,
     "{f}:2: allocation of pfn 0x1041c0, already allocated at line 1 and not freed in this trace (without --strict"),
    ('imp-strict-order-mismatch', 'ftrace', ['--strict'], ALLOC + FT + b'mm_page_free: page=00000000d1e0a8a4 pfn=0x1041c0 order=2\n',
     "{f}:2: free of pfn 0x1041c0 with order 2; it was allocated with order 0 at line 1"),
    ('imp-strict-free-inside', 'ftrace', ['--strict'], ALLOC.replace(b'order=0', b'order=3') + FT + b'mm_page_free: page=00000000d1e0a8a4 pfn=0x1041c5 order=1\n',
     "{f}:2: free of pfn 0x1041c5 inside the order-3 block at pfn 0x1041c0 allocated at line 1 (not applied)"),
    ('imp-strict-big-order', 'ftrace', ['--strict'], ALLOC.replace(b'order=0', b'order=11'),
     "{f}:1: order 11, beyond the kernel's MAX_ORDER 11 (orders 0..10)"),
    ('imp-ctf-not-ctf', 'lttng', [], None,
     "{f}: babeltrace2 failed (exit 1); it said:"),
    ('imp-dat-truncated', 'ftrace', [], b'\x17\x08\x44tracing',
     "{f}: trace-cmd failed (exit 255); it said:"),
]

# Numbers on the command line are read as strictly as in traces.
CLI_CASES = [
    (['--pool-pages', '+5'], "--pool-pages +5: expected a number, decimal or 0x hex"),
    (['--pool-pages', ' -1'], "--pool-pages  -1: expected a number, decimal or 0x hex"),
    (['--pool-pages', '-1'], "--pool-pages -1: expected a number, decimal or 0x hex"),
    (['--pool-pages', '5 '], "--pool-pages 5 : expected a number, decimal or 0x hex"),
    (['--pool-pages', '0x'], "--pool-pages 0x: expected a number, decimal or 0x hex"),
    (['--pool-pages', '99999999999999999999'], "--pool-pages 99999999999999999999: expected a number"),
    (['--seed', '1e3'], "--seed 1e3: expected a number, decimal or 0x hex"),
    (['--sweep-every', '0b1'], "--sweep-every 0b1: expected a number, decimal or 0x hex"),
    # Machine configurations an option makes impossible name the option.
    (['--pool-pages', '999999'], "--pool-pages 999999: pool of 999999 pages at 0x80000000 does not fit in one RAM region (on top of the configuration of {f})"),
    (['--ram', '1M'], "--ram 1M: pool of 16384 pages at 0x80000000 does not fit in one RAM region"),
    (['--ram', '1G@0x80000000', '--mmio', '4K@0x80001000'], "--mmio 4K@0x80001000: region 0x80001000+0x1000 overlaps region 0x80000000+0x40000000"),
    (['--ram', '64M@0x10000000000000'], "--ram 64M@0x10000000000000: region 0x10000000000000+0x4000000: beyond the 52-bit physical address space"),
    (['--pool-reserved', '99999'], "--pool-reserved 99999: pool reserves 99999 of its 16384 pages"),
    (['--oracles', 'full', '--pool-pages', '0', '--ram', '64G'],
     "--oracles full sweeps the whole pool after every op: at most 1048576 pool pages (4 GiB) with it, and this pool has 16777216"),
]


def cli_cases(hvmm, tmp):
    failed = 0
    trace = os.path.join(tmp, 'cli.trace')
    with open(trace, 'wb') as f:
        f.write(H + b'alloc h1 order=0\nfree h1\n')
    for opts, want in CLI_CASES:
        r = subprocess.run([hvmm, 'replay', trace] + opts, capture_output=True, timeout=60)
        err = r.stderr.decode(errors='replace')
        want = want.format(f=trace)
        ok = r.returncode == 2 and want in err
        print('%-26s %s' % (' '.join(opts), 'ok' if ok else 'FAIL: exit %s, stderr %r, wanted %r'
                            % (r.returncode, err.strip(), want)))
        failed += not ok
    # convert reads headers as replay does: an impossible machine is rejected, no output left.
    bad = os.path.join(tmp, 'overlap.trace')
    with open(bad, 'wb') as f:
        f.write(H + b'ram 64M@0x80000000\nram 64M@0x82000000\nalloc h1 order=0\n')
    out = os.path.join(tmp, 'overlap.htrace')
    r = subprocess.run([hvmm, 'convert', bad, out], capture_output=True, timeout=60)
    ok = r.returncode == 2 and ('%s:3: expected a machine this simulator can build' % bad) in \
        r.stderr.decode() and not os.path.exists(out)
    print('%-26s %s' % ('convert of an impossible machine', 'ok' if ok else 'FAIL: exit %d %s'
                        % (r.returncode, r.stderr.decode())))
    failed += not ok
    # 010 is ten, not eight: a pool of 10 pages holds an order-3 and an order-1 block.
    with open(trace, 'wb') as f:
        f.write(H + b'alloc h1 order=3 = ok\nalloc h2 order=1 = ok\n')
    r = subprocess.run([hvmm, 'replay', trace, '--pool-pages', '010'], capture_output=True,
                       timeout=60)
    ok = r.returncode == 0
    print('%-26s %s' % ('--pool-pages 010 is 10', 'ok' if ok else 'FAIL: exit %d %s'
                        % (r.returncode, r.stdout.decode() + r.stderr.decode())))
    return failed + (not ok)


def import_cases(hvmm, tmp):
    failed = 0
    for name, fmt, opts, content, want in IMPORT_CASES:
        path = os.path.join(tmp, name + '.txt')
        if content is None:
            os.mkdir(path)  # a directory that is no CTF trace
        else:
            with open(path, 'wb') as f:
                f.write(content)
        out = os.path.join(tmp, name + '.out.trace')
        try:
            r = subprocess.run([hvmm, 'import', fmt, path, '-o', out] + opts,
                               capture_output=True, timeout=60)
            err = r.stderr.decode(errors='replace')
            status = r.returncode
        except subprocess.TimeoutExpired:
            err, status = 'timed out', None
        expected = want.format(f=path)
        ok = status == 2 and expected in err and not os.path.exists(out)
        print('%-26s %s' % (name, 'ok' if ok else 'FAIL: exit %s, stderr %r, wanted %r%s'
                            % (status, err.strip(), expected,
                               ', output left' if os.path.exists(out) else '')))
        failed += not ok
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hvmm', required=True)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, content, want in CASES:
            path = os.path.join(tmp, name + '.trace')
            with open(path, 'wb') as f:
                f.write(content)
            try:
                r = subprocess.run([args.hvmm, 'replay', path], capture_output=True, timeout=60)
                err = r.stderr.decode(errors='replace')
                status = r.returncode
            except subprocess.TimeoutExpired:
                err, status = 'timed out', None
            expected = want.format(f=path)
            ok = status == 2 and expected in err
            print('%-26s %s' % (name, 'ok' if ok else 'FAIL: exit %s, stderr %r, wanted %r'
                                % (status, err.strip(), expected)))
            failed += not ok
        failed += import_cases(args.hvmm, tmp)
        failed += cli_cases(args.hvmm, tmp)
    print('%d cases, %d failed' % (len(CASES) + len(IMPORT_CASES) + len(CLI_CASES) + 2, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
