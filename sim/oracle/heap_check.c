// SPDX-License-Identifier: MIT
/*
 * HEAP-STRUCT, HEAP-CONSERVE and AVAIL for mm/heap.c (see heap_check.h).
 * The heap is read, never called: its chunk table, the list nodes in its
 * free blocks and its metadata bytes, each read only after the address is
 * known to lie in pages the heap holds, so a corrupt heap yields reports,
 * not crashes.
 */
#include "heap_check.h"

#include <stdlib.h>
#include <string.h>

#include "oracle/mm_layout.h"
#include "platform.h"

#define MIN_BLOCK	SIM_MM_HEAP_MIN_SIZE	/* the contract's minimum block */
#define PAGE_SIZE	4096ULL

unsigned long long sim_heap_pa(uintptr_t addr)
{
	const struct sim_physmem *pm = sim_platform_physmem();
	uint64_t pa = pm ? sim_physmem_host_to_pa(pm, (const void *)addr) : UINT64_MAX;

	return pa == UINT64_MAX ? (unsigned long long)addr : (unsigned long long)pa;
}

/* --- the shadow --------------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

uint64_t sim_heap_block_bytes(const struct sim_heap_shadow *s, uint64_t size, uint64_t align)
{
	uint64_t bytes;

	if (!align)
		align = 1;
	if (!size || (align & (align - 1)) || align > PAGE_SIZE || size > s->chunk_bytes)
		return 0;
	bytes = pow2_at_least(size > align ? size : align);
	return bytes < MIN_BLOCK ? MIN_BLOCK : bytes;
}

void sim_heap_shadow_reset(struct sim_heap_shadow *s, uint64_t chunk_bytes, unsigned int max_chunks)
{
	s->chunk_bytes = chunk_bytes;
	s->max_chunks = max_chunks;
	s->nr_live = 0;
	s->live_bytes = 0;
	s->nr_held = 0;
	s->held_pages = 0;
}

void sim_heap_shadow_fini(struct sim_heap_shadow *s)
{
	free(s->live);
	free(s->held);
	memset(s, 0, sizeof(*s));
}

/* Index of the first live block whose address is at least @addr. */
static uint32_t live_lower_bound(const struct sim_heap_shadow *s, uintptr_t addr)
{
	uint32_t lo = 0, hi = s->nr_live;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->live[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The live block with a byte in [addr, addr + len), or NULL. */
static const struct sim_heap_live *live_overlapping(const struct sim_heap_shadow *s,
						    uintptr_t addr, uint64_t len)
{
	uint32_t i = live_lower_bound(s, addr);

	if (i < s->nr_live && s->live[i].addr < addr + len)
		return &s->live[i];
	if (i > 0 && s->live[i - 1].addr + s->live[i - 1].bytes > addr)
		return &s->live[i - 1];
	return NULL;
}

bool sim_heap_shadow_busy(const struct sim_heap_shadow *s, uintptr_t addr, uint64_t len)
{
	return live_overlapping(s, addr, len) != NULL;
}

bool sim_heap_shadow_add(struct sim_heap_shadow *s, uintptr_t addr, uint64_t bytes, uint32_t h,
			 struct sim_heap_live *other)
{
	const struct sim_heap_live *o = live_overlapping(s, addr, bytes);
	uint32_t i;

	if (o) {
		*other = *o;
		return false;
	}
	if (s->nr_live == s->cap_live) {
		uint32_t cap = s->cap_live ? s->cap_live * 2 : 1024;
		struct sim_heap_live *n = realloc(s->live, (size_t)cap * sizeof(*n));

		if (!n)
			abort();	/* the shadow cannot be allowed to lose an allocation */
		s->live = n;
		s->cap_live = cap;
	}
	i = live_lower_bound(s, addr);
	memmove(&s->live[i + 1], &s->live[i], (size_t)(s->nr_live - i) * sizeof(s->live[0]));
	s->live[i] = (struct sim_heap_live){ .addr = addr, .bytes = bytes, .h = h };
	s->nr_live++;
	s->live_bytes += bytes;
	return true;
}

bool sim_heap_shadow_remove(struct sim_heap_shadow *s, uintptr_t addr)
{
	uint32_t i = live_lower_bound(s, addr);

	if (i == s->nr_live || s->live[i].addr != addr)
		return false;
	s->live_bytes -= s->live[i].bytes;
	memmove(&s->live[i], &s->live[i + 1], (size_t)(s->nr_live - i - 1) * sizeof(s->live[0]));
	s->nr_live--;
	return true;
}

void sim_heap_shadow_hold(struct sim_heap_shadow *s, uintptr_t addr, uint64_t pfn, uint64_t pages)
{
	if (s->nr_held == s->cap_held) {
		uint32_t cap = s->cap_held ? s->cap_held * 2 : 64;
		struct sim_heap_holding *n = realloc(s->held, (size_t)cap * sizeof(*n));

		if (!n)
			abort();
		s->held = n;
		s->cap_held = cap;
	}
	s->held[s->nr_held++] = (struct sim_heap_holding){ .addr = addr, .pfn = pfn, .pages = pages };
	s->held_pages += pages;
}

bool sim_heap_shadow_release(struct sim_heap_shadow *s, uintptr_t addr, uint64_t *pages)
{
	for (uint32_t i = 0; i < s->nr_held; i++) {
		if (s->held[i].addr != addr)
			continue;
		*pages = s->held[i].pages;
		s->held_pages -= s->held[i].pages;
		s->held[i] = s->held[--s->nr_held];
		return true;
	}
	return false;
}

/* --- chunks, as the holdings vouch for them ------------------------------------- */

static uint64_t meta_pages(const struct sim_heap_shadow *s)
{
	uint64_t bytes = s->chunk_bytes / MIN_BLOCK;

	return bytes <= PAGE_SIZE ? 1 : bytes / PAGE_SIZE;
}

static const struct sim_heap_holding *holding_at(const struct sim_heap_shadow *s, uintptr_t addr,
						 uint64_t pages)
{
	for (uint32_t i = 0; i < s->nr_held; i++)
		if (s->held[i].addr == addr && s->held[i].pages == pages)
			return &s->held[i];
	return NULL;
}

/*
 * The heap's chunk i, if its memory and its metadata are pages the heap
 * holds in the sizes the configuration implies; NULL otherwise (and only
 * the full check says why).
 */
static const struct sim_mm_heap_chunk *vouched_chunk(const struct sim_mm_heap *heap,
						   const struct sim_heap_shadow *s, uint32_t i)
{
	const struct sim_mm_heap_chunk *c = &heap->chunks[i];

	if (i >= heap->nr_chunks || i >= SIM_MM_HEAP_MAX_CHUNKS)
		return NULL;
	if (!holding_at(s, (uintptr_t)c->va, s->chunk_bytes / PAGE_SIZE) ||
	    !holding_at(s, (uintptr_t)c->meta, meta_pages(s)))
		return NULL;
	return c;
}

/* The vouched chunk holding [addr, addr + len), or NULL. */
static const struct sim_mm_heap_chunk *chunk_of(const struct sim_mm_heap *heap,
					      const struct sim_heap_shadow *s,
					      uintptr_t addr, uint64_t len)
{
	uint32_t n = heap->nr_chunks < SIM_MM_HEAP_MAX_CHUNKS ? heap->nr_chunks : SIM_MM_HEAP_MAX_CHUNKS;

	for (uint32_t i = 0; i < n; i++) {
		uintptr_t va = (uintptr_t)heap->chunks[i].va;

		if (addr - va < s->chunk_bytes && addr + len - va <= s->chunk_bytes)
			return vouched_chunk(heap, s, i);
	}
	return NULL;
}

static unsigned int order_of(uint64_t bytes)
{
	return (unsigned int)__builtin_ctzll(bytes / MIN_BLOCK);
}

/* --- incremental ------------------------------------------------------------------ */

/* Metadata of the block at @addr in @c (inside the chunk, checked by the caller), decoded. */
static unsigned int meta_at(const struct sim_mm_heap_chunk *c, uintptr_t addr)
{
	return sim_mm_heap_meta(c->meta[(addr - (uintptr_t)c->va) / MIN_BLOCK]);
}

/* A decoded metadata byte for reports: "free order 3", "allocated order 0", "none". */
static const char *meta_name(unsigned int m, char *buf, size_t len)
{
	if (m & SIM_MM_HEAP_BAD)
		snprintf(buf, len, "undocumented byte %#x", m & 0xffu);
	else if (m & (SIM_MM_HEAP_FREE | SIM_MM_HEAP_ALLOC))
		snprintf(buf, len, "%s order %u", m & SIM_MM_HEAP_FREE ? "free" : "allocated",
			 m & SIM_MM_HEAP_ORDER);
	else
		snprintf(buf, len, "none");
	return buf;
}

static void check_alloc(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			struct sim_report *r, uintptr_t addr, uint64_t bytes, uint64_t align)
{
	const struct sim_mm_heap_chunk *c = chunk_of(heap, s, addr, bytes);
	unsigned int want = SIM_MM_HEAP_ALLOC | order_of(bytes), got;
	char gb[48], wb[48];

	if (!c) {
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"halloc returned %#llx+%llu, which is not inside a chunk the heap holds",
			sim_heap_pa(addr), (unsigned long long)bytes);
		return;
	}
	if ((addr - (uintptr_t)c->va) % bytes || (align && addr % align))
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"halloc returned %#llx (chunk offset %#llx) for a %llu-byte block aligned to %llu: "
			"not aligned", sim_heap_pa(addr), (unsigned long long)(addr - (uintptr_t)c->va),
			(unsigned long long)bytes, (unsigned long long)(align ? align : 1));
	got = meta_at(c, addr);
	if (got != want)
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"allocated block %#llx (%llu bytes): metadata byte says %s, expected %s",
			sim_heap_pa(addr), (unsigned long long)bytes, meta_name(got, gb, sizeof(gb)),
			meta_name(want, wb, sizeof(wb)));
}

