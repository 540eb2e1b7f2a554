/* SPDX-License-Identifier: MIT */
/*
 * The op vocabulary: the one language in which trace files, fuzzer inputs,
 * workload generators and benchmarks all speak to the executor
 * (sim/machine.c). Every driver produces struct sim_op; the recorder turns
 * any run back into a trace.
 *
 * Allocations and VMs are named by symbolic handles (small integers, h<N>
 * and vm<N> in text), never by the addresses an allocator returned, so one
 * trace replays on any allocator. Host memory is named by PFN: the host's
 * memory is identity-mapped and does not depend on any allocator.
 *
 * sim_op_descs[] describes each op's arguments once; the text and binary
 * codecs, the fuzz decoder and the statistics are driven by that table.
 */
#ifndef SIM_OP_H
#define SIM_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_op_kind {
	/* Allocator under test (any allocator). */
	SIM_OP_ALLOC,		/* h := alloc(order)                      */
	SIM_OP_FREE,		/* free(h): drop the last reference       */
	SIM_OP_GET,		/* get(h): one more reference             */
	SIM_OP_PUT,		/* put(h): one fewer; frees at zero       */
	SIM_OP_SPLIT,		/* split(h): h keeps page 0, pages 1.. become h2, h2+1, ... */

	/* Bitmap-family allocator ops (frames are PFNs). */
	SIM_OP_BM_INSERT,	/* insert(pfn=a, count=b)                 */
	SIM_OP_BM_REMOVE,	/* remove(pfn=a, count=b)                 */
	SIM_OP_BM_ALLOC,	/* h := one frame                         */
	SIM_OP_BM_ALLOC_CONTIG,	/* h := alloc_contiguous(count=a, align=b) */
	SIM_OP_BM_ALLOC_AT,	/* h := alloc at pfn=c (count=a, align=b)  */
	SIM_OP_BM_DEALLOC,	/* dealloc_contiguous(pfn=a, count=b), raw frames */
	SIM_OP_BM_TEST,		/* test(pfn=a)                            */
	SIM_OP_BM_NEXT,		/* next(pfn=a)                            */

	/* VM lifecycle. */
	SIM_OP_VM_CREATE,	/* vm := create(vcpus=a)                  */
	SIM_OP_VM_DESTROY,	/* destroy(vm)                            */

	/* Stage-2 page tables of a VM, driven directly. */
	SIM_OP_S2_MAP,		/* map(vm, ipa=a, pfn=b, pages=c, prot=d) */
	SIM_OP_S2_UNMAP,	/* unmap(vm, ipa=a, pages=c)              */
	SIM_OP_S2_PROTECT,	/* protect(vm, ipa=a, pages=c, prot=d)    */

	/* Ownership transitions (pKVM mem_protect). */
	SIM_OP_HOST_DONATE_HYP,		/* pfn=b, pages=c                 */
	SIM_OP_HYP_DONATE_HOST,		/* pfn=b, pages=c                 */
	SIM_OP_HOST_DONATE_GUEST,	/* vm, ipa=a, pfn=b, pages=c      */
	SIM_OP_HOST_SHARE_GUEST,	/* vm, ipa=a, pfn=b, pages=c, prot=d */
	SIM_OP_HOST_UNSHARE_GUEST,	/* vm, ipa=a, pfn=b, pages=c      */
	SIM_OP_GUEST_SHARE_HOST,	/* vm, ipa=a, pages=c             */
	SIM_OP_GUEST_UNSHARE_HOST,	/* vm, ipa=a, pages=c             */

	/* Faults and accesses. vm 0 is the host. */
	SIM_OP_FAULT,		/* stage-2 fault of vm at ipa=a           */
	SIM_OP_LOAD,		/* load vm/vcpu at ipa=a (value read in b) */
	SIM_OP_STORE,		/* store vm/vcpu at ipa=a, value=b        */

	/* Scheduling: run vcpu next / pick interleaving step a. */
	SIM_OP_SCHED,

	/* The byte heap (mm/heap.c); its handles are a namespace of their own. */
	SIM_OP_HALLOC,		/* h := heap alloc(size=a, align=b)       */
	SIM_OP_HFREE,		/* heap free(h), with h's size and align  */
	SIM_OP_HRECLAIM,	/* whole free chunks back to the allocator */

	/* Anaxagoros mapping tables (mm/maptab.c). */
	SIM_OP_MAPTAB_INIT,	/* frames=a, entries=b, max=c: a fresh table set */
	SIM_OP_SET_ENTRY,	/* entry=a names frame=b (0: nothing) */

	/*
	 * VM references (hvmm_vm_get/put), kept by the executor per VM: a
	 * pinned VM cannot be destroyed (EBUSY). Last, so that the binary
	 * form's kind numbers of the ops above stay as they were.
	 */
	SIM_OP_VM_PIN,		/* one more reference on vm               */
	SIM_OP_VM_UNPIN,	/* drops one the executor holds           */

	SIM_OP__COUNT,
};

