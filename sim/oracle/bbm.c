// SPDX-License-Identifier: MIT
/*
 * BBM: break-before-make and TLB maintenance, per descriptor and per table
 * page (see bbm.h for the rules and where they come from).
 */
#include "bbm.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "physmem.h"
#include "recycle.h"

/* VMSAv8-64 stage-2 descriptors, 4 KiB granule (Arm ARM D8.3). */
#define DESC_VALID	(1ULL << 0)
#define DESC_TABLE	(1ULL << 1)	/* levels 0-2: table; level 3: page */
#define DESC_OA_MASK	0x0000fffffffff000ULL
#define DESC_MEMATTR	(0xfULL << 2)
#define DESC_S2AP_R	(1ULL << 6)
#define DESC_S2AP_W	(1ULL << 7)
#define DESC_SH		(3ULL << 8)
#define DESC_AF		(1ULL << 10)
#define DESC_XN		(3ULL << 53)
#define PAGE_SHIFT	12
#define ENTRIES		512
#define LAST_LEVEL	3

enum table_state {
	TABLE_LIVE,		/* a root, or linked from a live table */
	TABLE_UNLINKED,		/* unlinked; a walk cache may still hold it */
};

struct table {
	uint64_t pfn, base;	/* page, first IPA it translates */
	uint16_t vmid;
	uint8_t level;
	uint8_t state;
	bool root;
	bool reported;		/* a write after unlinking was reported */
	uint64_t desc[ENTRIES];	/* descriptors as last written */
};

struct range {
	uint64_t lo, hi;	/* pfns, [lo, hi) */
};

/* An invalidation owed for a broken or downgraded descriptor. */
struct obligation {
	uint16_t vmid;
	uint8_t level;
	bool table;		/* a table descriptor was removed */
	bool visible;		/* a DSB made the write visible to walkers */
	bool early_tlbi;	/* a covering TLBI came before that DSB */
	uint64_t ipa, size;
	uint64_t old;
	uint64_t event;		/* the write that opened it */
	uint64_t tpfn;		/* the entry: table page and index */
	unsigned int idx;
	struct range *prot;	/* pages a stale translation may reach */
	unsigned int nr_prot, cap_prot;
	uint64_t *tables;	/* unlinked table pages under it */
	unsigned int nr_tables, cap_tables;
};

struct sim_bbm {
	struct sim_memview mem;
	struct sim_report *report;
	uint64_t start_pfn, nr_pfns;
	uint32_t *slot_of;	/* per pfn: 1 + index in tables[], 0 if not a table */
	size_t slot_bytes;
	struct table **tables;
	unsigned int nr_tables, cap_tables;
	unsigned int *free_slots;
	unsigned int nr_free;
	struct obligation *obs;
	unsigned int nr_obs, cap_obs;
	uint64_t count_lo, count_hi, counted;	/* tables in [count_lo, count_hi) */
	/* Per page of that range: the words written since it was last allocated. */
	uint64_t (*written)[ENTRIES / 64];
	size_t written_bytes;
	/*
	 * This op: ranges cleaned to PoC, ranges whose instruction-cache lines
	 * were invalidated to PoU, and entries valid earlier in it.
	 */
	struct range *cleaned;
	unsigned int nr_cleaned, cap_cleaned;
	struct range *icache_inval;
	unsigned int nr_icache_inval, cap_icache_inval;
	struct was_valid { uint64_t tpfn; unsigned int idx; uint64_t oa; } *was_valid;
	unsigned int nr_was_valid, cap_was_valid;
	/* Per VMID: a VM ran with it and no TLBI by VMID followed. */
	bool stale_vmid[1u << 16];
	uint8_t vmid_state[1u << 16];	/* enum vmid_state */
	/* Per VMID: its tables map memory no guest runs on (sim_bbm_vmid_no_guest()). */
	bool no_guest[1u << 16];
	/* The VMIDs of those three arrays given a non-zero byte: [vmid_lo, vmid_hi). */
	uint32_t vmid_lo, vmid_hi;
	/* The region last translated. */
	uintptr_t host_lo, host_hi;
	uint64_t host_base;
};

/* Whether anything can still walk a VMID's tables (sim_bbm_vmid_stopped()). */
enum vmid_state {
	VMID_RUNNING,		/* vCPUs may run: walks and TLB fills may happen */
	VMID_STOPPED,		/* no vCPU runs it; its TLB entries may remain */
	VMID_RETIRED,		/* stopped, then invalidated: nothing walks or caches it */
};

static bool retired(const struct sim_bbm *b, uint16_t vmid)
{
	return b->vmid_state[vmid] == VMID_RETIRED;
}

/* Before a non-zero byte goes to @vmid's entry of the per-VMID arrays: a reset clears only those. */
static void vmid_mark(struct sim_bbm *b, uint16_t vmid)
{
	if (b->vmid_lo >= b->vmid_hi) {
		b->vmid_lo = vmid;
		b->vmid_hi = vmid + 1u;
	} else if (vmid < b->vmid_lo) {
		b->vmid_lo = vmid;
	} else if (vmid >= b->vmid_hi) {
		b->vmid_hi = vmid + 1u;
	}
}

static uint32_t level_shift(unsigned int level)
{
	return PAGE_SHIFT + 9 * (LAST_LEVEL - level);
}

static uint64_t level_size(unsigned int level)
{
	return 1ULL << level_shift(level);
}