/* A list head of @heap, or a free block's node inside a chunk: safe to read. */
static bool readable_node(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			  const struct sim_mm_list *node)
{
	uintptr_t p = (uintptr_t)node, heads = (uintptr_t)heap->free_area;

	if (p - heads < (SIM_MM_HEAP_MAX_ORDER + 1) * sizeof(heap->free_area[0]))
		return (p - heads) % sizeof(heap->free_area[0]) == 0;
	return !(p % MIN_BLOCK) && chunk_of(heap, s, p, MIN_BLOCK);
}

/* A free list node (known to be in a chunk) is linked both ways. */
static bool node_linked(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			const struct sim_mm_list *node)
{
	return readable_node(heap, s, node->next) && readable_node(heap, s, node->prev) &&
	       node->next->prev == node && node->prev->next == node;
}

static void check_free(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
		       struct sim_report *r, uintptr_t addr, uint64_t bytes)
{
	const struct sim_mm_heap_chunk *c = chunk_of(heap, s, addr, bytes);
	uintptr_t off, base;
	unsigned int got;
	char gb[48], wb[48];

	if (!c) {
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"freed block %#llx+%llu is no longer inside a chunk the heap holds",
			sim_heap_pa(addr), (unsigned long long)bytes);
		return;
	}
	/* Climb while the buddy holds no live byte: the freed block must have merged that far. */
	base = (uintptr_t)c->va;
	off = addr - base;
	while (bytes < s->chunk_bytes && !sim_heap_shadow_busy(s, base + (off ^ bytes), bytes)) {
		off &= ~(uintptr_t)bytes;
		bytes <<= 1;
	}
	got = meta_at(c, base + off);
	if (got != (SIM_MM_HEAP_FREE | order_of(bytes))) {
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"after freeing %#llx, the free block %#llx (%llu bytes, buddies maximally merged) "
			"has metadata byte saying %s, expected %s", sim_heap_pa(addr),
			sim_heap_pa(base + off), (unsigned long long)bytes, meta_name(got, gb, sizeof(gb)),
			meta_name(SIM_MM_HEAP_FREE | order_of(bytes), wb, sizeof(wb)));
		return;
	}
	if (!node_linked(heap, s, (const struct sim_mm_list *)(base + off)))
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"free block %#llx (%llu bytes) is not linked on a free list both ways",
			sim_heap_pa(base + off), (unsigned long long)bytes);
}

