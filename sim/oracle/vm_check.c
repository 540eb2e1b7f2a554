// SPDX-License-Identifier: MIT
/*
 * Stage-2 oracles: OWNERSHIP, TYPE, REFCOUNT, TLB, PT-WALK and IDEAL.
 * They read the tables through the independent walker and the TLB
 * contents, and mm/'s page metadata through oracle/mm_layout.h, and judge
 * them against the reference model and the ideal machine, which the
 * executor keeps from the ops' meaning (oracle/vm_view.h). No mm/
 * function, header or encoding is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "oracle/vm_view.h"

#define T_DATA		SIM_MM_TYPE_DATA
#define T_PGTABLE	SIM_MM_TYPE_PGTABLE
#define T_HYP		SIM_MM_TYPE_HYP
#define PAGE		4096ULL
#define TOUCH_CAP	4096	/* pages checked per touched range; the sweep sees all */

static const char *state_name(enum sim_mm_state s)
{
	return sim_mm_state_name(s);
}

/* The owner the model names, as a report prints it. */
static const char *own_name(const struct sim_vm_owner *o, char *buf, size_t len)
{
	struct sim_mm_page p = { .owner = o->owner, .vmid = o->vmid };

	return sim_mm_owner_name(&p, buf, len);
}

/* A page's type, as a report prints it (mm/'s value if it documents none). */
static const char *type_name(const struct sim_mm_page *p, char *buf, size_t len)
{
	if (p->type != SIM_MM_TYPE_BAD)
		return sim_mm_type_name(p->type);
	snprintf(buf, len, "undocumented type %u", p->raw_type);
	return buf;
}

/* --- per page: OWNERSHIP, TYPE, map counter --------------------------------- */

static struct sim_vm_owner own_of(const struct sim_vm_view *vs, const struct sim_spec_page *m)
{
	struct sim_vm_owner o = { .share_count = m->shares, .maps = m->maps,
			 .hyp_boot = m->state == SPEC_HYP_BOOT };

	switch (m->state) {
	case SPEC_HOST:
		o.owner = SIM_MM_OWNER_HOST;
		o.state = SIM_MM_OWNED;
		break;
	case SPEC_HOST_SHARED:
		o.owner = SIM_MM_OWNER_HOST;
		o.state = SIM_MM_SHARED_OWNED;
		break;
	case SPEC_HYP:
	case SPEC_HYP_BOOT:
		o.owner = SIM_MM_OWNER_HYP;
		o.state = SIM_MM_NOPAGE;
		break;
	default:
		o.owner = SIM_MM_OWNER_GUEST;
		o.vmid = vs->g[m->vm].vmid;
		o.state = m->state == SPEC_GUEST_LENT ? SIM_MM_SHARED_BORROWED : SIM_MM_NOPAGE;
		break;
	}
	return o;
}

/* True if mm/'s entry @p names the owner the model names. */
static bool same_owner(const struct sim_mm_page *p, const struct sim_vm_owner *o)
{
	return p->owner == o->owner && (o->owner != SIM_MM_OWNER_GUEST || p->vmid == o->vmid);
}

struct sim_vm_owner sim_vm_model_owner(const struct sim_vm_view *vs, uint64_t pfn)
{
	const struct sim_spec_page *m = sim_spec_page(vs->spec, pfn);

	return m ? own_of(vs, m) : (struct sim_vm_owner){ 0 };
}

/* check_page() of a RAM page, given the model's @m and the vmemmap entry @p. */
/*
 * The reports of check_ram_page(), out of line: their name buffers would
 * otherwise be set up (under ASan, poisoned and unpoisoned) on every page
 * of every full sweep.
 */
static __attribute__((noinline, cold)) void report_owner(struct sim_vm_view *vs, uint64_t pfn,
							   const struct sim_mm_page *p,
							   const struct sim_vm_owner *o)
{
	char b1[48], b2[48];

	sim_report_violation(vs->report, SIM_ORACLE_OWNERSHIP,
		"pfn 0x%llx: owner %s, host %s, shared %u times; expected owner %s, host %s, "
		"shared %u times", (unsigned long long)pfn, sim_mm_owner_name(p, b1, sizeof(b1)),
		state_name(p->state), p->share_count, own_name(o, b2, sizeof(b2)),
		state_name(o->state), o->share_count);
}

static __attribute__((noinline, cold)) void report_type(struct sim_vm_view *vs, uint64_t pfn,
							  const struct sim_mm_page *p,
							  const struct sim_vm_owner *o,
							  enum sim_mm_type want_type)
{
	char b1[48], b3[48];

