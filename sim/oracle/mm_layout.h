/* SPDX-License-Identifier: MIT */
/*
 * mm/'s data as the oracles read it: the one door between sim/oracle/ and
 * the layout of the code it judges.
 *
 * Every oracle in sim/oracle/ is compiled without mm/'s headers on its
 * include path (sim/meson.build builds them as a library of their own, so
 * a stray <hvmm/...> include fails the build). What they must read of
 * mm/'s data (the CN Hyp_pool invariant is about the pool's own lists and
 * metadata) they read through this header: oracle-side enums and plain
 * structs, filled by one translation unit, mm_layout.c, the only oracle
 * file built with mm/'s include path. It is a translation table and no
 * more: it copies fields and maps mm/'s encodings onto the ones below,
 * and checks at build time that the structures the oracles walk in place
 * (list nodes, bitmap nodes, the kernel's pool, a vmemmap entry's
 * refcount, order and type) have the shape declared here. It decides
 * nothing; the oracles judge with their own encodings, so an mm/ built
 * with other values for its states, types, owner ids and metadata bytes
 * (tests/layout) is judged the same.
 *
 * What is read, field by field, and why:
 *
 *  vmemmap (struct hvmm_page, one per PFN), into struct sim_mm_page:
 *   refcount	buddy references. ALLOC-STRUCT (a free block has 0, a tail
 *		has 0), TLB and PT-WALK (a table page a walk reaches or a
 *		cached walk went through is allocated), REFCOUNT (a table's
 *		count is 1 + its entries);
 *   order	the block a page heads, or none (a tail). ALLOC-STRUCT;
 *   type	data / page table / hypervisor. TYPE (only data pages are
 *		mapped), PT-WALK and TLB (tables are typed as tables);
 *   owner,	who owns the page and how the host sees it. OWNERSHIP:
 *   host_state	compared with what the reference model (SPEC) says;
 *   share_count guests a host page is lent to. OWNERSHIP;
 *   map_count	stage-2 leaves mapping the page. REFCOUNT: compared with
 *		a recount of the leaves the walker finds.
 *  A whole run of entries can also be asked whether it is as mm/ boots it
 *  (sim_mm_pages_boot): the full sweeps skip untouched RAM with it.
 *
 *  buddy pool (struct hvmm_pool): its free lists, walked in place as
 *  struct sim_mm_list (two pointers; the node of each free block in its
 *  first or its last 16 bytes, as its order picks,
 *  sim_mm_buddy_node_offset). ALLOC-STRUCT: every free head listed once,
 *  links consistent.
 *  Its untouched range (untouched, untouched_end: page indices of the
 *  maximal blocks never listed), as PFNs: ALLOC-STRUCT judges those pages
 *  free and never written, ALLOC-CONSERVE counts them free.
 *
 *  bitmap allocator (struct hvmm_bitmap): its counters, free/present
 *  words and node tree, as struct sim_mm_bitmap; nodes in place as struct
 *  sim_mm_bitmap_node. ALLOC-STRUCT, ALLOC-CONSERVE.
 *
 *  byte heap (struct hvmm_heap): its free lists, chunk table and the
 *  metadata byte of each minimum block, as struct sim_mm_heap and
 *  sim_mm_heap_meta(). HEAP-STRUCT, HEAP-CONSERVE.
 *
 *  VM table (struct hvmm_vm): refcount, the hvmm_vm_get() references
 *		held. REFCOUNT: compared with the pins the reference model
 *		counts for the VM (SPEC's, from the vm_pin and vm_unpin ops).
 *  op results: the executor passes mm/'s return codes through; they are
 *  the op vocabulary's SIM_E* (sim/op.h), checked equal to mm/'s here.
 */
#ifndef SIM_ORACLE_MM_LAYOUT_H
#define SIM_ORACLE_MM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mm/'s objects, opaque to the oracles: only mm_layout.c looks inside. */
struct hvmm_pool;
struct hvmm_bitmap;
struct hvmm_heap;
struct hvmm_vm;
/* The executor's mapping of mm/'s vmemmap (sim/vmemmap.h). */
struct sim_vmemmap;

/* --- the vmemmap ------------------------------------------------------------ */

enum sim_mm_type {
	SIM_MM_TYPE_DATA,	/* memory a host or guest may map */
	SIM_MM_TYPE_PGTABLE,	/* a stage-2 table page */
	SIM_MM_TYPE_HYP,	/* the hypervisor's own */
	SIM_MM_TYPE_BAD,	/* no value mm/ documents: raw_type says which */
};

/* How the host sees a page (pKVM's page states). */
enum sim_mm_state {
	SIM_MM_OWNED,
	SIM_MM_SHARED_OWNED,
	SIM_MM_SHARED_BORROWED,
	SIM_MM_NOPAGE,
	SIM_MM_STATE_BAD,
};