static bool desc_valid(uint64_t d)
{
	return d & DESC_VALID;
}

static bool desc_is_table(uint64_t d, unsigned int level)
{
	return desc_valid(d) && level < LAST_LEVEL && (d & DESC_TABLE);
}

static uint64_t desc_oa(uint64_t d)
{
	return d & DESC_OA_MASK;
}

/* Fewer rights, or access flag cleared: a TLB may still grant the old ones. */
static bool desc_downgrades(uint64_t old, uint64_t new)
{
	uint64_t rights = DESC_S2AP_R | DESC_S2AP_W | DESC_AF;

	return (old & rights & ~new) || (~old & new & DESC_XN);
}

/* A change that D8.16.1 allows only through an invalid entry. */
static bool desc_needs_bbm(uint64_t old, uint64_t new, unsigned int level)
{
	return desc_oa(old) != desc_oa(new) ||
	       desc_is_table(old, level) != desc_is_table(new, level) ||
	       ((old ^ new) & (DESC_MEMATTR | DESC_SH));
}

/* --- memory ----------------------------------------------------------------- */

static uint64_t host_to_pa(struct sim_bbm *b, const void *addr)
{
	uintptr_t h = (uintptr_t)addr;
	const struct sim_memview_range *r;

	if (h - b->host_lo < b->host_hi - b->host_lo)
		return b->host_base + (h - b->host_lo);
	for (unsigned int i = 0; i < b->mem.nr; i++) {
		r = &b->mem.r[i];
		if (h - (uintptr_t)r->host < r->size) {
			b->host_lo = (uintptr_t)r->host;
			b->host_hi = (uintptr_t)r->host + r->size;
			b->host_base = r->base;
			return r->base + (h - (uintptr_t)r->host);
		}
	}
	return UINT64_MAX;
}

static const uint64_t *page_words(struct sim_bbm *b, uint64_t pfn)
{
	return sim_memview_host(&b->mem, pfn << PAGE_SHIFT);
}

static bool pfn_tracked(const struct sim_bbm *b, uint64_t pfn)
{
	return pfn - b->start_pfn < b->nr_pfns;
}

static struct table *table_of(const struct sim_bbm *b, uint64_t pfn)
{
	uint32_t s;

	if (!pfn_tracked(b, pfn))
		return NULL;
	s = b->slot_of[pfn - b->start_pfn];
	return s ? b->tables[s - 1] : NULL;
}

/* --- reports ----------------------------------------------------------------- */

static void violation(struct sim_bbm *b, enum sim_oracle_id oracle, const struct sim_event *ev,
		      const char *fmt, uint64_t x, uint64_t y, uint64_t z)
{
	char what[200], at[128] = "";

	snprintf(what, sizeof(what), fmt, (unsigned long long)x, (unsigned long long)y,
		 (unsigned long long)z);
	if (ev)
		sim_event_describe(ev, at, sizeof(at));
	sim_report_violation(b->report, oracle, "%s%s%s", what, ev ? "; at " : "", at);
}

/* --- table pages ------------------------------------------------------------- */

static struct table *table_add(struct sim_bbm *b, uint64_t pfn, uint64_t base, uint16_t vmid,
			       unsigned int level, bool root)
{
	struct table *t;
	const uint64_t *words = page_words(b, pfn);
	unsigned int s;

	if (!pfn_tracked(b, pfn) || !words)
		return NULL;
	/* Every member written here (the descriptors copied once, not zeroed first). */
	t = sim_recycle_get_uninit(sizeof(*t));
	t->pfn = pfn;
	t->base = base;
	t->vmid = vmid;
	t->level = (uint8_t)level;
	t->state = TABLE_LIVE;
	t->root = root;
	t->reported = false;
	memcpy(t->desc, words, sizeof(t->desc));
	if (b->nr_free) {
		s = b->free_slots[--b->nr_free];
	} else {
		if (b->nr_tables == b->cap_tables) {
			b->cap_tables = b->cap_tables ? 2 * b->cap_tables : 64;
			b->tables = realloc(b->tables, b->cap_tables * sizeof(*b->tables));
			b->free_slots = realloc(b->free_slots, b->cap_tables * sizeof(*b->free_slots));
			if (!b->tables || !b->free_slots)
				abort();
		}
		s = b->nr_tables++;
	}
	b->tables[s] = t;
	b->slot_of[pfn - b->start_pfn] = s + 1;
	if (pfn >= b->count_lo && pfn < b->count_hi)
		b->counted++;
	return t;
}

static void table_remove(struct sim_bbm *b, struct table *t)
{
	uint32_t s = b->slot_of[t->pfn - b->start_pfn];

	b->slot_of[t->pfn - b->start_pfn] = 0;
	b->tables[s - 1] = NULL;
	b->free_slots[b->nr_free++] = s - 1;
	if (t->pfn >= b->count_lo && t->pfn < b->count_hi)
		b->counted--;
	sim_recycle_put(t, sizeof(*t));
}

static void link_table(struct sim_bbm *b, const struct sim_event *ev, uint64_t pfn,
		       uint64_t base, uint16_t vmid, unsigned int level);

static bool in_count_range(const struct sim_bbm *b, uint64_t pfn)
{
	return pfn >= b->count_lo && pfn < b->count_hi && b->written;
}