	sim_report_violation(vs->report, SIM_ORACLE_TYPE,
		"pfn 0x%llx (owner %s): type %s, expected %s", (unsigned long long)pfn,
		own_name(o, b1, sizeof(b1)), type_name(p, b3, sizeof(b3)),
		sim_mm_type_name(want_type));
}

static __attribute__((noinline, cold)) void report_mapped(struct sim_vm_view *vs, uint64_t pfn,
							    const struct sim_mm_page *p, uint32_t maps)
{
	char b3[48];

	sim_report_violation(vs->report, SIM_ORACLE_TYPE,
		"pfn 0x%llx of type %s is mapped %u times: only data pages may be mapped",
		(unsigned long long)pfn, type_name(p, b3, sizeof(b3)), maps);
}

static void check_ram_page(struct sim_vm_view *vs, uint64_t pfn, const struct sim_spec_page *m,
			   const struct sim_mm_page *p, bool counts)
{
	struct sim_vm_owner own = own_of(vs, m), *o = &own;
	enum sim_mm_type want_type;
	uint32_t maps;

	if (!same_owner(p, o) || p->state != o->state || p->share_count != o->share_count)
		report_owner(vs, pfn, p, o);
	want_type = o->owner == SIM_MM_OWNER_HYP ? T_HYP : T_DATA;
	/* Hypervisor pool pages become table pages and back. */
	if (o->hyp_boot && p->type == T_PGTABLE)
		want_type = T_PGTABLE;
	if (p->type != want_type)
		report_type(vs, pfn, p, o, want_type);
	maps = p->map_count;
	if (counts && maps != o->maps)
		sim_report_violation(vs->report, SIM_ORACLE_REFCOUNT,
			"pfn 0x%llx: map_count %u, but %u guest leaves map it",
			(unsigned long long)pfn, maps, o->maps);
	if (maps && p->type != T_DATA)
		report_mapped(vs, pfn, p, maps);
}

static void check_page(struct sim_vm_view *vs, uint64_t pfn, bool counts)
{
	const struct sim_spec_page *m = sim_spec_page(vs->spec, pfn);
	struct sim_mm_page p;

	if (!m || !sim_physmem_is_ram(vs->pm, pfn * PAGE))
		return;
	p = sim_mm_page(vs->vmemmap, pfn);
	if (p.valid)
		check_ram_page(vs, pfn, m, &p, counts);
}

/* --- per IPA page: PT-WALK -------------------------------------------------- */

/* What the ideal machine says vm @v may do at @ipa: prot, or -1 if nothing. */
static int ideal_prot(struct sim_vm_view *vs, unsigned int v, uint64_t ipa, uint64_t *pfn)
{
	const struct sim_ipage *e = sim_space_find(&vs->ideal->spaces[v], ipa / PAGE);

	if (v == 0) {
		const struct sim_spec_page *o = sim_spec_page(vs->spec, ipa / PAGE);

		*pfn = ipa / PAGE;
		if (e)
			return e->cell ? e->prot : -1;
		if (!o || !sim_physmem_is_ram(vs->pm, ipa))
			return -2;	/* not RAM: not modelled */
		if (sim_ideal_host_boot_hidden(vs->ideal, *pfn))
			return -1;
		return SIM_PROT_R | SIM_PROT_W | SIM_PROT_X;
	}
	if (!e || e->parked)
		return -1;
	*pfn = e->pfn;
	return e->prot;
}

static uint8_t prot_of_t(const struct sim_translation *t)
{
	return (uint8_t)((t->read ? SIM_PROT_R : 0) | (t->write ? SIM_PROT_W : 0) |
			 (t->exec ? SIM_PROT_X : 0));
}

