/* SPDX-License-Identifier: MIT */
/*
 * BBM: the break-before-make and TLB-maintenance protocol, judged at each
 * event inside an operation (sim/event/), in the manner of Casemate's
 * per-descriptor automata, written from the Arm architecture.
 *
 * Every live stage-2 table page is tracked with a shadow of its 512
 * descriptors as last written. A descriptor write is judged against the
 * shadow:
 *  - valid -> valid with another output address, another shape (block or
 *    table) or other memory attributes is a break-before-make violation
 *    (Arm ARM DDI 0487, D8.16.1 "Using break-before-make when updating
 *    translation table entries");
 *  - valid -> invalid (a break), and valid -> valid with fewer permissions,
 *    opens an obligation: the old translation may be cached in any TLB or
 *    walk cache until a TLBI that covers it completes after a DSB that
 *    made the write visible (D8.14, "TLB maintenance requirements");
 *  - invalid -> valid at an entry whose break is still owed an invalidation
 *    is a violation (the make came before the TLBI);
 *  - a table descriptor links its child table page: it must not already be
 *    linked (and must hold only entries written since its allocation), and
 *    is tracked from then on;
 *  - a cacheable guest leaf that brings a page into a guest comes after a
 *    clean of that page to PoC in the same op (no FEAT_S2FWB assumed).
 *
 * While an obligation is open, what the old translation reached is
 * protected: its pages (for a table: the whole subtree and the pages its
 * leaves map) must not be written by mm/, freed or given a new owner. A
 * TLBI discharges an obligation only if it covers it as the architecture
 * says: the VMID; for TLBI IPAS2E1IS with a level hint, only a leaf of
 * that level holding the IPA; for a removed table, a range or VMID
 * invalidation covering everything under it. An obligation still open
 * when the operation ends is a TLB violation: an unmap, a downgrade or an
 * owner change returned while a TLB may still grant the old access.
 *
 * This is the TLB and walk cache at their most permissive: any valid
 * translation, and any table descriptor on a walk, is assumed cached from
 * the moment it is written until it is invalidated (speculative walks), so
 * an ordering bug shows without a guest access at the right instant.
 *
 * Nothing here calls mm/ or reads its bookkeeping: descriptors are decoded
 * from the architecture's bit layout, and roots come from the stage-2
 * registers the executor loads (VTTBR).
 */
#ifndef SIM_ORACLE_BBM_H
#define SIM_ORACLE_BBM_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"
#include "oracle/report.h"
#include "oracle/memview.h"

struct sim_bbm;

struct sim_bbm *sim_bbm_create(const struct sim_memview *mem, struct sim_report *report);
void sim_bbm_destroy(struct sim_bbm *b);

/*
 * The roots of a stage-2 (what VTTBR points at): @nr concatenated pages at
 * @pa, translating from @start_level for @vmid. Tables already linked
 * under them are tracked too.
 */
void sim_bbm_add_roots(struct sim_bbm *b, uint64_t pa, unsigned int nr, unsigned int start_level,
		       uint16_t vmid);
/*
 * The tables of @vmid map memory that no guest runs on (a page-table
 * implementation exercised alone, sim/pgtable/exercise.c): the clean to
 * PoC owed before memory comes into a guest is not asked of them; every
 * other rule holds.
 */
void sim_bbm_vmid_no_guest(struct sim_bbm *b, uint16_t vmid);
/* The VM of @vmid is gone: stop tracking whatever of its tables is left. */
void sim_bbm_drop_vmid(struct sim_bbm *b, uint16_t vmid);

/*
 * No vCPU of @vmid can run from now on (its VM is being torn down). Once a
 * TLBI by VMID of it follows, nothing is cached for it and no walker can
 * start on its tables (TLB entries and walks are tagged by VMID, and no CPU
 * loads it): its descriptors may then change, and its tables and pages go,
 * without break-before-make or further invalidation, as a teardown does.
 * sim_bbm_vmid_running() undoes it (a teardown that failed).
 */
void sim_bbm_vmid_stopped(struct sim_bbm *b, uint16_t vmid);
void sim_bbm_vmid_running(struct sim_bbm *b, uint16_t vmid);

/* The observer to register with sim_event_observe(), and the kinds it needs. */
void sim_bbm_event(void *ctx, const struct sim_event *ev);
#define SIM_BBM_EVENTS	((1u << SIM_EV_STORE) | (1u << SIM_EV_ATOMIC) |		\
			 (1u << SIM_EV_DSB_ISHST) | (1u << SIM_EV_DSB_ISH) |		\
			 (1u << SIM_EV_TLBI_IPA) | (1u << SIM_EV_TLBI_RANGE) |		\
			 (1u << SIM_EV_TLBI_VMID) | (1u << SIM_EV_PAGE_FREE) |		\
			 (1u << SIM_EV_PAGE_ALLOC) | (1u << SIM_EV_OWNERSHIP) |		\
			 (1u << SIM_EV_DCACHE_CLEAN) | (1u << SIM_EV_ICACHE_INVAL))

/* An operation ends: obligations still open are TLB violations. */
void sim_bbm_op_end(struct sim_bbm *b);

/* Counts the tracked table pages (linked, or roots) in [pfn, pfn + nr) from now on. */
void sim_bbm_count_range(struct sim_bbm *b, uint64_t pfn, uint64_t nr);
uint64_t sim_bbm_tables_counted(const struct sim_bbm *b);
/* Whether @pfn is a tracked table page. */
bool sim_bbm_is_table(const struct sim_bbm *b, uint64_t pfn);

#endif /* SIM_ORACLE_BBM_H */