/*
 * A table is linked only when zeroed: every entry it holds was written
 * since its page was allocated (the rest must be zero), or a walker would
 * find whatever the page held before.
 */
static void check_zeroed(struct sim_bbm *b, const struct sim_event *ev, const struct table *t)
{
	const uint64_t *w;

	if (!in_count_range(b, t->pfn))
		return;
	w = b->written[t->pfn - b->count_lo];
	for (unsigned int i = 0; i < ENTRIES; i++) {
		if (!t->desc[i] || (w[i / 64] >> (i % 64)) & 1)
			continue;
		violation(b, SIM_ORACLE_BBM, ev,
			  "table page pfn 0x%llx linked while not zeroed: entry %llu holds 0x%llx, "
			  "not written since the page was allocated", t->pfn, i, t->desc[i]);
		return;
	}
}


/* Tracks the tables already linked below @t (a tree linked whole, or found at start). */
static void link_children(struct sim_bbm *b, const struct sim_event *ev, struct table *t)
{
	for (unsigned int i = 0; i < ENTRIES; i++)
		if (desc_is_table(t->desc[i], t->level))
			link_table(b, ev, desc_oa(t->desc[i]) >> PAGE_SHIFT,
				   t->base + i * level_size(t->level), t->vmid, t->level + 1u);
}

static void link_table(struct sim_bbm *b, const struct sim_event *ev, uint64_t pfn,
		       uint64_t base, uint16_t vmid, unsigned int level)
{
	struct table *t = table_of(b, pfn);

	if (t) {
		violation(b, SIM_ORACLE_BBM, ev, t->state == TABLE_LIVE ?
			  "table page pfn 0x%llx linked at IPA 0x%llx while already linked "
			  "(at IPA 0x%llx)" :
			  "table page pfn 0x%llx linked at IPA 0x%llx before the TLBI that must "
			  "follow its unlinking (from IPA 0x%llx)", pfn, base, t->base);
		return;
	}
	t = table_add(b, pfn, base, vmid, level, false);
	if (!t)
		return;
	if (ev)
		check_zeroed(b, ev, t);
	link_children(b, ev, t);
}

/* --- obligations ------------------------------------------------------------- */

static void ob_protect(struct obligation *o, uint64_t lo, uint64_t hi)
{
	if (o->nr_prot && o->prot[o->nr_prot - 1].hi == lo) {
		o->prot[o->nr_prot - 1].hi = hi;
		return;
	}
	if (o->nr_prot == o->cap_prot) {
		o->cap_prot = o->cap_prot ? 2 * o->cap_prot : 4;
		o->prot = realloc(o->prot, o->cap_prot * sizeof(*o->prot));
		if (!o->prot)
			abort();
	}
	o->prot[o->nr_prot++] = (struct range){ lo, hi };
}

static void ob_add_table(struct obligation *o, uint64_t pfn)
{
	if (o->nr_tables == o->cap_tables) {
		o->cap_tables = o->cap_tables ? 2 * o->cap_tables : 4;
		o->tables = realloc(o->tables, o->cap_tables * sizeof(*o->tables));
		if (!o->tables)
			abort();
	}
	o->tables[o->nr_tables++] = pfn;
}

/* The subtree under a removed table descriptor: unlinked, and what its leaves map. */
static void ob_take_subtree(struct sim_bbm *b, struct obligation *o, uint64_t pfn)
{
	struct table *t = table_of(b, pfn);

	if (!t || t->state != TABLE_LIVE || t->root)
		return;
	t->state = TABLE_UNLINKED;
	ob_add_table(o, pfn);
	for (unsigned int i = 0; i < ENTRIES; i++) {
		uint64_t d = t->desc[i];

		if (desc_is_table(d, t->level))
			ob_take_subtree(b, o, desc_oa(d) >> PAGE_SHIFT);
		else if (desc_valid(d))
			ob_protect(o, desc_oa(d) >> PAGE_SHIFT,
				   (desc_oa(d) + level_size(t->level)) >> PAGE_SHIFT);
	}
}

static struct obligation *ob_open(struct sim_bbm *b, const struct sim_event *ev, struct table *t,
				  unsigned int idx, uint64_t old)
{
	struct obligation *o;

	if (b->nr_obs == b->cap_obs) {
		b->cap_obs = b->cap_obs ? 2 * b->cap_obs : 16;
		b->obs = realloc(b->obs, b->cap_obs * sizeof(*b->obs));
		if (!b->obs)
			abort();
	}
	o = &b->obs[b->nr_obs++];
	*o = (struct obligation){
		.vmid = t->vmid, .level = t->level, .table = desc_is_table(old, t->level),
		.ipa = t->base + idx * level_size(t->level), .size = level_size(t->level),
		.old = old, .event = ev->index, .tpfn = t->pfn, .idx = idx,
	};
	return o;
}

static void ob_break(struct sim_bbm *b, const struct sim_event *ev, struct table *t,
		     unsigned int idx, uint64_t old)
{
	struct obligation *o = ob_open(b, ev, t, idx, old);

	if (o->table)
		ob_take_subtree(b, o, desc_oa(old) >> PAGE_SHIFT);
	else
		ob_protect(o, desc_oa(old) >> PAGE_SHIFT,
			   (desc_oa(old) + o->size) >> PAGE_SHIFT);
}

