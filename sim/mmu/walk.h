/* SPDX-License-Identifier: MIT */
/*
 * An independent stage-2 translation table walker, written from the Arm
 * architecture (Arm ARM D8, VMSAv8-64, 4 KiB granule, 48-bit output
 * addresses, no FEAT_LPA2, no hardware access-flag update). It shares no
 * code and no constants with mm/: it is the hardware mm/'s tables are
 * judged against.
 */
#ifndef SIM_MMU_WALK_H
#define SIM_MMU_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "physmem.h"

/* The registers a stage-2 walk depends on (VTTBR_EL2.BADDR, VTCR_EL2.T0SZ/SL0). */
struct sim_s2_regs {
	uint64_t baddr;		/* physical address of the (concatenated) root */
	unsigned int ia_bits;	/* 64 - T0SZ */
	unsigned int start_level;
	uint16_t vmid;
};

enum sim_fault {
	SIM_FAULT_NONE = 0,
	SIM_FAULT_TRANSLATION,	/* invalid descriptor, or input beyond ia_bits */
	SIM_FAULT_ACCESS_FLAG,	/* AF == 0 */
	SIM_FAULT_PERMISSION,	/* S2AP / XN forbid the access */
	SIM_FAULT_ADDRESS_SIZE,	/* output address beyond 48 bits */
	SIM_FAULT_EXTERNAL,	/* the walk read memory that is not backed */
	SIM_FAULT_CONFIG,	/* ia_bits / start level are not a legal combination */
};

const char *sim_fault_name(enum sim_fault f);

enum sim_access { SIM_ACCESS_READ, SIM_ACCESS_WRITE, SIM_ACCESS_EXEC };

/* A translation: what a TLB caches. */
struct sim_translation {
	uint64_t ipa_base;	/* start of the block or page */
	uint64_t size;		/* 4 KiB, 2 MiB or 1 GiB */
	uint64_t pa_base;
	int level;
	bool read, write, exec;
	uint8_t memattr;	/* MemAttr[3:0] */
	uint64_t desc;		/* the leaf descriptor */
};

struct sim_walk {
	enum sim_fault fault;
	int level;		/* level of the leaf or of the fault */
	struct sim_translation t;	/* valid when fault is NONE or PERMISSION */
	uint64_t tables[4];	/* physical address of the table read at each level */
	unsigned int nr_tables;
};

/* Number of concatenated root tables, 0 if the configuration is illegal. */
unsigned int sim_s2_root_tables(unsigned int ia_bits, unsigned int start_level);

/*
 * Translates @ipa. On success fault is NONE and t describes the leaf; an
 * AF fault or a translation fault leaves t unset. Permissions are not
 * checked here (see sim_translation_permits).
 */
void sim_s2_walk(const struct sim_physmem *pm, const struct sim_s2_regs *regs,
		 uint64_t ipa, struct sim_walk *w);

bool sim_translation_permits(const struct sim_translation *t, enum sim_access access);



/*
 * Visits every table reachable from the root (@table: its PA, level and
 * number of non-zero descriptors) and every leaf descriptor, valid or not
 * but non-zero (@leaf: the IPA it starts at, level, descriptor).
 */
struct sim_s2_visitor {
	void (*table)(void *ctx, uint64_t pa, int level, unsigned int nonzero);
	void (*leaf)(void *ctx, uint64_t ipa, int level, uint64_t desc);
	void *ctx;
};
void sim_s2_enumerate(const struct sim_physmem *pm, const struct sim_s2_regs *regs,
		      const struct sim_s2_visitor *v);
#endif /* SIM_MMU_WALK_H */