static void check_walk(struct sim_vm_view *vs, unsigned int v, uint64_t ipa)
{
	struct sim_s2_regs regs = vs->g[v].regs;
	struct sim_walk w;
	uint64_t pfn = 0;
	int prot = ideal_prot(vs, v, ipa, &pfn);

	if (prot == -2)
		return;
	sim_s2_walk(vs->pm, &regs, ipa, &w);
	if (w.fault && w.fault != SIM_FAULT_TRANSLATION) {
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u ipa 0x%llx: the walk ends in a %s at level %d", v,
			(unsigned long long)ipa, sim_fault_name(w.fault), w.level);
		return;
	}
	if (v == 0) {
		/* The host's map is lazy: absent is fine, present must be allowed. */
		if (!w.fault && (prot < 0 || w.t.pa_base + (ipa - w.t.ipa_base) != ipa))
			sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
				"host pa 0x%llx: mapped to 0x%llx, but the host %s",
				(unsigned long long)ipa,
				(unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)),
				prot < 0 ? "may not access it" : "maps by identity");
		return;
	}
	if (prot < 0 && !w.fault)
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u ipa 0x%llx: mapped to pa 0x%llx, but the guest has no page there",
			v, (unsigned long long)ipa,
			(unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)));
	else if (prot >= 0 && w.fault)
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u ipa 0x%llx: not mapped, but the guest has pfn 0x%llx there",
			v, (unsigned long long)ipa, (unsigned long long)pfn);
	else if (prot >= 0 && (w.t.pa_base + (ipa - w.t.ipa_base) != pfn * PAGE ||
			       prot_of_t(&w.t) != prot))
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u ipa 0x%llx: mapped to pa 0x%llx prot %u; expected pa 0x%llx prot %u",
			v, (unsigned long long)ipa,
			(unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)),
			prot_of_t(&w.t), (unsigned long long)(pfn * PAGE), prot);
}

int sim_vm_read_leaf(const struct sim_vm_view *vs, unsigned int v, uint64_t ipa, uint64_t *pfn)
{
	struct sim_s2_regs regs;
	struct sim_walk w;

	if (v > SIM_MAX_VM || !vs->g[v].live)
		return -1;
	regs = vs->g[v].regs;
	sim_s2_walk(vs->pm, &regs, ipa, &w);
	if (w.fault)
		return w.fault == SIM_FAULT_TRANSLATION ? -1 : -2;
	*pfn = (w.t.pa_base + (ipa - w.t.ipa_base)) / PAGE;
	return prot_of_t(&w.t);
}

/* --- TLB ------------------------------------------------------------------- */

/* Every TLB entry of @vmid overlapping [ipa, ipa + size) still matches the tables. */
static void check_tlbs(struct sim_vm_view *vs, unsigned int v, uint64_t ipa, uint64_t size)
{
	struct sim_s2_regs regs = vs->g[v].regs;

	for (unsigned int c = 0; c < vs->nr_cpus; c++) {
		const struct sim_tlb *tlb = &vs->tlbs[c];

		for (unsigned int i = 0; i < tlb->size; i++) {
			const struct sim_tlb_entry *e = &tlb->e[i];
			struct sim_walk w;

			if (!e->valid || e->vmid != regs.vmid || e->t.ipa_base >= ipa + size ||
			    ipa >= e->t.ipa_base + e->t.size)
				continue;
			sim_s2_walk(vs->pm, &regs, e->t.ipa_base, &w);
			if (w.fault || w.t.pa_base + (e->t.ipa_base - w.t.ipa_base) != e->t.pa_base ||
			    (prot_of_t(&e->t) & ~prot_of_t(&w.t)) ||
			    w.t.size < e->t.size)
				sim_report_violation(vs->report, SIM_ORACLE_TLB,
					"cpu%u TLB still maps vm%u ipa 0x%llx+0x%llx to pa 0x%llx prot %u; "
					"the tables now say %s", c, v,
					(unsigned long long)e->t.ipa_base, (unsigned long long)e->t.size,
					(unsigned long long)e->t.pa_base, prot_of_t(&e->t),
					w.fault ? sim_fault_name(w.fault) : "something else");
		}
	}
}

void sim_vm_check_vmid_gone(struct sim_vm_view *vs, uint16_t vmid)
{
	for (unsigned int c = 0; c < vs->nr_cpus; c++)
		for (unsigned int i = 0; i < vs->tlbs[c].size; i++)
			if (vs->tlbs[c].e[i].valid && vs->tlbs[c].e[i].vmid == vmid)
				sim_report_violation(vs->report, SIM_ORACLE_TLB,
					"VMID %u released while cpu%u's TLB still maps ipa 0x%llx to "
					"pa 0x%llx", vmid, c,
					(unsigned long long)vs->tlbs[c].e[i].t.ipa_base,
					(unsigned long long)vs->tlbs[c].e[i].t.pa_base);
}

/*
 * Nothing is freed while a flush it needs is pending: every table page a
 * cached translation was walked through is still a table page. A table
 * freed without invalidating the entries derived through it would let a
 * walk cache (or a TLB refill from partial walks) read a page that is now
 * someone else's. Cost: the TLBs' size, not the machine's.
 */