/* The invalidation completed: the unlinked tables under it are plain pages again. */
static void ob_discharge(struct sim_bbm *b, unsigned int i)
{
	struct obligation *o = &b->obs[i];

	for (unsigned int k = 0; k < o->nr_tables; k++) {
		struct table *t = table_of(b, o->tables[k]);

		if (t && t->state == TABLE_UNLINKED)
			table_remove(b, t);
	}
	free(o->prot);
	free(o->tables);
	b->obs[i] = b->obs[--b->nr_obs];
}

static struct obligation *ob_of_entry(struct sim_bbm *b, uint64_t tpfn, unsigned int idx)
{
	for (unsigned int i = 0; i < b->nr_obs; i++)
		if (b->obs[i].tpfn == tpfn && b->obs[i].idx == idx)
			return &b->obs[i];
	return NULL;
}

/* The open obligation whose stale translations may reach @pfn, if any. */
static struct obligation *ob_reaching(struct sim_bbm *b, uint64_t pfn, uint64_t nr)
{
	for (unsigned int i = 0; i < b->nr_obs; i++) {
		struct obligation *o = &b->obs[i];

		for (unsigned int k = 0; k < o->nr_prot; k++)
			if (o->prot[k].lo < pfn + nr && pfn < o->prot[k].hi)
				return o;
	}
	return NULL;
}

/* --- cache maintenance ----------------------------------------------------------- */

#define DESC_MEMATTR_DEVICE(d)	((((d) >> 2) & 0xc) == 0)	/* MemAttr[3:2] == 0b00 */

/* Room for one more element of a per-op array (none is ever dropped: an op may touch thousands). */
static void *grow(void *arr, unsigned int nr, unsigned int *cap, size_t size)
{
	if (nr < *cap)
		return arr;
	*cap = *cap ? 2 * *cap : 64;
	arr = realloc(arr, *cap * size);
	if (!arr)
		abort();
	return arr;
}

/* Adds the pages of [pa, pa + size) to one of the op's lists of maintained ranges. */
static void note_range(struct range **arr, unsigned int *nr, unsigned int *cap, uint64_t pa,
		       uint64_t size)
{
	uint64_t lo = pa >> PAGE_SHIFT, hi = (pa + size + (1ULL << PAGE_SHIFT) - 1) >> PAGE_SHIFT;
	struct range *last = *nr ? &(*arr)[*nr - 1] : NULL;

	/* Page after page, as a multi-page donation cleans them: one range. */
	if (last && lo <= last->hi && hi >= last->lo) {
		last->lo = last->lo < lo ? last->lo : lo;
		last->hi = last->hi > hi ? last->hi : hi;
		return;
	}
	*arr = grow(*arr, *nr, cap, sizeof(**arr));
	(*arr)[(*nr)++] = (struct range){ lo, hi };
}

/* Whether the ranges of @arr cover pages [lo, hi), merged greedily from @lo upwards. */
static bool covered(const struct range *arr, unsigned int nr, uint64_t lo, uint64_t hi)
{
	for (bool grew = true; grew && lo < hi;) {
		grew = false;
		for (unsigned int i = 0; i < nr; i++) {
			if (arr[i].lo <= lo && arr[i].hi > lo) {
				lo = arr[i].hi;
				grew = true;
			}
		}
	}
	return lo >= hi;
}

static void note_was_valid(struct sim_bbm *b, const struct table *t, unsigned int idx, uint64_t d)
{
	unsigned int n = b->nr_was_valid;

	b->was_valid = grow(b->was_valid, n, &b->cap_was_valid, sizeof(*b->was_valid));
	b->was_valid[n].tpfn = t->pfn;
	b->was_valid[n].idx = idx;
	b->was_valid[n].oa = desc_oa(d);
	b->nr_was_valid++;
}

static bool re_made(const struct sim_bbm *b, const struct table *t, unsigned int idx, uint64_t oa)
{
	for (unsigned int i = 0; i < b->nr_was_valid; i++)
		if (b->was_valid[i].tpfn == t->pfn && b->was_valid[i].idx == idx &&
		    b->was_valid[i].oa == oa)
			return true;
	return false;
}

/*
 * Memory comes into a guest (a cacheable leaf with a new output address)
 * only once it was cleaned to PoC in this op: without FEAT_S2FWB the guest
 * may read it uncached, past what the hypervisor wrote into the caches.
 * If the leaf lets the guest execute (stage-2 XN[54:53] other than 0b10,
 * execute-never at both ELs), the instruction cache must also have been
 * invalidated to PoU for it in this op: instruction caches need not be
 * coherent with data writes (Arm ARM D7.5.9, without FEAT_DIC), so the
 * guest could fetch lines a previous owner of the pages left there, not
 * what the hypervisor wrote (a scrub).
 */
