/* SPDX-License-Identifier: MIT */
/*
 * SPEC: the reference model of page ownership, in the spirit of pKVM's
 * executable spec of mem_protect and SeKVM's ownership proofs. One plain
 * model of who owns each page and what each VM's IPA space holds, with
 * the preconditions of every transition, written from the contract in
 * mm/include/hvmm/mem_protect.h (not from mm/'s code): it never calls
 * mm/, uses none of mm/'s encodings and reads none of mm/'s bookkeeping.
 * It judges by the op stream and its own state.
 *
 * It is the one copy of the transition rules: the executor asks it for
 * the result every op must return (success or the exact error code) and
 * keeps it as the ownership shadow the other oracles compare mm/ with;
 * the workload generators and the ownership table test ask it what is
 * legal now.
 *
 * States of a physical page of RAM:
 *  HOST         the host's alone (the state of all RAM at boot)
 *  HOST_SHARED  the host's, lent into guests @shares times (BORROWED leaves)
 *  HYP          donated to the hypervisor by the host; may be given back
 *  HYP_BOOT     the hypervisor's own since boot (its pools): never given back
 *  GUEST        donated to guest @vm
 *  GUEST_LENT   guest @vm's, lent back to the host
 * A page that is not RAM has no state: it cannot be donated or shared.
 *
 * States of a page of a guest's IPA space: empty, OWNED (the guest's page,
 * mapped or parked), LENT (the guest's, mapped, lent to the host),
 * BORROWED (a host page shared into the guest, mapped).
 *
 * The contract's checks, in the order that decides which error a bad op
 * returns (the first failing check wins):
 *  1. the executor: no such VM (-ENOENT; vm0 where a guest is needed:
 *     -EINVAL), a vCPU out of range or a misaligned access (-EINVAL);
 *  2. arguments: a physical range that is empty, over 1 GiB or beyond the
 *     48-bit output address space (-EINVAL) or not inside one RAM bank
 *     (-EFAULT); an IPA range that is empty, over 1 GiB or misaligned
 *     (-EINVAL) or beyond the VM's IPA space (-ERANGE); a protection with
 *     bits other than RWX (-EINVAL). Host-side ops check the physical
 *     range first, then the IPA range, then the protection; guest-side
 *     ops that name pages (s2_map) check the IPA range, the protection,
 *     then the physical range;
 *  3. states: the host-side pages, every one (-EPERM), then the guest's
 *     IPA range: for a donation or share every page empty (-EEXIST); for
 *     ops on existing guest pages, page by page in IPA order, the first
 *     empty page gives -ENOENT and the first page in the wrong state (or
 *     not backed by the named physical page) gives -EPERM;
 *  4. resources: a legal op may still fail with -ENOMEM (the hypervisor's
 *     table pool), and then changes nothing. That is the only freedom
 *     mm/ has; the model does not guess pool occupancy.
 *
 * VM lifetime (mm/include/hvmm/vm.h): the model counts the references
 * vm_pin takes (hvmm_vm_get) and vm_unpin drops, on its own. A pin of a
 * VM that is not live fails with -ENOENT, one past SIM_MAX_VM_PINS with
 * -ERANGE (the executor's limit); an unpin with no pin held is the
 * caller's error, refused by the executor with -ENOENT before mm/ sees
 * it. A destroy of a pinned VM must fail with -EBUSY and change nothing;
 * of a live VM nobody pins it must succeed: it needs no memory, so not
 * even -ENOMEM is allowed.
 */
#ifndef SIM_ORACLE_SPEC_H
#define SIM_ORACLE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"
#include "oracle/ideal.h"

enum sim_spec_state {
	SPEC_HOST = 0,		/* zero: all RAM starts as the host's */
	SPEC_HOST_SHARED,
	SPEC_HYP,
	SPEC_HYP_BOOT,
	SPEC_GUEST,
	SPEC_GUEST_LENT,
};

/* A guest IPA page (struct sim_ipage .state in the model's spaces). */
enum sim_spec_ipa {
	SPEC_IPA_EMPTY = 0,	/* not in the space: returned by lookups only */
	SPEC_IPA_OWNED,		/* .parked: unmapped, the guest keeps it */
	SPEC_IPA_LENT,
	SPEC_IPA_BORROWED,
};