static void check_tlb_tables(struct sim_vm_view *vs)
{
	struct sim_mm_block_map map;

	sim_mm_block_map(vs->vmemmap, &map);
	for (unsigned int c = 0; c < vs->nr_cpus; c++) {
		const struct sim_tlb *tlb = &vs->tlbs[c];

		for (unsigned int i = 0; i < tlb->size; i++) {
			const struct sim_tlb_entry *e = &tlb->e[i];

			for (unsigned int l = 0; e->valid && l < e->nr_tables; l++) {
				uint64_t pfn = e->tables[l] / PAGE;
				struct sim_mm_page pm, *p = &pm;
				enum sim_mm_type type;
				uint32_t refcount;
				char tb[48];

				/* Read in place; the whole entry only to report it. */
				if (!sim_mm_type_read(&map, pfn, &type, &refcount) ||
				    (type == T_PGTABLE && refcount))
					continue;
				pm = sim_mm_page(vs->vmemmap, pfn);
				sim_report_violation(vs->report, SIM_ORACLE_TLB,
					"cpu%u TLB entry VMID %u ipa 0x%llx (pa 0x%llx) was walked through "
					"the level-%u table at pa 0x%llx, which was freed (type %s, "
					"refcount %u) while the entry is still cached", c, e->vmid,
					(unsigned long long)e->t.ipa_base, (unsigned long long)e->t.pa_base,
					e->t.level - (e->nr_tables - 1 - l), (unsigned long long)e->tables[l],
					type_name(p, tb, sizeof(tb)), p->refcount);
			}
		}
	}
}

/* A page of zeros to compare with. */
static const uint64_t zero_page[PAGE / sizeof(uint64_t)];

/* Reports the first word of page @e of vm@v where memory (@real) and the ideal machine differ. */
static void report_contents(struct sim_vm_view *vs, unsigned int v, const struct sim_ipage *e,
			    const uint64_t *real, const uint64_t *want)
{
	for (unsigned int w = 0; w < 512; w++) {
		if (real[w] == want[w])
			continue;
		sim_report_violation(vs->report, SIM_ORACLE_IDEAL,
			"vm%u page 0x%llx (pfn 0x%llx) word %u holds 0x%llx; the ideal "
			"machine holds 0x%llx", v, (unsigned long long)(e->page * PAGE),
			(unsigned long long)(v ? e->pfn : e->page), w,
			(unsigned long long)real[w], (unsigned long long)want[w]);
		return;
	}
}

/* IDEAL: page @e of vm@v (its entry has a cell) holds what the ideal machine says. */
static void check_page_contents(struct sim_vm_view *vs, unsigned int v, const struct sim_ipage *e)
{
	const uint64_t *real = sim_physmem_pa_to_host(vs->pm, (v ? e->pfn : e->page) * PAGE);
	const uint64_t *want;

	if (!real)
		return;
	/* A page nothing wrote is zero: compared without faulting it in. */
	if (!sim_physmem_dirty(vs->pm, v ? e->pfn : e->page))
		real = zero_page;
	/* One compare per page; word by word only to say where it differs. */
	want = e->cell->words ? e->cell->words : zero_page;
	if (!sim_bytes_equal(real, want, PAGE))
		report_contents(vs, v, e, real, want);
}

/*
 * IDEAL on a physical page an op touched, as the sweep judges the host's
 * explicit entries: a page given back to the host (by the hypervisor, by a
 * VM's reclaim or teardown) is a fresh zero page from that op on, and is
 * compared with memory there, not only at the next sweep, by which time a
 * later op (the page donated again, a host store) may have taken it from
 * the host or overwritten what it held.
 */
static void check_host_contents(struct sim_vm_view *vs, uint64_t pfn)
{
	const struct sim_ipage *e = sim_space_find(&vs->ideal->spaces[0], pfn);

	if (e && e->cell)
		check_page_contents(vs, 0, e);
}

/* --- incremental ------------------------------------------------------------ */

/*
 * REFCOUNT on the VM table: the references mm/ counts on guest @v
 * (hvmm_vm_get) are the pins the reference model counts from the ops. A
 * reference lost (a raise that raced a drop) or left over lets a VM be
 * destroyed under a holder, or never again.
 */
static void check_vm_refs(struct sim_vm_view *vs, unsigned int v)
{
	uint32_t refs, pins;

	if (!v || v > SIM_MAX_VM || !vs->g[v].live || !vs->g[v].vm || !sim_spec_vm_live(vs->spec, v))
		return;
	refs = sim_mm_vm_refcount(vs->g[v].vm);
	pins = vs->spec->vms[v].pins;
	if (refs != pins)
		sim_report_violation(vs->report, SIM_ORACLE_REFCOUNT,
			"vm%u (VMID %u): mm/ counts %u references on it (hvmm_vm_get), the model "
			"%u pins", v, vs->g[v].vmid, refs, pins);
}