static void check_guest_make(struct sim_bbm *b, const struct sim_event *ev, const struct table *t,
			     unsigned int idx, uint64_t old, uint64_t new)
{
	uint64_t oa = desc_oa(new), size = level_size(t->level);

	if (!t->vmid || b->no_guest[t->vmid] || desc_is_table(new, t->level) || DESC_MEMATTR_DEVICE(new) ||
	    desc_oa(old) == oa || re_made(b, t, idx, oa))
		return;
	if (!covered(b->cleaned, b->nr_cleaned, oa >> PAGE_SHIFT, (oa + size) >> PAGE_SHIFT))
		violation(b, SIM_ORACLE_BBM, ev,
			  "vmid %llu maps pa 0x%llx at IPA 0x%llx before it was cleaned to PoC "
			  "(DC CIVAC): without FEAT_S2FWB the guest may read stale memory",
			  t->vmid, oa, t->base + idx * size);
	if (((new & DESC_XN) >> 53) != 0x2 &&
	    !covered(b->icache_inval, b->nr_icache_inval, oa >> PAGE_SHIFT, (oa + size) >> PAGE_SHIFT))
		violation(b, SIM_ORACLE_BBM, ev,
			  "vmid %llu maps pa 0x%llx at IPA 0x%llx executable before its instruction "
			  "cache lines were invalidated (IC IVAU): the guest may execute stale "
			  "instructions", t->vmid, oa, t->base + idx * size);
}

/* --- descriptor writes -------------------------------------------------------- */

static void descriptor_written(struct sim_bbm *b, const struct sim_event *ev, struct table *t,
			       unsigned int idx, uint64_t new)
{
	uint64_t old = t->desc[idx], ipa = t->base + idx * level_size(t->level);
	struct obligation *o;

	if (old == new)
		return;
	t->desc[idx] = new;
	if (desc_valid(old))
		note_was_valid(b, t, idx, old);
	if (desc_valid(old) && desc_valid(new)) {
		if (desc_needs_bbm(old, new, t->level)) {
			violation(b, SIM_ORACLE_BBM, ev,
				  "valid descriptor 0x%llx at IPA 0x%llx replaced by valid 0x%llx "
				  "without break-before-make", old, ipa, new);
			ob_break(b, ev, t, idx, old);
			if (desc_is_table(new, t->level))
				link_table(b, ev, desc_oa(new) >> PAGE_SHIFT, ipa, t->vmid,
					   t->level + 1u);
		} else if (desc_downgrades(old, new)) {
			ob_open(b, ev, t, idx, old);
		}
		return;
	}
	if (desc_valid(old)) {
		ob_break(b, ev, t, idx, old);
		return;
	}
	if (!desc_valid(new))
		return;
	check_guest_make(b, ev, t, idx, old, new);
	o = ob_of_entry(b, t->pfn, idx);
	if (o && o->old != new)
		violation(b, SIM_ORACLE_BBM, ev,
			  "descriptor at IPA 0x%llx made valid (0x%llx) before the TLBI owed for "
			  "breaking 0x%llx completed", ipa, new, o->old);
	if (desc_is_table(new, t->level))
		link_table(b, ev, desc_oa(new) >> PAGE_SHIFT, ipa, t->vmid, t->level + 1u);
}

/* One 64-bit word of a table page changed: judge it. */
static void table_word_written(struct sim_bbm *b, const struct sim_event *ev, struct table *t,
			       unsigned int idx, uint64_t word)
{
	if (retired(b, t->vmid)) {
		t->desc[idx] = word;	/* nothing can walk it: any order is safe */
		return;
	}
	if (t->state == TABLE_UNLINKED) {
		if (!t->reported)
			violation(b, SIM_ORACLE_BBM, ev,
				  "table page pfn 0x%llx (IPA 0x%llx) written after it was unlinked, "
				  "before the TLBI covering it (value 0x%llx)", t->pfn, t->base, word);
		t->reported = true;
		t->desc[idx] = word;
		return;
	}
	descriptor_written(b, ev, t, idx, word);
}

/* Stores into [pa, pa + len) of one page, whose new values are at @host. */
static void page_written(struct sim_bbm *b, const struct sim_event *ev, uint64_t pa,
			 const uint64_t *host, uint64_t len)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	unsigned int first = (unsigned int)((pa >> 3) & (ENTRIES - 1));
	unsigned int nr = (unsigned int)(len >> 3);
	struct table *t;
	struct obligation *o;

	if (in_count_range(b, pfn)) {
		uint64_t *w = b->written[pfn - b->count_lo];

		for (unsigned int i = first; i < first + nr;) {
			unsigned int bit = i % 64, n = 64 - bit;

			if (n > first + nr - i)
				n = first + nr - i;
			w[i / 64] |= (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
			i += n;
		}
	}
	t = table_of(b, pfn);
	if (t) {
		for (unsigned int i = 0; i < nr; i++)
			table_word_written(b, ev, t, first + i, host[i]);
		return;
	}
	if (!b->nr_obs)
		return;
	o = ob_reaching(b, pfn, 1);
	if (o)
		violation(b, SIM_ORACLE_BBM, ev,
			  "page pfn 0x%llx written while a stale translation of IPA 0x%llx (vmid "
			  "%llu) may still map it: no TLBI yet", pfn, o->ipa, o->vmid);
}

static void memory_written(struct sim_bbm *b, const struct sim_event *ev)
{
	uint64_t pa = host_to_pa(b, ev->addr), len = ev->size;
	const uint64_t *host = ev->addr;

	if (pa == UINT64_MAX)
		return;
	if (ev->kind == SIM_EV_ATOMIC) {
		/* A narrower atomic changed part of a word: judge the whole word. */
		host = (const uint64_t *)((uintptr_t)ev->addr & ~(uintptr_t)7);
		pa &= ~7ULL;
		len = 8;
	}
	while (len) {
		uint64_t chunk = ((pa | ((1u << PAGE_SHIFT) - 1)) + 1) - pa;

		if (chunk > len)
			chunk = len;
		page_written(b, ev, pa, host, chunk);
		pa += chunk;
		host += chunk >> 3;
		len -= chunk;
	}
}