struct sim_spec_page {
	uint8_t state;		/* enum sim_spec_state */
	uint8_t vm;		/* GUEST, GUEST_LENT: the VM (the op's vm<N>) */
	uint16_t unused;
	uint32_t shares;	/* HOST_SHARED: BORROWED leaves naming it */
	uint32_t maps;		/* guest leaves mapping it (parked ones aside) */
};

#define SPEC_MAX_RAM	16
#define SPEC_NO_PFN	UINT64_MAX

struct sim_spec_config {
	struct { uint64_t pfn, nr; } ram[SPEC_MAX_RAM];	/* sorted, disjoint */
	unsigned int nr_ram;
	uint64_t base_pfn, nr_pfns;	/* pages the model keeps a state for */
	uint64_t guest_ia_size;		/* bytes of IPA space of every guest */
	uint64_t host_ia_size;		/* bytes the host's stage-2 covers */
	unsigned int host_vcpus;
	unsigned int max_vms, max_vcpus;	/* VMs live at once, vCPUs per VM */
	uint64_t pick_from;		/* first pfn the host offers to guest faults */
};

struct sim_spec_vm {
	bool live;
	unsigned int vcpus;
	uint32_t pins;		/* vm_pin references the executor holds */
};

struct sim_spec {
	struct sim_spec_config cfg;
	struct sim_spec_page *pages;		/* [nr_pfns] */
	uint64_t lo, hi;			/* indices ever written */
	struct sim_spec_vm vms[SIM_MAX_VM + 1];
	struct sim_space spaces[SIM_MAX_VM + 1];	/* guests' IPA pages */
	unsigned int nr_live;
	uint64_t pick_cursor;
};

/*
 * What an op must do. @result: 0 or -SIM_E*; @may_enomem: a legal op
 * that needs table pages, which may fail with -ENOMEM instead; @pfn: for
 * a guest fault on an empty IPA, the page the host donates (the host's
 * choice, made here, so that the executor and the model agree on it);
 * @judged: false for what the model does not decide (host accesses
 * outside RAM, ops on other layers).
 */
struct sim_spec_verdict {
	int result;
	bool may_enomem;
	bool judged;
	uint64_t pfn;
};

int sim_spec_init(struct sim_spec *s, const struct sim_spec_config *cfg);
void sim_spec_fini(struct sim_spec *s);

/* Boot: the hypervisor takes [pfn, pfn + nr) for good (its pools). */
void sim_spec_hyp_boot(struct sim_spec *s, uint64_t pfn, uint64_t nr);

bool sim_spec_is_ram(const struct sim_spec *s, uint64_t pfn);
/* NULL outside the model's range. */
const struct sim_spec_page *sim_spec_page(const struct sim_spec *s, uint64_t pfn);
/* vm@v's page at @ipa (page-aligned), NULL if empty. */
const struct sim_ipage *sim_spec_ipa(struct sim_spec *s, unsigned int v, uint64_t ipa);
/* The host may read and write page @pfn of RAM. */
bool sim_spec_host_may_access(const struct sim_spec *s, uint64_t pfn);
static inline bool sim_spec_vm_live(const struct sim_spec *s, unsigned int v)
{
	return v && v <= SIM_MAX_VM && s->vms[v].live;
}

/*
 * The result @op must have. Pure but for the host's page choice on a
 * guest fault, which advances the pick cursor as the host would.
 */
struct sim_spec_verdict sim_spec_predict(struct sim_spec *s, const struct sim_op *op);
/* Applies @op, which succeeded as @v predicted. */
void sim_spec_apply(struct sim_spec *s, const struct sim_op *op, const struct sim_spec_verdict *v);

/*
 * A page the host owns alone, offered to a guest fault on an empty IPA:
 * the host's choice (a cursor over RAM), SPEC_NO_PFN if none is found.
 */
uint64_t sim_spec_pick_host_page(struct sim_spec *s);

/*
 * @kind changes a guest's IPA pages (op a = first IPA, c = pages) when it
 * succeeds: the pages whose tables the oracles read after it.
 */
bool sim_spec_op_changes_ipas(unsigned int kind);

/* "host", "host-shared", ... */
const char *sim_spec_state_name(unsigned int state);

#endif /* SIM_ORACLE_SPEC_H */