void sim_vm_check_touched(struct sim_vm_view *vs)
{
	for (unsigned int t = 0; t < vs->nr_touch; t++) {
		const struct sim_touch *to = &vs->touch[t];
		uint64_t n = to->pages < TOUCH_CAP ? to->pages : TOUCH_CAP;

		for (uint64_t i = 0; i < (to->nr < TOUCH_CAP ? to->nr : TOUCH_CAP); i++) {
			check_page(vs, to->pfn + i, true);
			check_host_contents(vs, to->pfn + i);
			check_walk(vs, 0, (to->pfn + i) * PAGE);
		}
		if (to->nr)
			check_tlbs(vs, 0, to->pfn * PAGE, to->nr * PAGE);
		if (!to->vm || !vs->g[to->vm].live)
			continue;
		if (!to->pages && !to->nr)
			check_vm_refs(vs, to->vm);
		for (uint64_t i = 0; i < n; i++)
			check_walk(vs, to->vm, to->ipa + i * PAGE);
		if (to->pages)
			check_tlbs(vs, to->vm, to->ipa, to->pages * PAGE);
	}
	if (vs->nr_touch)
		check_tlb_tables(vs);
}

/* --- IDEAL on accesses -------------------------------------------------------- */

void sim_vm_check_access(struct sim_vm_view *vs, unsigned int v, uint64_t ipa, bool write,
			 bool ok, uint64_t value, uint64_t pa)
{
	uint64_t pfn = 0;
	int prot = ideal_prot(vs, v, ipa, &pfn);
	bool allowed = prot >= 0 && (prot & (write ? SIM_PROT_W : SIM_PROT_R));
	struct sim_cell *cell;
	const char *what = write ? "write" : "read";

	if (prot == -2)
		return;
	if (ok && !allowed) {
		sim_report_violation(vs->report, SIM_ORACLE_IDEAL,
			"vm%u %s at ipa 0x%llx reached pa 0x%llx, but the ideal machine gives it "
			"no such access", v, what, (unsigned long long)ipa, (unsigned long long)pa);
		return;
	}
	if (!ok && allowed) {
		sim_report_violation(vs->report, SIM_ORACLE_IDEAL,
			"vm%u %s at ipa 0x%llx faulted, but the ideal machine allows it (pfn 0x%llx)",
			v, what, (unsigned long long)ipa, (unsigned long long)pfn);
		return;
	}
	if (!ok)
		return;
	if (pa / PAGE != pfn)
		sim_report_violation(vs->report, SIM_ORACLE_OWNERSHIP,
			"vm%u ipa 0x%llx reached pa 0x%llx, but its page is pfn 0x%llx",
			v, (unsigned long long)ipa, (unsigned long long)pa, (unsigned long long)pfn);
	if (v == 0)
		cell = sim_ideal_host_cell(vs->ideal, pfn, true);
	else
		cell = sim_space_find(&vs->ideal->spaces[v], ipa / PAGE)->cell;
	if (write) {
		sim_cell_write(cell, ipa, value);
	} else if (sim_cell_read(cell, ipa) != value) {
		sim_report_violation(vs->report, SIM_ORACLE_IDEAL,
			"vm%u read 0x%llx at ipa 0x%llx (pa 0x%llx); the ideal machine holds 0x%llx",
			v, (unsigned long long)value, (unsigned long long)ipa,
			(unsigned long long)pa, (unsigned long long)sim_cell_read(cell, ipa));
	}
}

/* --- full sweep ------------------------------------------------------------- */

/*
 * Most of RAM is the host's and untouched: vmemmap entry, shadow and leaf
 * count all zero, which check_ram_page() and the map count check pass.
 * Chunks of such pages are recognised with three compares; any non-zero
 * byte sends the chunk through the checks page by page.
 */
#define CHUNK 64
#define SPARSE_PROBE_PFNS (1ULL << 18)

/* @n is at most a page. Untouched parts of a sparse array are not read (sim_sparse_untouched). */
static bool all_zero(const void *p, size_t n)
{
	return sim_sparse_untouched(p, n) || sim_bytes_zero(p, n);
}

struct sweep {
	struct sim_vm_view *vs;
	unsigned int v;
	uint32_t *maps;		/* recount of guest leaves per pfn */
	uint64_t maps_lo, maps_hi;	/* the indices of maps written: zero outside */
};

