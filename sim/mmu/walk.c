// SPDX-License-Identifier: MIT
/*
 * Stage-2 walk, 4 KiB granule. From the Arm ARM:
 *  - level L resolves IA bits [20 + 9 * (3 - L) : 12 + 9 * (3 - L)];
 *  - the start level may index more than 9 bits by concatenating up to 16
 *    tables (the root is then 2^n pages, aligned to its size);
 *  - descriptor bits[1:0]: x0 invalid, 01 block (levels 1 and 2 only with
 *    a 48-bit OA), 11 table (levels 0-2) or page (level 3); 01 at level 3
 *    and at level 0 is invalid;
 *  - output address bits [47:12] (table/page), [47:21] (level-2 block),
 *    [47:30] (level-1 block); bits [51:48] must be zero with a 48-bit PA;
 *  - stage-2 leaf attributes: MemAttr[5:2], S2AP[7:6] (6 read, 7 write),
 *    SH[9:8], AF[10], XN[54:53] (XN[1] set: never executable).
 */
#include "mmu/walk.h"

#include <string.h>

#define D_VALID		(1ULL << 0)
#define D_TYPE		(1ULL << 1)
#define D_MEMATTR(d)	((uint8_t)(((d) >> 2) & 0xf))
#define D_S2AP_READ	(1ULL << 6)
#define D_S2AP_WRITE	(1ULL << 7)
#define D_AF		(1ULL << 10)
#define D_XN1		(1ULL << 54)
#define D_OA_HIGH	(0xfULL << 48)	/* OA[51:48]: must be 0 for a 48-bit PA */
#define GRANULE_SHIFT	12
#define ENTRIES		512u

static unsigned int shift_of(int level)
{
	return GRANULE_SHIFT + 9u * (unsigned int)(3 - level);
}

static uint64_t oa_mask(int level)
{
	/* bits [47 : shift_of(level)] */
	return ((1ULL << 48) - 1) & ~((1ULL << shift_of(level)) - 1);
}

const char *sim_fault_name(enum sim_fault f)
{
	static const char *const names[] = {
		"none", "translation fault", "access flag fault", "permission fault",
		"address size fault", "synchronous external abort on walk",
		"illegal VTCR configuration",
	};
	return (unsigned int)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

unsigned int sim_s2_root_tables(unsigned int ia_bits, unsigned int start_level)
{
	unsigned int shift;

	if (ia_bits < 25 || ia_bits > 48 || start_level > 3)
		return 0;
	shift = shift_of((int)start_level);
	if (ia_bits <= shift)
		return 0;
	if (ia_bits <= shift + 9)
		return 1;
	return ia_bits - shift - 9 <= 4 ? 1u << (ia_bits - shift - 9) : 0;
}

static bool read_desc(const struct sim_physmem *pm, uint64_t pa, uint64_t *desc)
{
	const uint64_t *p = sim_physmem_pa_to_host(pm, pa);

	if (!p)
		return false;
	*desc = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

void sim_s2_walk(const struct sim_physmem *pm, const struct sim_s2_regs *regs,
		 uint64_t ipa, struct sim_walk *w)
{
	unsigned int roots = sim_s2_root_tables(regs->ia_bits, regs->start_level);
	int level = (int)regs->start_level;
	uint64_t table = regs->baddr, desc, index;

	memset(w, 0, sizeof(*w));
	w->level = level;
	if (!roots) {
		w->fault = SIM_FAULT_CONFIG;
		return;
	}
	if (regs->ia_bits < 64 && (ipa >> regs->ia_bits)) {
		w->fault = SIM_FAULT_TRANSLATION;
		return;
	}
	index = (ipa >> shift_of(level)) & (ENTRIES * roots - 1);
	for (;;) {
		w->tables[w->nr_tables++] = table;
		w->level = level;
		if (!read_desc(pm, table + index * 8, &desc)) {
			w->fault = SIM_FAULT_EXTERNAL;
			return;
		}
		if (!(desc & D_VALID)) {
			w->fault = SIM_FAULT_TRANSLATION;
			return;
		}
		if (desc & D_OA_HIGH) {
			w->fault = SIM_FAULT_ADDRESS_SIZE;
			return;
		}
		if ((desc & D_TYPE) && level < 3) {	/* table */
			table = desc & oa_mask(3);
			level++;
			index = (ipa >> shift_of(level)) & (ENTRIES - 1);
			continue;
		}
		if (!(desc & D_TYPE) && (level == 0 || level == 3)) {	/* no block here */
			w->fault = SIM_FAULT_TRANSLATION;
			return;
		}
		break;
	}
	if (!(desc & D_AF)) {
		w->fault = SIM_FAULT_ACCESS_FLAG;
		return;
	}
	w->t.level = level;
	w->t.size = 1ULL << shift_of(level);
	w->t.ipa_base = ipa & ~(w->t.size - 1);
	w->t.pa_base = desc & oa_mask(level);
	w->t.read = desc & D_S2AP_READ;
	w->t.write = desc & D_S2AP_WRITE;
	w->t.exec = !(desc & D_XN1);
	w->t.memattr = D_MEMATTR(desc);
	w->t.desc = desc;
}

bool sim_translation_permits(const struct sim_translation *t, enum sim_access access)
{
	switch (access) {
	case SIM_ACCESS_READ: return t->read;
	case SIM_ACCESS_WRITE: return t->write;
	case SIM_ACCESS_EXEC: return t->exec;
	}
	return false;
}

static void enumerate(const struct sim_physmem *pm, uint64_t table, unsigned int entries,
		      int level, uint64_t base, const struct sim_s2_visitor *v)
{
	const uint64_t *t = sim_physmem_pa_to_host(pm, table);

	if (!t)
		return;
	for (unsigned int p = 0; p < entries / ENTRIES; p++) {
		static const uint64_t empty[ENTRIES];
		unsigned int nonzero = 0;

		/* Most of a root is empty: a whole empty page in one compare. */
		bool all_empty = !memcmp(&t[p * ENTRIES], empty, sizeof(empty));

		for (unsigned int i = p * ENTRIES; !all_empty && i < (p + 1) * ENTRIES; i++) {
			uint64_t d = __atomic_load_n(&t[i], __ATOMIC_ACQUIRE);
			uint64_t ipa = base + ((uint64_t)i << shift_of(level));

			if (!d)
				continue;
			nonzero++;
			if ((d & (D_VALID | D_TYPE)) == (D_VALID | D_TYPE) && level < 3)
				enumerate(pm, d & oa_mask(3), ENTRIES, level + 1, ipa, v);
			else if (v->leaf)
				v->leaf(v->ctx, ipa, level, d);
		}
		if (v->table)
			v->table(v->ctx, table + p * 4096ULL, level, nonzero);
	}
}

void sim_s2_enumerate(const struct sim_physmem *pm, const struct sim_s2_regs *regs,
		      const struct sim_s2_visitor *v)
{
	unsigned int roots = sim_s2_root_tables(regs->ia_bits, regs->start_level);

	if (roots)
		enumerate(pm, regs->baddr, ENTRIES * roots, (int)regs->start_level, 0, v);
}
