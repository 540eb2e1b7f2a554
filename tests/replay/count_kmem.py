#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts a kmem:mm_page_* trace by the kernel's rules, independently of
hvmm's importer (no code shared with sim/import/), so that its summary can
be checked against these counts.

The rules (include/trace/events/kmem.h and mm/page_alloc.c):
- mm_page_alloc is an allocation to a caller; pfn all ones (-1UL) or a NULL
  page is a failed allocation.
- mm_page_alloc_zone_locked is the buddy handing a block out under the zone
  lock: a per-CPU refill when percpu_refill=1, or, on kernels without that
  field, when the order is 0 (rmqueue_bulk() is the only order-0 path there);
  otherwise it precedes the mm_page_alloc of the same block. Never an
  allocation by itself.
- free_unref_page_list() traces mm_page_free and then mm_page_free_batched
  for the same page (6.1); older kernels trace mm_page_free_batched first.
  Either way the pair is one free.
- A free matches the live allocation at its pfn; a free of a pfn not
  allocated in the trace is a free of a page allocated before tracing
  began; an allocation at a live pfn means its free was not traced.

Usage: count_kmem.py ftrace|lttng FILE   (prints one "name: N" line per count)
"""
import re
import sys

FTRACE = re.compile(r'\[\d+\]\s+(?:\S+\s+)?\d+\.\d+:\s*(?:kmem:)?(mm_page_\w+):\s*(.*)$')
LTTNG = re.compile(r'^\[[^\]]*\]\s.*?\s(?:kmem_)?(mm_page_\w+): \{[^}]*\}, \{ (.*) \}\s*$')
ALL_ONES = (1 << 64) - 1


def number(s):
    return int(s, 16) if s.lower().startswith('0x') else int(s)


def fields(fmt, text):
    if fmt == 'ftrace':
        return dict(kv.split('=', 1) for kv in text.split() if '=' in kv)
    return dict(kv.split(' = ', 1) for kv in text.split(', '))


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    pattern = FTRACE if fmt == 'ftrace' else LTTNG
    live = {}           # pfn -> order
    freed_by = {}       # pfn -> the free event that freed it last (for pairing)
    c = dict.fromkeys(['allocations', 'failed allocations', 'matched frees',
                       'frees of pages allocated before tracing',
                       'batched frees paired with mm_page_free', 'per-CPU refills',
                       'zone-locked direct', 're-allocations', 'order mismatches'], 0)
    with open(path, errors='replace') as f:
        for line in f:
            m = pattern.search(line)
            if not m:
                continue
            name, d = m.group(1), fields(fmt, m.group(2))
            if name not in ('mm_page_alloc', 'mm_page_alloc_zone_locked', 'mm_page_free',
                            'mm_page_free_batched'):
                continue
            pfn = number(d['pfn']) if 'pfn' in d else None
            page = d.get('page')
            order = number(d.get('order', '0'))
            if name == 'mm_page_alloc_zone_locked':
                refill = d.get('percpu_refill')
                if refill == '1' or (refill is None and order == 0):
                    c['per-CPU refills'] += 1
                else:
                    c['zone-locked direct'] += 1
                continue
            if pfn is None:
                pfn = ('page', number(page))
            if name == 'mm_page_alloc':
                if pfn == ALL_ONES or (page is not None and page in ('(null)', '0x0', '0')
                                       or (page or 'x').strip('0') == ''):
                    c['failed allocations'] += 1
                    continue
                if pfn in live:
                    c['re-allocations'] += 1
                live[pfn] = order
                freed_by.pop(pfn, None)
                c['allocations'] += 1
                continue
            # mm_page_free or mm_page_free_batched
            other = 'mm_page_free_batched' if name == 'mm_page_free' else 'mm_page_free'
            if freed_by.get(pfn) == other:
                del freed_by[pfn]
                c['batched frees paired with mm_page_free'] += 1
                continue
            if pfn in live:
                if name == 'mm_page_free' and live[pfn] != order:
                    c['order mismatches'] += 1
                del live[pfn]
                c['matched frees'] += 1
            else:
                c['frees of pages allocated before tracing'] += 1
            freed_by[pfn] = name
    c['pages never freed'] = len(live)
    for k, v in c.items():
        print('%s: %d' % (k, v))


if __name__ == '__main__':
    main()