/* --- barriers and invalidations ------------------------------------------------ */

static bool tlbi_covers(const struct obligation *o, const struct sim_event *ev)
{
	if (o->vmid != ev->a)
		return false;
	switch (ev->kind) {
	case SIM_EV_TLBI_VMID:
		return true;
	case SIM_EV_TLBI_RANGE:
		return ev->b <= o->ipa && o->ipa + o->size - 1 <= ev->b + ev->c - 1 && ev->c;
	case SIM_EV_TLBI_IPA:
		if (ev->b - o->ipa >= o->size)
			return false;
		/*
		 * No level hint (TTL 0): every entry that translates the IPA, the
		 * walk-cache entry of a removed table descriptor included. That
		 * covers a removed table only if nothing under it was valid: other
		 * IPAs' leaves or tables beneath it are not invalidated.
		 */
		if (!ev->c)
			return !o->table || (o->nr_tables <= 1 && !o->nr_prot);
		/* A level hint limits it to leaves of that level. */
		return !o->table && o->level == ev->c;
	default:
		return false;
	}
}

static void tlbi(struct sim_bbm *b, const struct sim_event *ev)
{
	for (unsigned int i = 0; i < b->nr_obs;) {
		struct obligation *o = &b->obs[i];

		if (tlbi_covers(o, ev)) {
			if (o->visible) {
				ob_discharge(b, i);
				continue;
			}
			o->early_tlbi = true;
		}
		i++;
	}
}

/* --- frees, allocations and owner changes ---------------------------------------- */

static void table_freed(struct sim_bbm *b, const struct sim_event *ev, struct table *t)
{
	bool empty = true;

	for (unsigned int i = 0; i < ENTRIES && empty; i++)
		empty = !desc_valid(t->desc[i]);
	if (retired(b, t->vmid))
		;	/* torn down after its VMID was invalidated: nothing reaches it */
	else if (t->state == TABLE_UNLINKED)
		violation(b, SIM_ORACLE_BBM, ev,
			  "table page pfn 0x%llx (IPA 0x%llx, vmid %llu) freed before the TLBI "
			  "covering its unlinking completed", t->pfn, t->base, t->vmid);
	else if (!t->root)
		violation(b, SIM_ORACLE_BBM, ev,
			  "table page pfn 0x%llx (IPA 0x%llx, vmid %llu) freed while still linked",
			  t->pfn, t->base, t->vmid);
	else if (!empty)
		violation(b, SIM_ORACLE_BBM, ev,
			  "root table pfn 0x%llx of vmid %llu freed while it holds valid entries "
			  "(%llu)", t->pfn, t->vmid, 1);
	if (t->state == TABLE_LIVE)
		table_remove(b, t);
}

static void pages_released(struct sim_bbm *b, const struct sim_event *ev, uint64_t pfn,
			   uint64_t nr)
{
	struct obligation *o;

	for (uint64_t i = 0; i < nr; i++) {
		struct table *t = table_of(b, pfn + i);

		if (!t)
			continue;
		if (ev->kind == SIM_EV_PAGE_FREE)
			table_freed(b, ev, t);
		else if (retired(b, t->vmid) && ev->kind == SIM_EV_OWNERSHIP)
			;	/* a retired table page retyped on its way back to the pool */
		else
			violation(b, SIM_ORACLE_BBM, ev, ev->kind == SIM_EV_PAGE_ALLOC ?
				  "table page pfn 0x%llx (IPA 0x%llx, vmid %llu) allocated again" :
				  "table page pfn 0x%llx (IPA 0x%llx, vmid %llu) changes owner",
				  t->pfn, t->base, t->vmid);
	}
	o = b->nr_obs ? ob_reaching(b, pfn, nr) : NULL;
	if (o)
		violation(b, SIM_ORACLE_BBM, ev,
			  "page pfn 0x%llx freed, reused or given away while a stale translation of "
			  "IPA 0x%llx (vmid %llu) may still map it: no TLBI yet", pfn, o->ipa, o->vmid);
}

static void pages_allocated(struct sim_bbm *b, uint64_t pfn, uint64_t nr)
{
	for (uint64_t p = pfn; p < pfn + nr; p++)
		if (in_count_range(b, p))
			memset(b->written[p - b->count_lo], 0, sizeof(b->written[0]));
}