enum sim_mm_owner {
	SIM_MM_OWNER_HOST,
	SIM_MM_OWNER_HYP,
	SIM_MM_OWNER_GUEST,	/* the guest of VMID vmid */
	SIM_MM_OWNER_BAD,
};

#define SIM_MM_NO_ORDER	0xffu

struct sim_mm_page {
	bool valid;			/* false: the PFN has no vmemmap entry */
	uint32_t refcount;
	unsigned int order;		/* SIM_MM_NO_ORDER: not a block head */
	enum sim_mm_type type;
	enum sim_mm_state state;
	enum sim_mm_owner owner;
	uint16_t vmid;			/* SIM_MM_OWNER_GUEST's */
	/* mm/'s own values, for reports of values it does not document. */
	uint32_t raw_type, raw_state, raw_owner;
	uint32_t share_count;
	uint32_t map_count;
};

/* The entry of @pfn in the oracles' terms; .valid false outside the map. */
struct sim_mm_page sim_mm_page(const struct sim_vmemmap *v, uint64_t pfn);
/* The same, into @out (the full sweep's loop over every RAM page). */
void sim_mm_page_read(const struct sim_vmemmap *v, uint64_t pfn, struct sim_mm_page *out);
/*
 * The fields of every entry the checkers read most, in place: an entry as
 * mm/ lays out its refcount, order byte and type byte (the layout unit
 * checks the shape at build time), and what each value of those bytes
 * stands for: an order, SIM_MM_NO_ORDER for a tail; an enum sim_mm_type.
 * The layout unit fills both tables by asking mm/'s own accessors and
 * encodings about every value once (sim_mm_block_map). The buddy checker,
 * which reads dozens of entries an op, and the TLB's check of the tables
 * its entries were walked through read an entry with a bounds test and a
 * few loads (sim_mm_block_read, sim_mm_type_read) instead of a call into
 * the layout unit.
 */
#define SIM_MM_PAGE_BYTES	16	/* sizeof(struct hvmm_page) */

struct sim_mm_block_entry {
	uint16_t refcount;
	uint8_t order_byte;		/* mm/'s encoding: decoded through order_of[] */
	uint8_t type_byte;		/* mm/'s encoding: decoded through type_of[] */
	uint8_t other[SIM_MM_PAGE_BYTES - 4];
};

struct sim_mm_block_map {
	const struct sim_mm_block_entry *entries;	/* the entry of start_pfn */
	uint64_t start_pfn, nr;				/* nr 0: no map */
	const uint8_t *order_of;			/* [256] */
	const uint8_t *type_of;				/* [256]: enum sim_mm_type */
};

void sim_mm_block_map(const struct sim_vmemmap *v, struct sim_mm_block_map *out);

/* The order (SIM_MM_NO_ORDER for none) and refcount of @pfn's entry; false outside the map. */
static inline bool sim_mm_block_read(const struct sim_mm_block_map *m, uint64_t pfn,
				     unsigned int *order, uint32_t *refcount)
{
	const struct sim_mm_block_entry *e;

	if (pfn - m->start_pfn >= m->nr)
		return false;
	e = &m->entries[pfn - m->start_pfn];
	*order = m->order_of[e->order_byte];
	*refcount = e->refcount;
	return true;
}

/* The type and refcount of @pfn's entry; false outside the map. */
static inline bool sim_mm_type_read(const struct sim_mm_block_map *m, uint64_t pfn,
				    enum sim_mm_type *type, uint32_t *refcount)
{
	const struct sim_mm_block_entry *e;

	if (pfn - m->start_pfn >= m->nr)
		return false;
	e = &m->entries[pfn - m->start_pfn];
	*type = (enum sim_mm_type)m->type_of[e->type_byte];
	*refcount = e->refcount;
	return true;
}

/*
 * True if every entry of [pfn, pfn + nr) is as mm/ boots it: a host-owned
 * data page, in no block, unreferenced and unmapped. A fast path: the
 * sweeps skip such runs instead of reading them entry by entry.
 */
bool sim_mm_pages_boot(const struct sim_vmemmap *v, uint64_t pfn, uint64_t nr);
/* The span of the map: [*start, *end). */
void sim_mm_vmemmap_span(const struct sim_vmemmap *v, uint64_t *start, uint64_t *end);

/* "host", "hypervisor", "guest VMID 3": for reports. */
const char *sim_mm_owner_name(const struct sim_mm_page *p, char *buf, size_t len);
const char *sim_mm_state_name(enum sim_mm_state s);
const char *sim_mm_type_name(enum sim_mm_type t);

/* --- the VM table ----------------------------------------------------------------- */

/* The references hvmm_vm_get() counts on @vm (its refcount field, as mm/ holds it). */
uint32_t sim_mm_vm_refcount(const struct hvmm_vm *vm);

/* --- lists --------------------------------------------------------------------- */

/* A doubly linked list node as mm/ lays it out (struct hvmm_list). */
struct sim_mm_list {
	const struct sim_mm_list *next, *prev;
};

/* --- the buddy pool ----------------------------------------------------------------- */