/* Which struct sim_op field an argument lives in. */
enum sim_op_field {
	SIM_F_H, SIM_F_H2, SIM_F_VM, SIM_F_VCPU, SIM_F_A, SIM_F_B, SIM_F_C, SIM_F_D,
};

/* How an argument is written and checked. */
enum sim_arg_type {
	SIM_ARG_HANDLE,		/* h<N> */
	SIM_ARG_VM,		/* vm<N>, vm0 = host */
	SIM_ARG_U64,		/* decimal or 0x hex */
	SIM_ARG_ORDER,		/* 0..63 */
	SIM_ARG_PROT,		/* r, rw, rx, rwx, none */
};

#define SIM_OP_MAX_ARGS 6

struct sim_op_arg {
	const char *name;	/* key in text form, e.g. "order" */
	uint8_t field;		/* enum sim_op_field */
	uint8_t type;		/* enum sim_arg_type */
	uint8_t optional;	/* may be omitted (defaults to 0) */
	uint8_t binds;		/* the op binds a new name here (handle or VM) */
};

/* Op classes, for statistics and for drivers that only speak some ops. */
#define SIM_OPC_ALLOC	0x1u	/* generic allocator */
#define SIM_OPC_BITMAP	0x2u	/* bitmap-family allocator */
#define SIM_OPC_VM	0x4u	/* VMs, stage-2, ownership, accesses */
#define SIM_OPC_SCHED	0x8u
#define SIM_OPC_HEAP	0x10u	/* the byte heap */
#define SIM_OPC_MAPTAB	0x20u	/* Anaxagoros mapping tables */

struct sim_op_desc {
	const char *name;
	uint32_t cls;		/* SIM_OPC_* */
	uint8_t nargs;
	struct sim_op_arg args[SIM_OP_MAX_ARGS];
};

extern const struct sim_op_desc sim_op_descs[SIM_OP__COUNT];

/* Protections (SIM_ARG_PROT). */
#define SIM_PROT_R	0x1u
#define SIM_PROT_W	0x2u
#define SIM_PROT_X	0x4u

/* Flags. */
#define SIM_OP_F_EXPECT	0x1u	/* .expect holds the recorded outcome */

struct sim_op {
	uint16_t kind;		/* enum sim_op_kind */
	uint8_t flags;		/* SIM_OP_F_* */
	int8_t expect;		/* recorded result: 0 or -SIM_E* */
	uint32_t h, h2;		/* allocation handles */
	uint32_t vm, vcpu;
	uint64_t a, b, c, d;
};

/*
 * What an op returned when it ran somewhere the executor could not watch
 * (on another host thread, concurrently): its result and output, for
 * sim_machine_commit().
 */
struct sim_outcome {
	int result;
	uint64_t value;
};

/* Largest handle number accepted (bounds the executor's tables). */
#define SIM_MAX_HANDLE	(1u << 24)
#define SIM_MAX_VM	255u

/*
 * The hypervisor's limits on VMs, part of the contract every driver
 * generates ops against: VMs live at once and vCPUs per VM. They are
 * mm/'s (hvmm/vm.h), checked equal at build time by oracle/mm_layout.c,
 * so that generators and oracles need no mm/ header.
 */
#define SIM_MAX_VMS	255u
#define SIM_MAX_VCPUS	64u
/*
 * Pins the executor holds on one VM at most: a vm_pin past it is refused
 * (ERANGE) before mm/ is called, as a get past a handle's limit is.
 */