void sim_bbm_event(void *ctx, const struct sim_event *ev)
{
	struct sim_bbm *b = ctx;

	switch (ev->kind) {
	case SIM_EV_STORE:
	case SIM_EV_ATOMIC:
		if ((ev->flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_LOAD && ev->kind == SIM_EV_ATOMIC)
			return;
		memory_written(b, ev);
		break;
	case SIM_EV_DSB_ISHST:
	case SIM_EV_DSB_ISH:
		for (unsigned int i = 0; i < b->nr_obs; i++)
			b->obs[i].visible = true;
		break;
	case SIM_EV_TLBI_VMID:
		b->stale_vmid[ev->a & 0xffff] = false;
		if (b->vmid_state[ev->a & 0xffff] == VMID_STOPPED) {
			vmid_mark(b, ev->a & 0xffff);
			b->vmid_state[ev->a & 0xffff] = VMID_RETIRED;
		}
		/* fall through */
	case SIM_EV_TLBI_IPA:
	case SIM_EV_TLBI_RANGE:
		if (b->nr_obs)
			tlbi(b, ev);
		break;
	case SIM_EV_PAGE_ALLOC:
		pages_allocated(b, ev->a >> PAGE_SHIFT, 1ULL << (ev->b & 63));
		pages_released(b, ev, ev->a >> PAGE_SHIFT, 1ULL << (ev->b & 63));
		break;
	case SIM_EV_PAGE_FREE:
		pages_released(b, ev, ev->a >> PAGE_SHIFT, 1ULL << (ev->b & 63));
		break;
	case SIM_EV_OWNERSHIP:
		pages_released(b, ev, ev->a >> PAGE_SHIFT, ev->b);
		break;
	case SIM_EV_DCACHE_CLEAN:
		note_range(&b->cleaned, &b->nr_cleaned, &b->cap_cleaned, ev->a, ev->b);
		break;
	case SIM_EV_ICACHE_INVAL:
		note_range(&b->icache_inval, &b->nr_icache_inval, &b->cap_icache_inval, ev->a, ev->b);
		break;
	default:
		break;
	}
}

void sim_bbm_op_end(struct sim_bbm *b)
{
	b->nr_cleaned = 0;
	b->nr_icache_inval = 0;
	b->nr_was_valid = 0;
	while (b->nr_obs) {
		struct obligation *o = &b->obs[b->nr_obs - 1];
		char what[320];

		snprintf(what, sizeof(what),
			 "vmid %u IPA 0x%llx level %u: descriptor 0x%llx %s at event %llu and no "
			 "TLBI covering it completed before the op returned%s",
			 o->vmid, (unsigned long long)o->ipa, o->level, (unsigned long long)o->old,
			 o->table ? "(a table) was removed" : "was broken or downgraded",
			 (unsigned long long)o->event,
			 o->early_tlbi ? " (a TLBI came before the DSB that makes the write "
					 "visible to walkers)" : "");
		sim_report_violation(b->report, SIM_ORACLE_TLB, "%s", what);
		ob_discharge(b, b->nr_obs - 1);
	}
}

/* --- set-up ------------------------------------------------------------------- */

/*
 * One checker is kept for the next machine of the same memory (a fuzz
 * target's reset machine sets up a new one per input): creating one
 * zeroed 196 KiB of per-VMID state and mapped the table index afresh,
 * which the first tables then faulted in, and destroying it unmapped the
 * index again (a TLB shootdown). A kept one is brought back to the state
 * of a new one by undoing what the run did: its tables (which clear
 * their index entries), obligations, and the per-VMID entries it set.
 */
static _Thread_local struct sim_bbm *spare;

/* Where scrubs are checked (regression runs): the renewed arrays read as a new checker's. */
static void check_renewed(const struct sim_bbm *b)
{
	const uint8_t *p[] = { (const uint8_t *)b->slot_of, (const uint8_t *)b->stale_vmid,
			       b->vmid_state, (const uint8_t *)b->no_guest };
	const size_t n[] = { b->slot_bytes, sizeof(b->stale_vmid), sizeof(b->vmid_state),
			     sizeof(b->no_guest) };

	for (unsigned int a = 0; a < 4; a++)
		for (size_t i = 0; i < n[a]; i++)
			if (p[a][i]) {
				fprintf(stderr, "sim_bbm: a kept checker's array %u has byte %zu "
					"non-zero after its renewal\n", a, i);
				abort();
			}
}

/* @b as sim_bbm_create() makes it on @mem, its buffers kept; true if it could be. */
static bool bbm_renew(struct sim_bbm *b, const struct sim_memview *mem, struct sim_report *report)
{
	uint32_t *slot_of = b->slot_of;
	size_t slot_bytes = b->slot_bytes;
	struct table **tables = b->tables;
	unsigned int *free_slots = b->free_slots, cap_tables = b->cap_tables;
	struct obligation *obs = b->obs;
	unsigned int cap_obs = b->cap_obs;
	struct range *cleaned = b->cleaned, *icache_inval = b->icache_inval;
	unsigned int cap_cleaned = b->cap_cleaned, cap_icache_inval = b->cap_icache_inval;
	struct was_valid *was_valid = b->was_valid;
	unsigned int cap_was_valid = b->cap_was_valid;

	if (b->start_pfn != mem->start_pfn || b->nr_pfns != mem->end_pfn - mem->start_pfn)
		return false;
	while (b->nr_obs)
		ob_discharge(b, b->nr_obs - 1);
	for (unsigned int i = 0; i < b->nr_tables; i++)
		if (b->tables[i])
			table_remove(b, b->tables[i]);
	sim_recycle_put(b->written, b->written_bytes);
	if (b->vmid_lo < b->vmid_hi) {
		memset(&b->stale_vmid[b->vmid_lo], 0, b->vmid_hi - b->vmid_lo);
		memset(&b->vmid_state[b->vmid_lo], 0, b->vmid_hi - b->vmid_lo);
		memset(&b->no_guest[b->vmid_lo], 0, b->vmid_hi - b->vmid_lo);
	}
	if (sim_physmem_check_scrubs)
		check_renewed(b);
	/* Every other member as calloc leaves it; the buffers (no entry in use) stay. */
	memset(b, 0, offsetof(struct sim_bbm, stale_vmid));
	memset(&b->vmid_lo, 0, sizeof(*b) - offsetof(struct sim_bbm, vmid_lo));
	b->slot_of = slot_of;
	b->slot_bytes = slot_bytes;
	b->tables = tables;
	b->free_slots = free_slots;
	b->cap_tables = cap_tables;
	b->obs = obs;
	b->cap_obs = cap_obs;
	b->cleaned = cleaned;
	b->cap_cleaned = cap_cleaned;
	b->icache_inval = icache_inval;
	b->cap_icache_inval = cap_icache_inval;
	b->was_valid = was_valid;
	b->cap_was_valid = cap_was_valid;
	b->mem = *mem;
	b->report = report;
	b->start_pfn = mem->start_pfn;
	b->nr_pfns = mem->end_pfn - mem->start_pfn;
	return true;
}

static void bbm_free(struct sim_bbm *b)
{
	while (b->nr_obs)
		ob_discharge(b, b->nr_obs - 1);
	for (unsigned int i = 0; i < b->nr_tables; i++)
		sim_recycle_put(b->tables[i], sizeof(*b->tables[i]));
	free(b->tables);
	free(b->free_slots);
	free(b->obs);
	free(b->cleaned);
	free(b->icache_inval);
	free(b->was_valid);
	sim_recycle_put(b->written, b->written_bytes);
	sim_unmap_sparse(b->slot_of, b->slot_bytes);
	free(b);
}

struct sim_bbm *sim_bbm_create(const struct sim_memview *mem, struct sim_report *report)
{
	struct sim_bbm *b = spare;

	spare = NULL;
	if (b) {
		if (bbm_renew(b, mem, report))
			return b;
		bbm_free(b);
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->mem = *mem;
	b->report = report;
	b->start_pfn = mem->start_pfn;
	b->nr_pfns = mem->end_pfn - mem->start_pfn;
	b->slot_bytes = b->nr_pfns * sizeof(*b->slot_of);
	b->slot_of = sim_map_sparse(b->slot_bytes);
	if (!b->slot_of) {
		free(b);
		return NULL;
	}
	return b;
}

void sim_bbm_destroy(struct sim_bbm *b)
{
	if (!b)
		return;
	if (spare)
		bbm_free(spare);
	spare = b;
}

void sim_bbm_count_range(struct sim_bbm *b, uint64_t pfn, uint64_t nr)
{
	b->count_lo = pfn;
	b->count_hi = pfn + nr;
	b->counted = 0;
	/* Recycled, not freed: a fuzzer sets a machine up again for every input. */
	sim_recycle_put(b->written, b->written_bytes);
	b->written_bytes = (nr ? nr : 1) * sizeof(*b->written);
	b->written = sim_recycle_get(b->written_bytes);
	for (unsigned int i = 0; i < b->nr_tables; i++)
		if (b->tables[i] && b->tables[i]->pfn >= pfn && b->tables[i]->pfn < pfn + nr)
			b->counted++;
}

void sim_bbm_add_roots(struct sim_bbm *b, uint64_t pa, unsigned int nr, unsigned int start_level,
		       uint16_t vmid)
{
	/*
	 * A new VM may run under a VMID only once no TLB holds an entry of the
	 * last VM that had it (TLBI VMALLS12E1IS after its teardown).
	 */
	if (vmid && b->stale_vmid[vmid])
		sim_report_violation(b->report, SIM_ORACLE_BBM,
				     "VMID %u reused before a TLBI by VMID since the last VM that had it",
				     vmid);
	vmid_mark(b, vmid);
	b->stale_vmid[vmid] = vmid != 0;
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t pfn = (pa >> PAGE_SHIFT) + i;
		struct table *t;

		if (table_of(b, pfn))
			continue;
		t = table_add(b, pfn, (uint64_t)i * ENTRIES * level_size(start_level), vmid,
			      start_level, true);
		if (t)
			link_children(b, NULL, t);
	}
}

void sim_bbm_vmid_stopped(struct sim_bbm *b, uint16_t vmid)
{
	if (b->vmid_state[vmid] == VMID_RUNNING) {
		vmid_mark(b, vmid);
		b->vmid_state[vmid] = VMID_STOPPED;
	}
}

void sim_bbm_vmid_running(struct sim_bbm *b, uint16_t vmid)
{
	b->vmid_state[vmid] = VMID_RUNNING;
}

void sim_bbm_vmid_no_guest(struct sim_bbm *b, uint16_t vmid)
{
	vmid_mark(b, vmid);
	b->no_guest[vmid] = true;
}

void sim_bbm_drop_vmid(struct sim_bbm *b, uint16_t vmid)
{
	b->vmid_state[vmid] = VMID_RUNNING;	/* the VMID may be given to a new VM */
	b->no_guest[vmid] = false;
	for (unsigned int i = 0; i < b->nr_obs;) {
		if (b->obs[i].vmid == vmid)
			ob_discharge(b, i);
		else
			i++;
	}
	for (unsigned int i = 0; i < b->nr_tables; i++)
		if (b->tables[i] && b->tables[i]->vmid == vmid)
			table_remove(b, b->tables[i]);
}

uint64_t sim_bbm_tables_counted(const struct sim_bbm *b)
{
	return b->counted;
}

bool sim_bbm_is_table(const struct sim_bbm *b, uint64_t pfn)
{
	return table_of(b, pfn) != NULL;
}