/* Free lists of a pool: orders 0..SIM_MM_BUDDY_MAX_ORDER (HVMM_BUDDY_MAX_ORDER). */
#define SIM_MM_BUDDY_MAX_ORDER	10

/* The list heads of @pool's free lists, order 0 first. */
const struct sim_mm_list *sim_mm_pool_free_lists(const struct hvmm_pool *pool);
/*
 * The PFNs [*start, *end) mm/ says are the pool's untouched maximal blocks
 * (free, never listed). Copied as mm/ holds them, however wrong: *start
 * may exceed *end.
 */
void sim_mm_pool_untouched(const struct hvmm_pool *pool, uint64_t *start, uint64_t *end);
/*
 * Where mm/'s buddy keeps a free block's list node, as a byte offset from
 * the block's start: its last 16 bytes for an even order, its first 16
 * for an odd one, so that the nodes of a split chain's blocks (pages 1,
 * 2, 4, ... apart) do not all fall in one cache set. Inline: the checker
 * asks for it for every block it judges.
 */
#define SIM_MM_BUDDY_PAGE_SIZE	4096ULL		/* HVMM_PAGE_SIZE */

static inline uint64_t sim_mm_buddy_node_offset(unsigned int order)
{
	return order & 1 ? 0 : (SIM_MM_BUDDY_PAGE_SIZE << order) - sizeof(struct sim_mm_list);
}

/* --- the bitmap allocator ------------------------------------------------------------ */

#define SIM_MM_BITMAP_MAX_LEVELS	6	/* HVMM_BITMAP_MAX_LEVELS */
#define SIM_MM_BITMAP_FANOUT_SHIFT	6	/* HVMM_BITMAP_FANOUT_SHIFT: 64 children */

/* A node of the summary tree, in place (struct hvmm_bitmap_node). */
struct sim_mm_bitmap_node {
	uint64_t avail;		/* bit c: child c holds a free frame */
	uint64_t stale;		/* bit c: child c's run summary is out of date (level 1: word c changed) */
	uint32_t prefix, suffix, longest;
	uint32_t unused;
};

/* struct hvmm_bitmap's fields, copied. */
struct sim_mm_bitmap {
	uint64_t base_pfn, nr_frames, nr_free;
	uint64_t first_free_word;		/* every word below holds no free frame */
	const uint64_t *free, *present;		/* one bit per frame */
	const uint8_t *word_longest;		/* per word: cached longest free run */
	const struct sim_mm_bitmap_node *nodes[SIM_MM_BITMAP_MAX_LEVELS + 1];
	uint64_t nr_nodes[SIM_MM_BITMAP_MAX_LEVELS + 1];	/* [0]: words */
	uint32_t top;
	bool root_stale;
};

void sim_mm_bitmap_read(const struct hvmm_bitmap *bm, struct sim_mm_bitmap *out);

/* --- the byte heap ----------------------------------------------------------------------- */

#define SIM_MM_HEAP_MIN_SIZE	16ULL	/* HVMM_HEAP_MIN_SIZE: bytes per metadata byte */
#define SIM_MM_HEAP_MAX_ORDER	20	/* HVMM_HEAP_MAX_ORDER: free lists 0..20 */
#define SIM_MM_HEAP_MAX_CHUNKS	64	/* HVMM_HEAP_MAX_CHUNKS */

struct sim_mm_heap_chunk {
	uint8_t *va;		/* the chunk's memory */
	const uint8_t *meta;	/* one byte per minimum block (mm/'s encoding) */
};

struct sim_mm_heap {
	const struct sim_mm_list *free_area;	/* SIM_MM_HEAP_MAX_ORDER + 1 heads, in place */
	uint32_t nr_chunks;			/* as mm/ says: may be corrupt */
	struct sim_mm_heap_chunk chunks[SIM_MM_HEAP_MAX_CHUNKS];
};

void sim_mm_heap_read(const struct hvmm_heap *heap, struct sim_mm_heap *out);

/*
 * A heap metadata byte in the oracles' encoding: SIM_MM_HEAP_NONE (not the
 * start of a block), SIM_MM_HEAP_FREE or SIM_MM_HEAP_ALLOC with the
 * block's order in the low bits, or SIM_MM_HEAP_BAD with mm/'s byte.
 */
#define SIM_MM_HEAP_NONE	0x000u
#define SIM_MM_HEAP_FREE	0x100u
#define SIM_MM_HEAP_ALLOC	0x200u
#define SIM_MM_HEAP_BAD		0x400u
#define SIM_MM_HEAP_ORDER	0x0ffu
unsigned int sim_mm_heap_meta(uint8_t byte);

/* --- locks inside structures the oracles lay out themselves ------------------------------ */

/* mm/'s spinlock, as a field of the kernel's pool (oracle/linux_pkvm_check.h). */
typedef struct {
	uint32_t next, owner;
} sim_mm_spinlock_t;

#endif /* SIM_ORACLE_MM_LAYOUT_H */