static void sweep_table(void *ctx, uint64_t pa, int level, unsigned int nonzero)
{
	struct sweep *sw = ctx;
	struct sim_vm_view *vs = sw->vs;
	uint64_t pfn = pa / PAGE;
	struct sim_mm_page pm, *p = &pm;
	char tb[48];

	if (pfn < vs->hyp_pfn || pfn >= vs->hyp_pfn + vs->hyp_pages) {
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u: level-%d table at pa 0x%llx lies outside the hypervisor pool",
			sw->v, level, (unsigned long long)pa);
		return;
	}
	pm = sim_mm_page(vs->vmemmap, pfn);
	if (p->type != T_PGTABLE || !p->refcount)
		sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
			"vm%u: level-%d table at pa 0x%llx is %s (type %s)", sw->v, level,
			(unsigned long long)pa, p->refcount ? "allocated" : "free",
			type_name(p, tb, sizeof(tb)));
	if (p->refcount != 1 + nonzero)
		sim_report_violation(vs->report, SIM_ORACLE_REFCOUNT,
			"vm%u: table page pa 0x%llx has refcount %u, but 1 + %u entries",
			sw->v, (unsigned long long)pa, p->refcount, nonzero);
}

/*
 * A chunk of RAM pages the host maps that sweep_leaf() passes at once:
 * all in one RAM region and in the ideal machine's range, every vmemmap
 * entry as mm/ boots it (a host-owned data page: the layout unit says
 * what that looks like). The host's block mappings cover all of RAM, so
 * this is most of its leaves.
 */
static bool host_chunk_pristine(const struct sim_vm_view *vs, uint64_t pfn)
{
	const struct sim_region *r = sim_physmem_region(vs->pm, pfn * PAGE);

	return r && r->kind == SIM_REGION_RAM && (pfn + CHUNK) * PAGE <= r->base + r->size &&
	       pfn >= vs->ideal->base_pfn && pfn - vs->ideal->base_pfn + CHUNK <= vs->ideal->nr_pfns &&
	       sim_mm_pages_boot(vs->vmemmap, pfn, CHUNK);
}

/* Bytes of [pa, pa + size) in regions the machine describes as RAM. */
static uint64_t ram_bytes(const struct sim_physmem *pm, uint64_t pa, uint64_t size)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];
		uint64_t lo = r->base > pa ? r->base : pa;
		uint64_t hi = r->base + r->size < pa + size ? r->base + r->size : pa + size;

		if (r->kind == SIM_REGION_RAM && lo < hi)
			n += hi - lo;
	}
	return n;
}

/*
 * PT-WALK: a valid leaf's memory type is that of what it maps: Normal
 * over RAM, Device over anything else (MMIO, holes, reserved memory), so
 * no leaf spans both. MemAttr[3:2] == 0b00 is Device, with or without
 * FEAT_S2FWB (Arm ARM D8.6.5).
 */
static void check_memtype(struct sim_vm_view *vs, unsigned int v, uint64_t ipa, uint64_t pa,
			  uint64_t size, uint64_t desc)
{
	bool device = !((desc >> 4) & 3);
	uint64_t ram = ram_bytes(vs->pm, pa, size);

	if (ram == (device ? 0 : size))
		return;
	sim_report_violation(vs->report, SIM_ORACLE_PT_WALK,
		"vm%u ipa 0x%llx: a %s leaf of 0x%llx bytes maps pa 0x%llx, which holds 0x%llx "
		"bytes of RAM", v, (unsigned long long)ipa, device ? "Device" : "Normal",
		(unsigned long long)size, (unsigned long long)pa, (unsigned long long)ram);
}

