/* SPDX-License-Identifier: MIT */
/*
 * The fuzz input format, shared by every fuzz target: fuzzer bytes become
 * a machine configuration and a stream of struct sim_op, so that every
 * input is meaningful to the executor and every crash can be written as a
 * trace.
 *
 *   input  := header op*
 *   header := flags:u8 pool:u8 pool_hi:u8 reserved:u8 offset:u8
 * (flags: vcpus - 1 in bits 0-1, allocator in bits 2-3, hypervisor pool
 * size in bits 4-7: see hyp_pool_choices; pool pages: see
 * pool_pages_of(); reserved pages; pool base in pages from RAM base)
 *   op     := selector:u8 arg*          (args as sim_op_descs[] lists them)
 *
 * The selector picks an op kind among those the target speaks (selector
 * modulo their number). Arguments are encoded by what they name:
 *   handle    a new name (alloc's h, split's first): no bytes, the next
 *             number; an existing name: one byte indexing the table of
 *             names bound so far (0xff escapes to a raw LEB128 number,
 *             folded into the names bound so far: every decoded stream
 *             is a valid trace; an op naming a handle before any was
 *             bound is skipped); inside a concurrent block of a target
 *             with vcpu_names, a free, get, put or split indexes only
 *             the names its CPU may use there (the executor's rule for
 *             shared handles), and is skipped if there are none;
 *   vm        as handles, over VMs (index 0 is the host, vm0);
 *   order     one byte, low 6 bits;  prot: one byte, low 3 bits (bytes
 *             0xf8 to 0xff add 8, HVMM_PROT_DEVICE, which mm/ must refuse);
 *   pfn       LEB128 x, an offset from the first RAM page (x even: up by
 *             x/2; x % 4 == 1: down by x/4 + 1) or from the top of the
 *             frame space (x % 4 == 3: frame 2^64 - 1 - x/4), so that a
 *             range whose end wraps past 2^64 takes one byte;
 *   ipa       LEB128 x, ipa = rotl64(x, 12): small x are page numbers;
 *   pages     LEB128 x, the count itself but for one swap: x in 64..127
 *             is x - 63 whole 2 MiB blocks (512 pages each), and the codes
 *             of those counts are 64..127 pages, so that one byte makes a
 *             range of whole blocks;
 *   others    LEB128.
 * An input with a concurrent block (a `sched` op) runs with the machine
 * seed set to a hash of its decoded ops: the seed of the PRNG that takes
 * the block's decisions past its written schedule (`sched vcpu=N step=K`),
 * so that each input tries an interleaving of its own; --print-trace
 * writes it as the trace's `seed`.
 * Decoding depends on the bytes only (never on results), so the decoded
 * ops of an input can be printed without running them, and the encoder
 * (fuzz_encoder_*) is the decoder's inverse: decode(encode(ops)) == ops
 * for any ops the decoder produced, and a trace's ops up to renaming.
 * An input that ends inside an op ends before it.
 */
#ifndef FUZZ_DECODE_H
#define FUZZ_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "op.h"

#define FUZZ_HEADER_BYTES	5
#define FUZZ_MAX_OPS		4096	/* ops decoded from one input at most */
#define FUZZ_NAME_SLOTS		255	/* names addressable by one byte */
#define FUZZ_ESCAPE		0xff	/* raw name follows */
#define FUZZ_CLAIM_CPUS		4	/* CPUs of a block whose claims vcpu_names models */
#define FUZZ_BLOCK_PAGES	512u	/* pages of a 2 MiB stage-2 block */
#define FUZZ_PAGES_BLOCK_CODE	64u	/* first one-byte pages code naming whole blocks */

/* Simulated memory of every target: RAM bank 0, where the pool lives. */
#define FUZZ_RAM_BASE		0x80000000ULL
#define FUZZ_RAM_SIZE		(32ULL << 20)
#define FUZZ_POOL_MAX_PAGES	1024u
#define FUZZ_HYP_POOL_PAGES	256u	/* stage-2 table pages, when the target runs VMs */
#define FUZZ_HYP_POOL_MAX_PAGES	2048u	/* the largest a header picks: every VMID in use */

