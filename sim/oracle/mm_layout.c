// SPDX-License-Identifier: MIT
/*
 * The layout unit (oracle/mm_layout.h): the only oracle file compiled with
 * mm/'s headers. A translation table from mm/'s data and encodings to the
 * oracles' vocabulary, and build-time checks that the structures oracles
 * walk in place have the shape mm_layout.h declares. No judgement here:
 * every value mm/ does not document comes out as *_BAD for the oracles to
 * report.
 */
#include "oracle/mm_layout.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <hvmm/bitmap_alloc.h>
#include <hvmm/buddy.h>
#include <hvmm/heap.h>
#include <hvmm/list.h>
#include <hvmm/mem_protect.h>
#include <hvmm/memory.h>
#include <hvmm/spinlock.h>
#include <hvmm/types.h>
#include <hvmm/vm.h>

#include "bytes.h"
#include "op.h"
#include "vmemmap.h"

#define SAME_FIELD(a, fa, b, fb) \
	(offsetof(a, fa) == offsetof(b, fb) && sizeof(((a *)0)->fa) == sizeof(((b *)0)->fb))

/* Op results: mm/'s codes are the op vocabulary's. */
_Static_assert(SIM_EINVAL == HVMM_EINVAL && SIM_ENOMEM == HVMM_ENOMEM && SIM_EPERM == HVMM_EPERM &&
	       SIM_EEXIST == HVMM_EEXIST && SIM_ENOENT == HVMM_ENOENT && SIM_EBUSY == HVMM_EBUSY &&
	       SIM_ERANGE == HVMM_ERANGE && SIM_EFAULT == HVMM_EFAULT &&
	       SIM_ENOTSUP == HVMM_ENOTSUP && SIM_ERRNO_MAX == HVMM_ERRNO_MAX,
	       "sim/op.h's result codes are mm/'s");
/* Limits the executor's op vocabulary states for mm/ (sim/op.h). */
_Static_assert(SIM_MAX_VCPUS == HVMM_MAX_VCPUS && SIM_MAX_VMS == HVMM_MAX_VMS,
	       "sim/op.h's VM limits are mm/'s");

/* Structures walked in place. */
_Static_assert(SIM_MM_BUDDY_PAGE_SIZE == HVMM_PAGE_SIZE, "buddy blocks are of whole pages");
_Static_assert(sizeof(struct sim_mm_list) == sizeof(struct hvmm_list) &&
	       SAME_FIELD(struct sim_mm_list, next, struct hvmm_list, next) &&
	       SAME_FIELD(struct sim_mm_list, prev, struct hvmm_list, prev), "list node");
_Static_assert(SIM_MM_BUDDY_MAX_ORDER == HVMM_BUDDY_MAX_ORDER, "buddy free lists");
_Static_assert(sizeof(struct sim_mm_bitmap_node) == sizeof(struct hvmm_bitmap_node) &&
	       SAME_FIELD(struct sim_mm_bitmap_node, avail, struct hvmm_bitmap_node, avail) &&
	       SAME_FIELD(struct sim_mm_bitmap_node, stale, struct hvmm_bitmap_node, stale) &&
	       SAME_FIELD(struct sim_mm_bitmap_node, prefix, struct hvmm_bitmap_node, prefix) &&
	       SAME_FIELD(struct sim_mm_bitmap_node, suffix, struct hvmm_bitmap_node, suffix) &&
	       SAME_FIELD(struct sim_mm_bitmap_node, longest, struct hvmm_bitmap_node, longest),
	       "bitmap node");
_Static_assert(SIM_MM_BITMAP_MAX_LEVELS == HVMM_BITMAP_MAX_LEVELS &&
	       SIM_MM_BITMAP_FANOUT_SHIFT == HVMM_BITMAP_FANOUT_SHIFT, "bitmap tree");
_Static_assert(SIM_MM_HEAP_MIN_SIZE == HVMM_HEAP_MIN_SIZE &&
	       SIM_MM_HEAP_MAX_ORDER == HVMM_HEAP_MAX_ORDER &&
	       SIM_MM_HEAP_MAX_CHUNKS == HVMM_HEAP_MAX_CHUNKS &&
	       SIM_MM_HEAP_MAX_ORDER <= SIM_MM_HEAP_ORDER, "heap");
_Static_assert(sizeof(sim_mm_spinlock_t) == sizeof(hvmm_spinlock_t) &&
	       _Alignof(sim_mm_spinlock_t) == _Alignof(hvmm_spinlock_t), "spinlock");

/* --- the vmemmap ----------------------------------------------------------- */

static enum sim_mm_type type_of(unsigned int t)
{
	switch (t) {
	case HVMM_PAGE_DATA: return SIM_MM_TYPE_DATA;
	case HVMM_PAGE_PGTABLE: return SIM_MM_TYPE_PGTABLE;
	case HVMM_PAGE_HYP: return SIM_MM_TYPE_HYP;
	default: return SIM_MM_TYPE_BAD;
	}
}