static void sweep_leaf(void *ctx, uint64_t ipa, int level, uint64_t desc)
{
	struct sweep *sw = ctx;
	struct sim_vm_view *vs = sw->vs;
	uint64_t size = 1ULL << (12 + 9 * (3 - level));
	uint64_t pa = desc & 0xfffffffff000ULL & ~(size - 1);
	uint64_t lo = vs->ideal->base_pfn * PAGE, hi = lo + vs->ideal->nr_pfns * PAGE;

	/*
	 * Pages outside the ideal machine's range are not checked (the model has no state for them):
	 * skip them whole rather than one by one (a 1 GiB block holds 2^18).
	 */
	if (!(desc & 1))
		return;
	check_memtype(vs, sw->v, ipa, pa, size, desc);
	if (pa >= hi || pa + size <= lo)
		return;
	for (uint64_t off = pa < lo ? lo - pa : 0; off < size && pa + off < hi; off += PAGE) {
		uint64_t pfn = (pa + off) / PAGE;
		const struct sim_spec_page *o = sim_spec_page(vs->spec, pfn);
		struct sim_mm_page pm, *p = &pm;
		char ob[48], tb[48];

		if (!sw->v && !(pfn % CHUNK) && size - off >= CHUNK * PAGE &&
		    host_chunk_pristine(vs, pfn)) {
			off += (CHUNK - 1) * PAGE;
			continue;
		}
		if (!o || !sim_physmem_is_ram(vs->pm, pa + off))
			continue;
		pm = sim_mm_page(vs->vmemmap, pfn);
		if (!p->valid)
			continue;
		if (p->type != T_DATA)
			sim_report_violation(vs->report, SIM_ORACLE_TYPE,
				"vm%u ipa 0x%llx maps pa 0x%llx of type %s", sw->v,
				(unsigned long long)(ipa + off), (unsigned long long)(pa + off),
				type_name(p, tb, sizeof(tb)));
		if (sw->v) {
			uint64_t i = pfn - vs->ideal->base_pfn;

			sw->maps[i]++;
			if (i < sw->maps_lo)
				sw->maps_lo = i;
			if (i >= sw->maps_hi)
				sw->maps_hi = i + 1;
			if (!(p->owner == SIM_MM_OWNER_GUEST && p->vmid == vs->g[sw->v].vmid) &&
			    !(p->owner == SIM_MM_OWNER_HOST && p->state == SIM_MM_SHARED_OWNED))
				sim_report_violation(vs->report, SIM_ORACLE_OWNERSHIP,
					"vm%u ipa 0x%llx maps pfn 0x%llx owned by %s (host %s)", sw->v,
					(unsigned long long)(ipa + off), (unsigned long long)pfn,
					sim_mm_owner_name(p, ob, sizeof(ob)), state_name(p->state));
		} else if (p->owner != SIM_MM_OWNER_HOST && p->state != SIM_MM_SHARED_BORROWED) {
			sim_report_violation(vs->report, SIM_ORACLE_OWNERSHIP,
				"host maps pfn 0x%llx owned by %s (host %s)", (unsigned long long)pfn,
				sim_mm_owner_name(p, ob, sizeof(ob)), state_name(p->state));
		}
	}
}

/* IDEAL: a mapped guest page holds exactly what the ideal machine says. */
static void check_contents(struct sim_vm_view *vs, unsigned int v)
{
	const struct sim_space *s = &vs->ideal->spaces[v];

	for (uint64_t i = 0; i < s->cap; i++) {
		const struct sim_ipage *e = &s->slots[i];

		if (!e->used || !e->cell || (v && e->parked))
			continue;
		check_page_contents(vs, v, e);
		if (v)
			check_walk(vs, v, e->page * PAGE);
	}
}

/* Whether [i, i + n) misses the span [lo, hi) written, outside which an array is zero. */
static bool outside(uint64_t i, uint64_t n, uint64_t lo, uint64_t hi)
{
	return lo >= hi || i + n <= lo || i >= hi;
}

/*
 * The model's array and the leaf counts are zero outside the indices
 * written (the model keeps that span, the sweep its own): only a chunk
 * inside one is read, so a sweep reads them where the run went.
 */
static bool pristine(const struct sim_vm_view *vs, const struct sweep *sw, uint64_t i,
		     uint64_t n)
{
	return sim_mm_pages_boot(vs->vmemmap, vs->ideal->base_pfn + i, n) &&
	       (outside(i, n, vs->spec->lo, vs->spec->hi) ||
		all_zero(&vs->spec->pages[i], n * sizeof(struct sim_spec_page))) &&
	       (outside(i, n, sw->maps_lo, sw->maps_hi) ||
		all_zero(&sw->maps[i], n * sizeof(*sw->maps)));
}

/*
 * Whether the n pages from @pfn (model index @i) are alike: one vmemmap
 * entry, one model page and one leaf count, each repeated byte for byte.
 * Their checks are then one check, whose outcome is the first page's:
 * boot hands the hypervisor thousands of such pages.
 */
static bool alike(const struct sim_vm_view *vs, const struct sweep *sw,
		  const struct sim_mm_block_map *map, uint64_t pfn, uint64_t i, uint64_t n)
{
	const struct sim_mm_block_entry *e = &map->entries[pfn - map->start_pfn];

	if (pfn - map->start_pfn >= map->nr || n > map->nr - (pfn - map->start_pfn))
		return false;
	return sim_bytes_equal(e, e + 1, (n - 1) * sizeof(*e)) &&
	       sim_bytes_equal(&vs->spec->pages[i], &vs->spec->pages[i + 1],
			       (n - 1) * sizeof(struct sim_spec_page)) &&
	       sim_bytes_equal(&sw->maps[i], &sw->maps[i + 1], (n - 1) * sizeof(*sw->maps));
}