/* --- the free blocks the shadow implies ------------------------------------------------ */

struct block {
	uintptr_t addr;
	uint64_t bytes;
};

struct blocks {
	struct block *b;
	size_t n, cap;
};

static void blocks_push(struct blocks *v, uintptr_t addr, uint64_t bytes)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->b = realloc(v->b, v->cap * sizeof(*v->b));
		if (!v->b)
			abort();
	}
	v->b[v->n++] = (struct block){ addr, bytes };
}

/*
 * The free blocks of the node [addr, addr + bytes) of a buddy tree: the
 * node itself if no live byte is in it, nothing if one live block is
 * exactly it, else those of its halves.
 */
static void free_blocks_of(const struct sim_heap_shadow *s, uintptr_t addr, uint64_t bytes,
			   struct blocks *out)
{
	const struct sim_heap_live *l = live_overlapping(s, addr, bytes);

	if (!l) {
		blocks_push(out, addr, bytes);
		return;
	}
	if (l->addr == addr && l->bytes == bytes)
		return;
	if (bytes <= MIN_BLOCK)
		return;		/* a live block straddles this node: reported as misaligned */
	free_blocks_of(s, addr, bytes / 2, out);
	free_blocks_of(s, addr + bytes / 2, bytes / 2, out);
}

static int block_cmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void check_avail(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			struct sim_report *r, uint64_t bytes, bool asked)
{
	struct blocks fb = { 0 };
	uint32_t n = heap->nr_chunks < SIM_MM_HEAP_MAX_CHUNKS ? heap->nr_chunks : SIM_MM_HEAP_MAX_CHUNKS;

	for (uint32_t i = 0; i < n; i++) {
		const struct sim_mm_heap_chunk *c = vouched_chunk(heap, s, i);

		if (c)
			free_blocks_of(s, (uintptr_t)c->va, s->chunk_bytes, &fb);
	}
	for (size_t i = 0; i < fb.n; i++) {
		if (fb.b[i].bytes < bytes)
			continue;
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"halloc of a %llu-byte block failed, but %#llx (%llu bytes) holds no live allocation",
			(unsigned long long)bytes, sim_heap_pa(fb.b[i].addr),
			(unsigned long long)fb.b[i].bytes);
		break;
	}
	free(fb.b);
	if (!asked && s->nr_held / 2 < s->max_chunks)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"halloc of a %llu-byte block failed without asking the page allocator for a chunk "
			"(the heap holds %u of its %u)", (unsigned long long)bytes, s->nr_held / 2,
			s->max_chunks);
}