static enum sim_mm_state state_of(unsigned int s)
{
	switch (s) {
	case HVMM_PAGE_OWNED: return SIM_MM_OWNED;
	case HVMM_PAGE_SHARED_OWNED: return SIM_MM_SHARED_OWNED;
	case HVMM_PAGE_SHARED_BORROWED: return SIM_MM_SHARED_BORROWED;
	case HVMM_PAGE_NOPAGE: return SIM_MM_NOPAGE;
	default: return SIM_MM_STATE_BAD;
	}
}

static enum sim_mm_owner owner_of(unsigned int id, uint16_t *vmid)
{
	unsigned int first = HVMM_OWNER_GUEST(0);

	*vmid = 0;
	if (id == HVMM_OWNER_HOST)
		return SIM_MM_OWNER_HOST;
	if (id == HVMM_OWNER_HYP)
		return SIM_MM_OWNER_HYP;
	if (id >= first && HVMM_OWNER_GUEST(id - first) == id) {
		*vmid = (uint16_t)(id - first);
		return SIM_MM_OWNER_GUEST;
	}
	return SIM_MM_OWNER_BAD;
}

/*
 * Field by field, never a struct copy or a zeroing of the whole: the full
 * sweep reads every RAM page it cannot skip, and under ASan a struct copy
 * or clear is a call into the runtime that checks the range.
 */
void sim_mm_page_read(const struct sim_vmemmap *v, uint64_t pfn, struct sim_mm_page *out)
{
	const struct hvmm_page *p = sim_vmemmap_page(v, pfn);

	if (!p) {
		out->valid = false;
		out->refcount = 0;
		out->order = 0;
		out->type = 0;
		out->state = 0;
		out->owner = 0;
		out->vmid = 0;
		out->raw_type = out->raw_state = out->raw_owner = 0;
		out->share_count = out->map_count = 0;
		return;
	}
	out->valid = true;
	out->refcount = p->refcount;
	out->order = hvmm_page_is_head(p) ? hvmm_page_order(p) : SIM_MM_NO_ORDER;
	out->raw_type = p->type;
	out->type = type_of(p->type);
	out->raw_state = p->host_state;
	out->state = state_of(p->host_state);
	out->raw_owner = p->owner;
	out->vmid = 0;
	out->owner = owner_of(p->owner, &out->vmid);
	out->share_count = p->share_count;
	out->map_count = atomic_load_explicit(&p->map_count, memory_order_relaxed);
}

struct sim_mm_page sim_mm_page(const struct sim_vmemmap *v, uint64_t pfn)
{
	struct sim_mm_page out = { 0 };

	sim_mm_page_read(v, pfn, &out);
	return out;
}

/* Fields read in place (struct sim_mm_block_map). */
_Static_assert(sizeof(struct sim_mm_block_entry) == sizeof(struct hvmm_page) &&
	       _Alignof(struct sim_mm_block_entry) <= _Alignof(struct hvmm_page) &&
	       SAME_FIELD(struct sim_mm_block_entry, refcount, struct hvmm_page, refcount) &&
	       SAME_FIELD(struct sim_mm_block_entry, order_byte, struct hvmm_page, order_plus1) &&
	       SAME_FIELD(struct sim_mm_block_entry, type_byte, struct hvmm_page, type),
	       "vmemmap entry");

static uint8_t block_order_of[256], block_type_of[256];
static pthread_once_t block_order_once = PTHREAD_ONCE_INIT;

/* What each value of the order and type bytes means, as mm/ reads them. */
static void block_order_init(void)
{
	for (unsigned int b = 0; b < 256; b++) {
		block_type_of[b] = (uint8_t)type_of(b);
		struct hvmm_page p = { .order_plus1 = (u8)b };
		unsigned int order = hvmm_page_order(&p);

		if (!hvmm_page_is_head(&p))
			block_order_of[b] = SIM_MM_NO_ORDER;
		else	/* a head of order 0xff stays a head: an order out of any pool's range */
			block_order_of[b] = (uint8_t)(order < SIM_MM_NO_ORDER ? order : SIM_MM_NO_ORDER - 1);
	}
}

void sim_mm_block_map(const struct sim_vmemmap *v, struct sim_mm_block_map *out)
{
	pthread_once(&block_order_once, block_order_init);
	*out = (struct sim_mm_block_map){
		.entries = (const struct sim_mm_block_entry *)v->pages, .start_pfn = v->start_pfn,
		.nr = v->pages ? v->end_pfn - v->start_pfn : 0, .order_of = block_order_of,
		.type_of = block_type_of,
	};
}

/*
 * mm/ boots on zeroed metadata (hvmm_memory_init) and documents what that
 * means: a host-owned data page in no block. The boot entry is built from
 * mm/'s encodings; only if it is all zero can a run be compared as bytes.
 */