/* One fuzz target: which ops its inputs speak and what they run on. */
struct fuzz_target {
	const char *name;
	uint32_t classes;			/* SIM_OPC_* the inputs speak */
	const uint16_t *kinds;			/* or this list (SIM_OP__COUNT-terminated) */
	const char *const *allocators;		/* picked by the header; NULL-terminated */
	bool extra_regions;			/* a second RAM bank, ending inside a 2 MiB block, and an MMIO window */
	bool raw_trace;				/* inputs are trace files, not decoded */
	/*
	 * Concurrent blocks (sim/machine_conc.h): `sched` ops name CPUs below
	 * this, schedule runs are at most 64 decisions, and maptab_init asks
	 * for small tables, so that an input is a race of a few vCPUs, not a
	 * thousand programs. 0: values as decoded.
	 */
	unsigned int max_vcpus;
	/*
	 * Inside a concurrent block, a used handle is picked among those the
	 * issuing CPU may name there (the executor's rule for handles shared
	 * by CPUs, traces/FORMAT.md), not among every live one: an op it
	 * would refuse (EBUSY) costs the input a byte and tests nothing.
	 */
	bool vcpu_names;
};

/* The names an op stream has bound, as the decoder models them. */
struct fuzz_names {
	uint32_t h[FUZZ_NAME_SLOTS];
	uint8_t order[FUZZ_NAME_SLOTS];
	uint32_t refs[FUZZ_NAME_SLOTS];
	unsigned int nr_h;
	uint32_t next_h;
	uint32_t vm[FUZZ_NAME_SLOTS];		/* vm[0] is the host */
	uint32_t vm_pins[FUZZ_NAME_SLOTS];	/* vm_pin ops minus vm_unpin ops on each */
	unsigned int nr_vm;
	uint32_t next_vm;
	/*
	 * The concurrent block (from the first `sched`), for vcpu_names: the
	 * CPU whose program the next op joins, and per handle what the
	 * block's ops so far claimed of it, as the executor counts it.
	 */
	bool in_block;
	uint8_t cpu;
	struct fuzz_claim {
		uint8_t cpus;			/* CPUs that name it, a bit each */
		bool excl;			/* created, freed or split in the block */
		uint32_t start_refs;		/* references as the block starts */
		uint32_t need;			/* all CPUs' needs together */
		int32_t bal[FUZZ_CLAIM_CPUS];	/* each CPU's gets minus puts */
		uint32_t cpu_need[FUZZ_CLAIM_CPUS];
	} claim[FUZZ_NAME_SLOTS];
};

struct fuzz_decoder {
	const struct fuzz_target *t;
	const uint8_t *p, *end;
	uint16_t kinds[SIM_OP__COUNT];
	unsigned int nr_kinds;
	uint64_t ram_pfn;
	uint64_t ops;
	bool skip;			/* the op being decoded names nothing defined */
	bool bind;			/* it binds names, once its arguments are read */
	struct fuzz_names names;
};

/* Reads the header into @cfg (a complete, valid machine configuration). */
void fuzz_decoder_init(struct fuzz_decoder *d, const struct fuzz_target *t,
		       const uint8_t *data, size_t size, struct sim_machine_config *cfg);
/* The next op; false at the end of the input. */
bool fuzz_decoder_next(struct fuzz_decoder *d, struct sim_op *op);

/* Growable byte buffer the encoder writes into. */
struct fuzz_buf {
	uint8_t *data;
	size_t len, cap;
};
void fuzz_buf_free(struct fuzz_buf *b);

/*
 * The inverse: a configuration and ops in, input bytes out. Names in the
 * ops are mapped to the decoder's numbering as they are bound; names used
 * but never bound are escaped. Returns -1 (and says why in @err) for an op
 * the target does not speak or a value the format cannot carry.
 */
struct fuzz_encoder {
	struct fuzz_decoder d;		/* the model, kept in step */
	struct fuzz_buf out;
	uint32_t *hmap;			/* trace handle -> decoder handle, 0 if unbound */
	uint32_t nr_hmap;
	uint32_t vmap[SIM_MAX_VM + 1];
};

int fuzz_encoder_init(struct fuzz_encoder *e, const struct fuzz_target *t,
		      const struct sim_machine_config *cfg, char *err, size_t errlen);
int fuzz_encoder_add(struct fuzz_encoder *e, const struct sim_op *op, char *err, size_t errlen);
void fuzz_encoder_fini(struct fuzz_encoder *e);

/*
 * The hypervisor pool of @t's machines when an input runs VM-side ops (an
 * input of allocator ops only runs without: see fuzz_decoder_init()).
 */
uint64_t fuzz_target_hyp_pool_pages(const struct fuzz_target *t);

/* True if a header can say a hypervisor pool of @pages (bits 4-7 of its first byte). */
bool fuzz_hyp_pool_representable(uint64_t pages);

/* The op kinds @t speaks, as the decoder orders them; returns their number. */
unsigned int fuzz_target_kinds(const struct fuzz_target *t, uint16_t *kinds);

#endif /* FUZZ_DECODE_H */