/* OWNERSHIP, TYPE and REFCOUNT of RAM page @pfn (model index @i) at a sweep. */
static void sweep_ram_page(struct sim_vm_view *vs, const struct sweep *sw, uint64_t pfn,
			   uint64_t i)
{
	struct sim_mm_page p;

	sim_mm_page_read(vs->vmemmap, pfn, &p);
	if (!p.valid)
		return;
	check_ram_page(vs, pfn, &vs->spec->pages[i], &p, true);
	if (p.map_count != sw->maps[i])
		sim_report_violation(vs->report, SIM_ORACLE_REFCOUNT,
			"pfn 0x%llx: map_count %u, but the tables hold %u leaves mapping it",
			(unsigned long long)pfn, p.map_count, sw->maps[i]);
}

/*
 * The leaf counts of a sweep, zeroed: one buffer kept across sweeps (a
 * fresh allocation per sweep faulted its pages in every time under ASan),
 * a sparse mapping that only guest leaves write; each sweep zeroes the
 * span it wrote when it is done (small spans in place), so the pages stay
 * resident and the next sweep does not fault them in again (dropping the
 * whole buffer every sweep cost a TLB shootdown, and a fault per page at
 * the next read).
 */
static uint32_t *maps_buffer(uint64_t nr)
{
	static _Thread_local uint32_t *buf;
	static _Thread_local uint64_t cap;

	if (nr > cap) {
		sim_unmap_sparse(buf, cap * sizeof(*buf));
		buf = sim_map_sparse(nr * sizeof(*buf));
		cap = buf ? nr : 0;
	}
	return buf;
}

void sim_vm_check_full(struct sim_vm_view *vs)
{
	struct sweep sw = { .vs = vs, .maps_lo = UINT64_MAX };
	struct sim_s2_visitor vis = { .table = sweep_table, .leaf = sweep_leaf, .ctx = &sw };
	struct sim_mm_block_map map;
	bool probe;

	sw.maps = maps_buffer(vs->ideal->nr_pfns);
	if (!sw.maps)
		return;
	/*
	 * Above 1 GiB of RAM, untouched parts are skipped unread; the walks
	 * write only the leaf counts, which are first asked about after them.
	 */
	probe = vs->ideal->nr_pfns >= SPARSE_PROBE_PFNS;
	if (probe)
		sim_sparse_probe_begin();
	for (unsigned int v = 0; v <= SIM_MAX_VM; v++) {
		struct sim_s2_regs regs;

		if (!vs->g[v].live)
			continue;
		sw.v = v;
		check_vm_refs(vs, v);
		regs = vs->g[v].regs;
		sim_s2_enumerate(vs->pm, &regs, &vis);
		check_contents(vs, v);
		check_tlbs(vs, v, 0, ~0ULL >> 1);
	}
	check_tlb_tables(vs);
	sim_mm_block_map(vs->vmemmap, &map);
	/* Every RAM page, region by region (holes between banks are not RAM). */
	for (unsigned int r = 0; r < vs->pm->nr_regions; r++) {
		const struct sim_region *reg = &vs->pm->regions[r];
		uint64_t pfn = reg->base / PAGE, end = (reg->base + reg->size) / PAGE;

		if (reg->kind != SIM_REGION_RAM)
			continue;
		for (; pfn < end; pfn++) {
			uint64_t i = pfn - vs->ideal->base_pfn, seen = vs->report->total;

			if (i >= vs->ideal->nr_pfns)
				continue;
			if (!(i % CHUNK) && end - pfn >= CHUNK && vs->ideal->nr_pfns - i >= CHUNK) {
				if (pristine(vs, &sw, i, CHUNK)) {
					pfn += CHUNK - 1;
					continue;
				}
				/* Alike pages that the first passes pass; else each is judged. */
				if (alike(vs, &sw, &map, pfn, i, CHUNK)) {
					sweep_ram_page(vs, &sw, pfn, i);
					if (vs->report->total == seen)
						pfn += CHUNK - 1;
					continue;
				}
			}
			sweep_ram_page(vs, &sw, pfn, i);
		}
	}
	if (probe)
		sim_sparse_probe_end();
	if (sw.maps_lo < sw.maps_hi)
		sim_physmem_zero_sparse(&sw.maps[sw.maps_lo], (sw.maps_hi - sw.maps_lo) * sizeof(*sw.maps));
}