static bool boot_entry(const struct hvmm_page *p)
{
	return !p->refcount && !hvmm_page_is_head(p) && p->type == HVMM_PAGE_DATA &&
	       p->host_state == HVMM_PAGE_OWNED && p->owner == HVMM_OWNER_HOST && !p->flags &&
	       !p->share_count && !atomic_load_explicit(&p->map_count, memory_order_relaxed);
}

bool sim_mm_pages_boot(const struct sim_vmemmap *v, uint64_t pfn, uint64_t nr)
{
	static const struct hvmm_page zero;
	const struct hvmm_page *p = sim_vmemmap_page(v, pfn);
	uint64_t bytes = nr * sizeof(*p);

	if (!p || !sim_vmemmap_page(v, pfn + nr - 1))
		return false;
	if (boot_entry(&zero))
		return sim_sparse_untouched(p, bytes) || sim_bytes_zero(p, bytes);
	for (uint64_t i = 0; i < nr; i++)
		if (!boot_entry(&p[i]))
			return false;
	return true;
}

void sim_mm_vmemmap_span(const struct sim_vmemmap *v, uint64_t *start, uint64_t *end)
{
	*start = v->start_pfn;
	*end = v->end_pfn;
}

const char *sim_mm_owner_name(const struct sim_mm_page *p, char *buf, size_t len)
{
	switch (p->owner) {
	case SIM_MM_OWNER_HOST: return "host";
	case SIM_MM_OWNER_HYP: return "hypervisor";
	case SIM_MM_OWNER_GUEST:
		snprintf(buf, len, "guest VMID %u", p->vmid);
		return buf;
	default:
		snprintf(buf, len, "unknown owner id %u", p->raw_owner);
		return buf;
	}
}

const char *sim_mm_state_name(enum sim_mm_state s)
{
	static const char *const names[] = {
		[SIM_MM_OWNED] = "owned", [SIM_MM_SHARED_OWNED] = "shared-owned",
		[SIM_MM_SHARED_BORROWED] = "shared-borrowed", [SIM_MM_NOPAGE] = "nopage",
	};

	return (unsigned int)s < SIM_MM_STATE_BAD ? names[s] : "?";
}

const char *sim_mm_type_name(enum sim_mm_type t)
{
	static const char *const names[] = {
		[SIM_MM_TYPE_DATA] = "data", [SIM_MM_TYPE_PGTABLE] = "page table",
		[SIM_MM_TYPE_HYP] = "hypervisor",
	};

	return (unsigned int)t < SIM_MM_TYPE_BAD ? names[t] : "?";
}

/* --- allocators ------------------------------------------------------------------- */

const struct sim_mm_list *sim_mm_pool_free_lists(const struct hvmm_pool *pool)
{
	return (const struct sim_mm_list *)pool->free_area;
}

void sim_mm_pool_untouched(const struct hvmm_pool *pool, uint64_t *start, uint64_t *end)
{
	uint64_t first = hvmm_phys_to_pfn(pool->range_start);

	*start = first + pool->untouched;
	*end = first + pool->untouched_end;
}

void sim_mm_bitmap_read(const struct hvmm_bitmap *bm, struct sim_mm_bitmap *out)
{
	*out = (struct sim_mm_bitmap){
		.base_pfn = bm->base_pfn, .nr_frames = bm->nr_frames, .nr_free = bm->nr_free,
		.first_free_word = bm->first_free_word, .free = bm->free, .present = bm->present,
		.word_longest = bm->word_longest,
		.top = bm->top, .root_stale = bm->root_stale,
	};
	for (unsigned int k = 0; k <= HVMM_BITMAP_MAX_LEVELS; k++) {
		out->nodes[k] = (const struct sim_mm_bitmap_node *)bm->nodes[k];
		out->nr_nodes[k] = bm->nr_nodes[k];
	}
}

void sim_mm_heap_read(const struct hvmm_heap *heap, struct sim_mm_heap *out)
{
	out->free_area = (const struct sim_mm_list *)heap->free_area;
	out->nr_chunks = heap->nr_chunks;
	for (unsigned int i = 0; i < HVMM_HEAP_MAX_CHUNKS; i++)
		out->chunks[i] = (struct sim_mm_heap_chunk){ heap->chunks[i].va, heap->chunks[i].meta };
}

unsigned int sim_mm_heap_meta(uint8_t byte)
{
	unsigned int order = byte & HVMM_HEAP_META_ORDER;

	if (!byte)
		return SIM_MM_HEAP_NONE;
	if ((byte & ~HVMM_HEAP_META_ORDER) == HVMM_HEAP_META_FREE)
		return SIM_MM_HEAP_FREE | order;
	if ((byte & ~HVMM_HEAP_META_ORDER) == HVMM_HEAP_META_ALLOC)
		return SIM_MM_HEAP_ALLOC | order;
	return SIM_MM_HEAP_BAD | byte;
}

uint32_t sim_mm_vm_refcount(const struct hvmm_vm *vm)
{
	return __atomic_load_n(&vm->refcount, __ATOMIC_RELAXED);
}