/* --- the full check ------------------------------------------------------------------- */

/* Chunks against holdings: every chunk vouched for, every holding a chunk or its metadata. */
static bool check_chunks(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			 struct sim_report *r)
{
	if (heap->nr_chunks > SIM_MM_HEAP_MAX_CHUNKS || heap->nr_chunks * 2 != s->nr_held) {
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"the heap counts %u chunks but holds %u page blocks from the page allocator "
			"(a chunk and its metadata each)", heap->nr_chunks, s->nr_held);
		return false;
	}
	for (uint32_t i = 0; i < heap->nr_chunks; i++) {
		const struct sim_mm_heap_chunk *c = &heap->chunks[i];

		if (!vouched_chunk(heap, s, i)) {
			sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
				"chunk %u (%#llx, metadata %#llx) is not a chunk and metadata pages the heap "
				"took from the page allocator", i, sim_heap_pa((uintptr_t)c->va),
				sim_heap_pa((uintptr_t)c->meta));
			return false;
		}
		if (i && (uintptr_t)heap->chunks[i - 1].va >= (uintptr_t)c->va) {
			sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
				"chunk table out of order at %u (%#llx after %#llx)", i,
				sim_heap_pa((uintptr_t)c->va), sim_heap_pa((uintptr_t)heap->chunks[i - 1].va));
			return false;
		}
	}
	return true;
}

/* Every live block inside a chunk. */
static void check_live_inside(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			      struct sim_report *r)
{
	for (uint32_t i = 0; i < s->nr_live; i++) {
		const struct sim_heap_live *l = &s->live[i];

		if (chunk_of(heap, s, l->addr, l->bytes))
			continue;
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"live allocation h%u at %#llx+%llu is not inside any chunk the heap holds",
			l->h, sim_heap_pa(l->addr), (unsigned long long)l->bytes);
		return;
	}
}