#define SIM_MAX_VM_PINS	65535u

/*
 * Op results: 0 or minus one of these. They are mm/'s return codes
 * (hvmm/types.h), which the executor passes through; oracle/mm_layout.c
 * checks at build time that the two agree.
 */
enum sim_errno {
	SIM_EINVAL = 1,		/* malformed argument */
	SIM_ENOMEM = 2,		/* no memory */
	SIM_EPERM = 3,		/* transition not allowed from the current state */
	SIM_EEXIST = 4,		/* already (partly) present */
	SIM_ENOENT = 5,		/* (partly) absent */
	SIM_EBUSY = 6,		/* (partly) in use */
	SIM_ERANGE = 7,		/* outside the managed range */
	SIM_EFAULT = 8,		/* not RAM */
	SIM_ENOTSUP = 9,	/* not supported */
	SIM_ERRNO_MAX = 9,
};

/* Op kind from its name; -1 if unknown. */
int sim_op_kind_from_name(const char *name);
/* The same from the @len bytes at @s, which need not be NUL-terminated. */
int sim_op_kind_from_span(const char *s, size_t len);

/* Reads/writes an argument's field. */
uint64_t sim_op_field_get(const struct sim_op *op, enum sim_op_field f);

/* Inline: both trace readers set every argument of every op they read through it. */
static inline void sim_op_field_set(struct sim_op *op, enum sim_op_field f, uint64_t v)
{
	switch (f) {
	case SIM_F_H: op->h = (uint32_t)v; break;
	case SIM_F_H2: op->h2 = (uint32_t)v; break;
	case SIM_F_VM: op->vm = (uint32_t)v; break;
	case SIM_F_VCPU: op->vcpu = (uint32_t)v; break;
	case SIM_F_A: op->a = v; break;
	case SIM_F_B: op->b = v; break;
	case SIM_F_C: op->c = v; break;
	case SIM_F_D: op->d = v; break;
	}
}

/*
 * Formats @op as one trace line (no newline): "alloc h3 order=2". Returns
 * what snprintf returns.
 */
int sim_op_format(const struct sim_op *op, char *buf, size_t len);

/*
 * A number as traces and the command line write it: decimal (leading
 * zeros are decimal, not octal) or 0x hex, digits only: no sign, no
 * blanks, no suffix. False on anything else or on overflow.
 */
bool sim_parse_u64(const char *s, uint64_t *out);

/*
 * The same number from the @n bytes at @s (not NUL-terminated): what
 * sim_parse_u64() parses, inline for the text reader's every argument.
 * Overflow by the carry of the multiply-add, not a division per digit.
 */
static inline bool sim_parse_u64_span(const char *s, size_t n, uint64_t *out)
{
	const char *end = s + n;
	uint64_t v = 0;

	if (!n)
		return false;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		/* Up to 16 digits cannot overflow; more are checked digit by digit. */
		bool check = n - 2 > 16;

		for (s += 2; s < end; s++) {
			unsigned int c = (unsigned char)*s, d;

			if (c - '0' < 10)
				d = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				d = (c | 0x20) - 'a' + 10;
			else
				return false;
			if (check && (v >> 60))
				return false;
			v = v << 4 | d;
		}
		*out = v;
		return true;
	}
	if (n < 20) {
		/* Up to 19 decimal digits cannot overflow. */
		for (; s < end; s++) {
			unsigned int d = (unsigned int)(unsigned char)*s - '0';

			if (d > 9)
				return false;
			v = v * 10 + d;
		}
		*out = v;
		return true;
	}
	for (; s < end; s++) {
		unsigned int d = (unsigned int)(unsigned char)*s - '0';

		if (d > 9 || __builtin_mul_overflow(v, (uint64_t)10, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return false;
	}
	*out = v;
	return true;
}

/* Protection from its text form (none, r, rw, rx, rwx, ...); -1 if unknown. */
int sim_prot_from_name(const char *name, uint64_t *prot);
int sim_prot_from_span(const char *s, size_t len, uint64_t *prot);

/* Result codes as text: "ok", "ENOMEM", ...; and back (-1 if unknown). */
const char *sim_result_name(int result);
int sim_result_from_name(const char *name, int *result);

#endif /* SIM_OP_H */
