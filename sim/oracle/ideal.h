/* SPDX-License-Identifier: MIT */
/*
 * The ideal machine (Spoq/SeKVM ideal-real method) and the ownership
 * shadow: what the ops mean, kept by the executor from the ops alone,
 * never from mm/'s data.
 *
 * Ideal memory: every address space (vm0 = the host, by PA; guests by IPA)
 * maps pages to cells; a cell is one page of contents. A donation moves a
 * cell, a share makes two spaces name the same cell, a reclaim gives the
 * host a fresh zero cell. Every guest write goes to the ideal machine as
 * well, and every read must return what the ideal machine holds.
 *
 * Who owns each page is not kept here: the reference model of ownership
 * (oracle/spec.h) is the one copy of that.
 */
#ifndef SIM_ORACLE_IDEAL_H
#define SIM_ORACLE_IDEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"

/* A cell's contents: one page of words. */
#define SIM_CELL_BYTES 4096

struct sim_cell {
	uint32_t refs;
	uint64_t *words;	/* 512 words, NULL while all zero */
};

/* One page of an address space. */
struct sim_ipage {
	uint64_t page;		/* key: IPA (or PA) >> 12 */
	struct sim_cell *cell;	/* NULL: no access (host: hidden) */
	uint64_t pfn;		/* guests: the page behind it */
	uint8_t prot;		/* SIM_PROT_* while mapped */
	uint8_t state;		/* guests: SIM_IDEAL_OWNED / _SHARED_OWNED / _BORROWED */
	bool parked;		/* guests: owned but unmapped */
	bool used;
};

enum { SIM_IDEAL_OWNED, SIM_IDEAL_SHARED_OWNED, SIM_IDEAL_BORROWED };

/* Open-addressing map of pages. */
struct sim_space {
	struct sim_ipage *slots;
	uint64_t cap, nr;
};

/* Ranges of pages the hypervisor took at boot, hidden from the host for good. */
#define SIM_IDEAL_BOOT_RANGES 4

struct sim_ideal {
	struct sim_space spaces[SIM_MAX_VM + 1];	/* [0] host: explicit entries only */
	uint64_t base_pfn, nr_pfns;			/* physical pages it covers */
	struct { uint64_t pfn, nr; } boot[SIM_IDEAL_BOOT_RANGES];
	unsigned int nr_boot;
};

int sim_ideal_init(struct sim_ideal *id, uint64_t base_pfn, uint64_t nr_pfns);
void sim_ideal_fini(struct sim_ideal *id);

struct sim_ipage *sim_space_find(struct sim_space *s, uint64_t page);
struct sim_ipage *sim_space_insert(struct sim_space *s, uint64_t page);
void sim_space_remove(struct sim_space *s, uint64_t page);
/* Gives the slot table back (entries' cells are the caller's to put). */
void sim_space_free(struct sim_space *s);

/* Host view of PA page @pfn: the cell (materialised on demand) or NULL if hidden. */
struct sim_cell *sim_ideal_host_cell(struct sim_ideal *id, uint64_t pfn, bool ram);
/* Hides the host page (donated away) / gives the host a fresh zero page / a given cell. */
void sim_ideal_host_hide(struct sim_ideal *id, uint64_t pfn);
/*
 * Hides @nr pages from @pfn that the hypervisor takes at boot and never
 * gives back, without an entry per page; an explicit entry (a later
 * set, hide or reset of one of them) still wins. -1 if out of ranges.
 */
int sim_ideal_host_hide_boot(struct sim_ideal *id, uint64_t pfn, uint64_t nr);
/* True if @pfn lies in such a range (whatever its explicit entry says). */
bool sim_ideal_host_boot_hidden(const struct sim_ideal *id, uint64_t pfn);
void sim_ideal_host_reset(struct sim_ideal *id, uint64_t pfn);
void sim_ideal_host_set(struct sim_ideal *id, uint64_t pfn, struct sim_cell *cell);

struct sim_cell *sim_cell_new(void);
struct sim_cell *sim_cell_get(struct sim_cell *c);
void sim_cell_put(struct sim_cell *c);
uint64_t sim_cell_read(const struct sim_cell *c, uint64_t offset);
void sim_cell_write(struct sim_cell *c, uint64_t offset, uint64_t value);

#endif /* SIM_ORACLE_IDEAL_H */