/* Reads every free list into @out; false (reported) if one is malformed. */
static bool read_free_lists(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			    struct sim_report *r, struct blocks *out)
{
	uint64_t limit = (uint64_t)heap->nr_chunks * (s->chunk_bytes / MIN_BLOCK) + 1;

	for (unsigned int o = 0; o <= SIM_MM_HEAP_MAX_ORDER; o++) {
		const struct sim_mm_list *head = &heap->free_area[o], *node, *prev = head;
		uint64_t bytes = MIN_BLOCK << o, seen = 0;

		for (node = head->next; node != head; prev = node, node = node->next) {
			const struct sim_mm_heap_chunk *c = chunk_of(heap, s, (uintptr_t)node, bytes);

			if (!c || ((uintptr_t)node - (uintptr_t)c->va) % bytes) {
				sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
					"free list of %llu-byte blocks holds %#llx: %s",
					(unsigned long long)bytes, sim_heap_pa((uintptr_t)node),
					c ? "not aligned to its size in its chunk" :
					"not a block inside a chunk the heap holds");
				return false;
			}
			if (node->prev != prev || ++seen > limit) {
				sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
					"free list of %llu-byte blocks is broken at %#llx (%s)",
					(unsigned long long)bytes, sim_heap_pa((uintptr_t)node),
					seen > limit ? "cycle" : "prev link does not point back");
				return false;
			}
			blocks_push(out, (uintptr_t)node, bytes);
		}
		if (head->prev != prev) {
			sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
				"free list of %llu-byte blocks: the head's prev is not its last node",
				(unsigned long long)bytes);
			return false;
		}
	}
	return true;
}

/* The listed blocks against the ones the shadow implies (both sorted). */
static void compare_free_blocks(const struct sim_heap_shadow *s, struct sim_report *r,
				const struct blocks *listed, const struct blocks *want)
{
	uint64_t listed_bytes = 0;
	size_t i;

	for (i = 0; i < listed->n; i++) {
		const struct block *b = &listed->b[i];
		const struct sim_heap_live *l = live_overlapping(s, b->addr, b->bytes);

		listed_bytes += b->bytes;
		if (l) {
			sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
				"free block %#llx (%llu bytes) overlaps live allocation h%u at %#llx+%llu",
				sim_heap_pa(b->addr), (unsigned long long)b->bytes, l->h,
				sim_heap_pa(l->addr), (unsigned long long)l->bytes);
			return;
		}
		if (i && listed->b[i - 1].addr + listed->b[i - 1].bytes > b->addr) {
			sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
				"free blocks %#llx (%llu bytes) and %#llx (%llu bytes) overlap",
				sim_heap_pa(listed->b[i - 1].addr),
				(unsigned long long)listed->b[i - 1].bytes,
				sim_heap_pa(b->addr), (unsigned long long)b->bytes);
			return;
		}
	}
	if (listed_bytes + s->live_bytes != (uint64_t)(s->nr_held / 2) * s->chunk_bytes) {
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"free %llu + allocated %llu bytes != %u chunks of %llu bytes",
			(unsigned long long)listed_bytes, (unsigned long long)s->live_bytes,
			s->nr_held / 2, (unsigned long long)s->chunk_bytes);
		return;
	}
	for (i = 0; i < listed->n && i < want->n; i++) {
		const struct block *got = &listed->b[i], *exp = &want->b[i];

		if (got->addr == exp->addr && got->bytes == exp->bytes)
			continue;
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"free lists hold %#llx (%llu bytes) where the free memory is the block %#llx "
			"(%llu bytes)%s", sim_heap_pa(got->addr), (unsigned long long)got->bytes,
			sim_heap_pa(exp->addr), (unsigned long long)exp->bytes,
			got->bytes < exp->bytes ? ": free buddies were not merged" : "");
		return;
	}
	if (listed->n != want->n)
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"free lists hold %zu blocks where the free memory is %zu maximally merged blocks",
			listed->n, want->n);
}

/*
 * Metadata bytes: heads of live and free blocks, 0 everywhere else. @want
 * is in chunk order and, within a chunk, in address order.
 */
static void check_metadata(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			   struct sim_report *r, const struct blocks *want)
{
	/*
	 * The expected bytes of one chunk, kept for the next sweep: a sweep
	 * runs after every op of a concurrent block, and a chunk's array
	 * (chunk_bytes / 16 entries) is large enough that allocating it each
	 * time cost a mapping, its page faults and, under ASan, a fill of it
	 * (15% of a whole-machine fuzz run's CPU, most of it with no chunk).
	 */
	static _Thread_local struct { unsigned int *p; uint64_t slots; } spare;
	uint64_t slots = s->chunk_bytes / MIN_BLOCK;
	unsigned int *exp;
	char gb[48], wb[48];
	size_t f = 0;

	if (!heap->nr_chunks)
		return;
	if (spare.slots < slots) {
		free(spare.p);
		spare.p = malloc(slots * sizeof(*spare.p));
		if (!spare.p)
			abort();
		spare.slots = slots;
	}
	exp = spare.p;
	for (uint32_t i = 0; i < heap->nr_chunks; i++) {
		const struct sim_mm_heap_chunk *c = &heap->chunks[i];
		uintptr_t base = (uintptr_t)c->va, end = base + s->chunk_bytes;

		memset(exp, 0, slots * sizeof(*exp));	/* SIM_MM_HEAP_NONE */
		for (uint32_t k = live_lower_bound(s, base); k < s->nr_live && s->live[k].addr < end; k++)
			exp[(s->live[k].addr - base) / MIN_BLOCK] =
				SIM_MM_HEAP_ALLOC | order_of(s->live[k].bytes);
		for (; f < want->n && want->b[f].addr < end; f++)
			exp[(want->b[f].addr - base) / MIN_BLOCK] =
				SIM_MM_HEAP_FREE | order_of(want->b[f].bytes);
		for (uint64_t slot = 0; slot < slots; slot++) {
			unsigned int got = sim_mm_heap_meta(c->meta[slot]);

			if (got == exp[slot])
				continue;
			sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
				"metadata byte of %#llx says %s, expected %s",
				sim_heap_pa(base + slot * MIN_BLOCK), meta_name(got, gb, sizeof(gb)),
				meta_name(exp[slot], wb, sizeof(wb)));
			return;
		}
	}
}

static void check_full(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
		       struct sim_report *r)
{
	struct blocks listed = { 0 }, want = { 0 };

	if (!check_chunks(heap, s, r))
		return;
	check_live_inside(heap, s, r);
	for (uint32_t i = 0; i < heap->nr_chunks; i++)
		free_blocks_of(s, (uintptr_t)heap->chunks[i].va, s->chunk_bytes, &want);
	if (read_free_lists(heap, s, r, &listed)) {
		if (listed.n)
			qsort(listed.b, listed.n, sizeof(listed.b[0]), block_cmp);
		compare_free_blocks(s, r, &listed, &want);
	}
	check_metadata(heap, s, r, &want);
	free(listed.b);
	free(want.b);
}

static void check_reclaimed(const struct sim_mm_heap *heap, const struct sim_heap_shadow *s,
			    struct sim_report *r)
{
	uint32_t n = heap->nr_chunks < SIM_MM_HEAP_MAX_CHUNKS ? heap->nr_chunks : SIM_MM_HEAP_MAX_CHUNKS;

	for (uint32_t i = 0; i < n; i++) {
		const struct sim_mm_heap_chunk *c = vouched_chunk(heap, s, i);

		if (!c || sim_heap_shadow_busy(s, (uintptr_t)c->va, s->chunk_bytes))
			continue;
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"reclaim kept chunk %#llx, which holds no live allocation",
			sim_heap_pa((uintptr_t)c->va));
		return;
	}
}

/* --- entry points: mm/'s heap read through the layout unit ---------------------------- */

void sim_heap_check_alloc(const struct hvmm_heap *mheap, const struct sim_heap_shadow *s,
			  struct sim_report *r, uintptr_t addr, uint64_t bytes, uint64_t align)
{
	struct sim_mm_heap heap;

	sim_mm_heap_read(mheap, &heap);
	check_alloc(&heap, s, r, addr, bytes, align);
}

void sim_heap_check_free(const struct hvmm_heap *mheap, const struct sim_heap_shadow *s,
			 struct sim_report *r, uintptr_t addr, uint64_t bytes)
{
	struct sim_mm_heap heap;

	sim_mm_heap_read(mheap, &heap);
	check_free(&heap, s, r, addr, bytes);
}

void sim_heap_check_avail(const struct hvmm_heap *mheap, const struct sim_heap_shadow *s,
			  struct sim_report *r, uint64_t bytes, bool asked)
{
	struct sim_mm_heap heap;

	sim_mm_heap_read(mheap, &heap);
	check_avail(&heap, s, r, bytes, asked);
}

void sim_heap_check_full(const struct hvmm_heap *mheap, const struct sim_heap_shadow *s,
			 struct sim_report *r)
{
	struct sim_mm_heap heap;

	sim_mm_heap_read(mheap, &heap);
	check_full(&heap, s, r);
}

void sim_heap_check_reclaimed(const struct hvmm_heap *mheap, const struct sim_heap_shadow *s,
			      struct sim_report *r)
{
	struct sim_mm_heap heap;

	sim_mm_heap_read(mheap, &heap);
	check_reclaimed(&heap, s, r);
}
