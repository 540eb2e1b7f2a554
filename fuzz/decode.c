// SPDX-License-Identifier: MIT
/*
 * The fuzz input decoder and its inverse, the encoder (format in decode.h).
 * Both are driven by sim_op_descs[]: what an argument is (a name being
 * bound, a name being used, an order, a protection, a PFN, an IPA, a
 * number) decides how it is read and written.
 */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

/* Largest order whose split the model reserves names for. */
#define MODEL_MAX_ORDER		12
/* Handle numbers the decoder hands out at most (bounds the executor's table). */
#define MODEL_MAX_HANDLE	(1u << 16)

enum codec { C_NEW_H, C_H, C_NEW_VM, C_VM, C_ORDER, C_PROT, C_PFN, C_IPA, C_PAGES, C_U64 };

static enum codec arg_codec(const struct sim_op_arg *a)
{
	switch (a->type) {
	case SIM_ARG_HANDLE: return a->binds ? C_NEW_H : C_H;
	case SIM_ARG_VM: return a->binds ? C_NEW_VM : C_VM;
	case SIM_ARG_ORDER: return C_ORDER;
	case SIM_ARG_PROT: return C_PROT;
	default: break;
	}
	if (!strcmp(a->name, "pfn"))
		return C_PFN;
	if (!strcmp(a->name, "ipa"))
		return C_IPA;
	if (!strcmp(a->name, "pages"))
		return C_PAGES;
	return C_U64;
}

static uint64_t rotl64(uint64_t x, unsigned int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * A frame number from its code @x, counted from one of two places a host
 * names frames near: the first RAM page @ram (upward for even @x, downward
 * to frame 0 for @x % 4 == 1) or the top of the 64-bit frame space
 * (downward, @x % 4 == 3), where a hostile host puts a range whose end
 * wraps past 2^64. A few bits name any of those frames; the rest of the
 * space is reached by long codes (@x % 4 == 1 past frame 0 goes on from
 * where the even codes stop), so every frame has exactly one code.
 */
static uint64_t pfn_decode(uint64_t x, uint64_t ram)
{
	uint64_t j = x >> 2;

	if (!(x & 1))
		return ram + (x >> 1);
	if (x & 2)
		return ~j;
	return j < ram ? ram - 1 - j : j + (1ULL << 63);
}

static uint64_t pfn_encode(uint64_t pfn, uint64_t ram)
{
	if (pfn - ram < 1ULL << 63)
		return (pfn - ram) << 1;
	if (pfn < ram)
		return (ram - 1 - pfn) << 2 | 1;
	if (pfn >= 0 - (1ULL << 62))
		return ~pfn << 2 | 3;
	return (pfn - (1ULL << 63)) << 2 | 1;
}

/*
 * A range's length in pages from its code @x, and back (the same swap):
 * the one-byte codes 64..127 name 1..64 whole 2 MiB blocks, and the codes
 * of those block counts name 64..127 pages. Blocks are where stage-2
 * tables change shape (a block mapped by a host access, broken whole by a
 * donation, split by a part of it), and a range of whole blocks was a
 * two-byte code that no one-byte mutation of a page count reached: now
 * any byte of 64..127 in a count makes one.
 */
static uint64_t pages_code(uint64_t x)
{
	if (x >= FUZZ_PAGES_BLOCK_CODE && x < 2 * FUZZ_PAGES_BLOCK_CODE)
		return (x - FUZZ_PAGES_BLOCK_CODE + 1) * FUZZ_BLOCK_PAGES;
	if (x && !(x % FUZZ_BLOCK_PAGES) && x / FUZZ_BLOCK_PAGES <= FUZZ_PAGES_BLOCK_CODE)
		return x / FUZZ_BLOCK_PAGES - 1 + FUZZ_PAGES_BLOCK_CODE;
	return x;
}

unsigned int fuzz_target_kinds(const struct fuzz_target *t, uint16_t *kinds)
{
	unsigned int n = 0;

	if (t->kinds) {
		for (; t->kinds[n] < SIM_OP__COUNT; n++)
			kinds[n] = t->kinds[n];
		return n;
	}
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++)
		if (sim_op_descs[k].cls & t->classes)
			kinds[n++] = (uint16_t)k;
	return n;
}

static unsigned int nr_allocators(const struct fuzz_target *t)
{
	unsigned int n = 0;

	while (t->allocators && t->allocators[n])
		n++;
	return n;
}

/* --- the name model ------------------------------------------------------ */

static int find_h(const struct fuzz_names *n, uint32_t h)
{
	for (unsigned int i = 0; i < n->nr_h; i++)
		if (n->h[i] == h)
			return (int)i;
	return -1;
}

static int find_vm(const struct fuzz_names *n, uint32_t vm)
{
	for (unsigned int i = 0; i < n->nr_vm; i++)
		if (n->vm[i] == vm)
			return (int)i;
	return -1;
}

static void remove_h(struct fuzz_names *n, int i)
{
	if (i < 0)
		return;
	n->nr_h--;
	n->h[i] = n->h[n->nr_h];
	n->order[i] = n->order[n->nr_h];
	n->refs[i] = n->refs[n->nr_h];
	n->claim[i] = n->claim[n->nr_h];
}

static void push_h(struct fuzz_names *n, uint32_t h, unsigned int order)
{
	if (n->nr_h == FUZZ_NAME_SLOTS)
		return;		/* bound, but not addressable by one byte */
	n->h[n->nr_h] = h;
	n->order[n->nr_h] = (uint8_t)order;
	n->refs[n->nr_h] = 1;
	/* Made inside a block: its CPU's alone (an alloc or a split claims it whole). */
	n->claim[n->nr_h] = (struct fuzz_claim){
		.cpus = n->in_block ? (uint8_t)(1u << n->cpu) : 0, .excl = n->in_block,
	};
	n->nr_h++;
}

/*
 * The executor's rule for a handle that CPUs of a block share (conc_claim
 * in sim/machine.c, traces/FORMAT.md): only get and put, and the
 * references it has as the block starts cover each CPU's own need (the
 * most it drops beyond what it took, plus one for a get). Whether the
 * current CPU's @kind on slot @i keeps to it; @commit counts it if so.
 */
static bool claim_h(struct fuzz_names *n, int i, unsigned int kind, bool commit)
{
	struct fuzz_claim c = n->claim[i];
	unsigned int cpu = n->cpu;

	c.cpus |= (uint8_t)(1u << cpu);
	if (kind == SIM_OP_GET || kind == SIM_OP_PUT) {
		uint32_t need = c.bal[cpu] < 1 ? (uint32_t)(1 - c.bal[cpu]) : 0;

		if (need > c.cpu_need[cpu]) {
			c.need += need - c.cpu_need[cpu];
			c.cpu_need[cpu] = need;
		}
		c.bal[cpu] += kind == SIM_OP_GET ? 1 : -1;
	} else {
		c.excl = true;
	}
	if ((c.cpus & (c.cpus - 1)) && (c.excl || c.need > c.start_refs))
		return false;
	if (commit)
		n->claim[i] = c;
	return true;
}

/* Whether handles of @kind's ops are picked among the CPU's legal ones (see claim_h). */
static bool picks_legal(const struct fuzz_decoder *d, unsigned int kind)
{
	if (!d->t->vcpu_names || !d->names.in_block)
		return false;
	return kind == SIM_OP_FREE || kind == SIM_OP_GET || kind == SIM_OP_PUT ||
	       kind == SIM_OP_SPLIT;
}

/* The handles the current CPU's op @kind may name, in table order. */
static unsigned int legal_h(struct fuzz_names *n, unsigned int kind, uint32_t *cand)
{
	unsigned int nc = 0;

	for (unsigned int i = 0; i < n->nr_h; i++)
		if (claim_h(n, (int)i, kind, false))
			cand[nc++] = n->h[i];
	return nc;
}

/* The block starts at its first `sched`: claims count from the references then. */
static void block_sched(struct fuzz_names *n, const struct sim_op *op)
{
	if (!n->in_block) {
		n->in_block = true;
		n->cpu = 0;
		for (unsigned int i = 0; i < n->nr_h; i++)
			n->claim[i] = (struct fuzz_claim){ .start_refs = n->refs[i] };
	}
	if (!op->a)
		n->cpu = (uint8_t)(op->vcpu % FUZZ_CLAIM_CPUS);
}

/* Binds @count handles from next_h; returns the first. */
static uint32_t bind_h(struct fuzz_names *n, uint64_t count, unsigned int order)
{
	uint32_t first = n->next_h;

	if (n->next_h + count > MODEL_MAX_HANDLE)
		return first;	/* out of numbers: names are reused */
	for (uint64_t i = 0; i < count; i++)
		push_h(n, first + (uint32_t)i, order);
	n->next_h += (uint32_t)count;
	return first;
}

/* The model's reaction to a decoded op (its bindings are done already). */
static void model_use(struct fuzz_names *n, const struct sim_op *op)
{
	int i;

	switch (op->kind) {
	case SIM_OP_FREE:
	case SIM_OP_HFREE:
		remove_h(n, find_h(n, op->h));
		break;
	case SIM_OP_GET:
		i = find_h(n, op->h);
		if (i >= 0)
			n->refs[i]++;
		break;
	case SIM_OP_PUT:
		i = find_h(n, op->h);
		if (i >= 0 && --n->refs[i] == 0)
			remove_h(n, i);
		break;
	case SIM_OP_VM_DESTROY:
		/* A pinned VM stays (the destroy is refused): later ops may name it. */
		i = find_vm(n, op->vm);
		if (i > 0 && !n->vm_pins[i]) {
			n->nr_vm--;
			n->vm[i] = n->vm[n->nr_vm];
			n->vm_pins[i] = n->vm_pins[n->nr_vm];
		}
		break;
	case SIM_OP_VM_PIN:
		i = find_vm(n, op->vm);
		if (i > 0)
			n->vm_pins[i]++;
		break;
	case SIM_OP_VM_UNPIN:
		i = find_vm(n, op->vm);
		if (i > 0 && n->vm_pins[i])
			n->vm_pins[i]--;
		break;
	default:
		break;
	}
}

/* Handles a binding argument of @op binds, and the order the model gives them. */
static uint64_t bind_count(const struct fuzz_names *n, const struct sim_op *op,
			   unsigned int *order)
{
	int i;

	*order = 0;
	if (op->kind == SIM_OP_ALLOC) {
		*order = op->a <= MODEL_MAX_ORDER ? (unsigned int)op->a : 0;
		return 1;
	}
	if (op->kind != SIM_OP_SPLIT)
		return 1;
	/* split(h): pages 1.. of h's block become handles first, first + 1, ... */
	i = find_h(n, op->h);
	return i < 0 ? 0 : (1ULL << n->order[i]) - 1;
}

static void after_split(struct fuzz_names *n, const struct sim_op *op)
{
	int i = find_h(n, op->h);

	if (i >= 0)
		n->order[i] = 0;
}

/* --- decoding ------------------------------------------------------------ */

static bool get_u8(struct fuzz_decoder *d, uint8_t *v)
{
	if (d->p >= d->end)
		return false;
	*v = *d->p++;
	return true;
}

static bool get_leb(struct fuzz_decoder *d, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned int shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (!get_u8(d, &b))
			return false;
		if (shift < 64)
			x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	*v = x;		/* overlong: the rest of the group is ignored */
	return true;
}

/*
 * A run costs about what its pool's size does, so random headers mostly
 * give small pools: 1..64 pages unless bits 2..4 of the second byte are
 * clear, then 1..1024.
 */
static uint64_t pool_pages_of(uint8_t lo, uint8_t hi)
{
	if (hi & 0x1c)
		return 1 + (lo & 0x3f);
	return 1 + (lo | (uint64_t)(hi & 3) << 8);
}

/*
 * The hypervisor pool's size, the first byte's high nibble: the default,
 * one small enough that VM ops run it dry (out-of-memory paths in the
 * middle of a transition; 256 pages took about 169 VMs), or, with bit 7
 * and no other, one that holds a VM in every VMID (255 VMs' roots and
 * structures take over 1,024 pages). That large pool is the only one that
 * reaches the VM table's last slot; one random header in sixteen picks it,
 * as its set-up costs eight default ones.
 */
static const uint16_t hyp_pool_choices[16] = {
	FUZZ_HYP_POOL_PAGES, 16, 20, 24, 32, 48, 64, 128,
	FUZZ_HYP_POOL_MAX_PAGES, 16, 20, 24, 32, 48, 64, 128,
};

static unsigned int hyp_pool_code(uint64_t pages)
{
	for (unsigned int i = 0; i < 16; i++)
		if (hyp_pool_choices[i] == pages)
			return i;
	return 0;
}

bool fuzz_hyp_pool_representable(uint64_t pages)
{
	return pages && hyp_pool_choices[hyp_pool_code(pages)] == pages;
}

static bool speaks_vms(const struct fuzz_decoder *d)
{
	for (unsigned int i = 0; i < d->nr_kinds; i++)
		if (sim_op_descs[d->kinds[i]].cls & SIM_OPC_VM)
			return true;
	return false;
}

uint64_t fuzz_target_hyp_pool_pages(const struct fuzz_target *t)
{
	struct fuzz_decoder d;

	d.nr_kinds = fuzz_target_kinds(t, d.kinds);
	return speaks_vms(&d) ? FUZZ_HYP_POOL_PAGES : 0;
}

/* What the input's ops say before they run (scan_input). */
struct input_scan {
	bool vm_side;		/* an op reaches the VM side (not only the allocator) */
	bool block;		/* a `sched` op: the input has a concurrent block */
	uint64_t hash;		/* of every decoded op, when @block */
};

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

/*
 * Decodes the input from @d on without running it: whether it reaches
 * the VM side (if @vm_side), and a hash of its ops (if @seed: targets
 * with concurrent blocks). The hash is of the decoded ops, field by
 * field, not of the bytes, so that an input and its re-encoding
 * (fuzz_encoder_*) agree.
 */
static void scan_input(const struct fuzz_decoder *d, bool vm_side, bool seed,
		       struct input_scan *s)
{
	struct fuzz_decoder scan = *d;
	struct sim_op op;

	*s = (struct input_scan){ .hash = 0xcbf29ce484222325ULL };
	while ((vm_side || seed) && fuzz_decoder_next(&scan, &op)) {
		uint32_t cls = sim_op_descs[op.kind].cls;

		/*
		 * A target of the whole machine counts its schedule too; one
		 * that adds VM ops to others (conc) only those, so that its
		 * inputs without them run as they did before it spoke VMs.
		 */
		if (vm_side && ((cls & SIM_OPC_VM) ||
				((d->t->classes & SIM_OPC_VM) &&
				 !(cls & (SIM_OPC_ALLOC | SIM_OPC_BITMAP))))) {
			s->vm_side = true;
			vm_side = false;
		}
		if (!seed)
			continue;
		if (op.kind == SIM_OP_SCHED)
			s->block = true;
		s->hash = hash_mix(s->hash, op.kind | (uint64_t)op.flags << 16);
		s->hash = hash_mix(s->hash, op.h | (uint64_t)op.h2 << 32);
		s->hash = hash_mix(s->hash, op.vm | (uint64_t)op.vcpu << 32);
		s->hash = hash_mix(s->hash, op.a);
		s->hash = hash_mix(s->hash, op.b);
		s->hash = hash_mix(s->hash, op.c);
		s->hash = hash_mix(s->hash, op.d);
	}
}

void fuzz_decoder_init(struct fuzz_decoder *d, const struct fuzz_target *t,
		       const uint8_t *data, size_t size, struct sim_machine_config *cfg)
{
	uint8_t hdr[FUZZ_HEADER_BYTES] = { 0 };
	unsigned int nalloc = nr_allocators(t);
	uint64_t pool_pages, reserved;
	struct input_scan scan;

	memset(d, 0, sizeof(*d));
	d->t = t;
	memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	d->p = data + (size < sizeof(hdr) ? size : sizeof(hdr));
	d->end = data + size;
	d->nr_kinds = fuzz_target_kinds(t, d->kinds);
	d->ram_pfn = FUZZ_RAM_BASE >> HVMM_PAGE_SHIFT;
	d->names.next_h = 1;
	d->names.vm[0] = 0;
	d->names.nr_vm = 1;
	d->names.next_vm = 1;

	sim_machine_config_default(cfg);
	cfg->regions[0] = (struct sim_region_config){ SIM_REGION_RAM, FUZZ_RAM_BASE, FUZZ_RAM_SIZE };
	cfg->nr_regions = 1;
	if (t->extra_regions) {
		/*
		 * The second bank ends 1 MiB into a 2 MiB block, with a hole
		 * after it: the host stage-2 must map that block page by page
		 * (Normal over RAM, Device over the hole), never as one block.
		 */
		cfg->regions[1] = (struct sim_region_config){
			SIM_REGION_RAM, FUZZ_RAM_BASE + 2 * FUZZ_RAM_SIZE, 3ULL << 20 };
		cfg->regions[2] = (struct sim_region_config){ SIM_REGION_MMIO, 0x09000000ULL, 1ULL << 20 };
		cfg->nr_regions = 3;
	}
	if (nalloc)
		snprintf(cfg->allocator, sizeof(cfg->allocator), "%s",
			 t->allocators[((hdr[0] >> 2) & 3) % nalloc]);
	cfg->vcpus = 1 + (hdr[0] & 3);
	pool_pages = pool_pages_of(hdr[1], hdr[2]);
	reserved = hdr[3];
	cfg->pool_pages = pool_pages;
	cfg->pool_reserved = reserved < pool_pages ? reserved : pool_pages;
	cfg->pool_base = FUZZ_RAM_BASE + ((uint64_t)hdr[4] << HVMM_PAGE_SHIFT);
	/*
	 * The hypervisor's table pool only where VMs run: it is set up per run,
	 * and is most of the cost of an input of allocator ops only (which then
	 * runs without the VM side). Decided from the bytes, as all decoding
	 * is, so that a run, its trace and its replay agree.
	 */
	scan_input(d, speaks_vms(d), t->max_vcpus != 0, &scan);
	cfg->hyp_pool_pages = hyp_pool_choices[hdr[0] >> 4];
	if (!scan.vm_side)
		cfg->hyp_pool_pages = 0;
	/*
	 * A concurrent block takes the decisions its written schedule (`sched
	 * vcpu=N step=K`) does not make from a PRNG seeded with the machine's
	 * seed. Seeded with the hash of the input's ops, every input the
	 * fuzzer makes tries another interleaving past its written schedule,
	 * where a fixed seed tried the same one for every input with the
	 * same written decisions: a race that needs its preemption at one
	 * decision was found only by writing the schedule up to it, and the
	 * decisions are counted at instrumentation points that differ from
	 * one compiler to another. The seed is the trace's (`seed`, which
	 * --print-trace writes), so a find replays as its input ran.
	 */
	if (scan.block)
		cfg->seed = scan.hash;
	cfg->oracles = SIM_ORACLES_INCREMENTAL;
	cfg->sweep_interval = 0;
	cfg->report_stream = NULL;
}

/*
 * A name: by index into @table, or raw. Only names defined earlier in the
 * stream, [@lo, @end), come out (a raw one outside is folded in), so that
 * every decoded op stream is a valid trace; @end > @lo.
 */
static bool get_name(struct fuzz_decoder *d, const uint32_t *table, unsigned int n,
		     uint32_t lo, uint32_t end, uint32_t *v)
{
	uint8_t b;
	uint64_t raw;

	if (!get_u8(d, &b))
		return false;
	if (b == FUZZ_ESCAPE) {
		if (!get_leb(d, &raw))
			return false;
		*v = raw >= lo && raw < end ? (uint32_t)raw : lo + (uint32_t)(raw % (end - lo));
		return true;
	}
	*v = n ? table[b % n] : lo + b % (end - lo);
	return true;
}

static bool decode_arg(struct fuzz_decoder *d, struct sim_op *op, const struct sim_op_arg *a)
{
	struct fuzz_names *n = &d->names;
	uint64_t v = 0;
	uint32_t name;
	uint8_t b;

	switch (arg_codec(a)) {
	case C_NEW_H:
		/*
		 * The next numbers, bound once the op's other arguments are
		 * read: an alloc's order comes after its handle, and a split
		 * of the block binds a handle for each page past the first.
		 */
		d->bind = !d->skip;
		v = n->next_h;
		break;
	case C_H:
		if (n->next_h == 1) {
			/* No handle defined yet: the op has nothing to name and is skipped. */
			d->skip = true;
			if (!get_u8(d, &b) || (b == FUZZ_ESCAPE && !get_leb(d, &v)))
				return false;
			break;
		}
		if (picks_legal(d, op->kind)) {
			uint32_t cand[FUZZ_NAME_SLOTS];
			unsigned int nc = legal_h(n, op->kind, cand);

			/* None it may name: skipped, as with no handle at all (an escape still names any). */
			if (!nc) {
				if (!get_u8(d, &b))
					return false;
				if (b != FUZZ_ESCAPE) {
					d->skip = true;
					break;
				}
				d->p--;
			}
			if (!get_name(d, cand, nc, 1, n->next_h, &name))
				return false;
		} else if (!get_name(d, n->h, n->nr_h, 1, n->next_h, &name)) {
			return false;
		}
		v = name;
		break;
	case C_NEW_VM:
		if (d->skip)
			break;
		/* Past the last VM number, creates name the last one again. */
		v = n->next_vm <= SIM_MAX_VM ? n->next_vm : SIM_MAX_VM;
		if (n->next_vm <= SIM_MAX_VM) {
			n->next_vm++;
			if (n->nr_vm < FUZZ_NAME_SLOTS) {
				n->vm_pins[n->nr_vm] = 0;
				n->vm[n->nr_vm++] = (uint32_t)v;
			}
		}
		break;
	case C_VM:
		if (!get_name(d, n->vm, n->nr_vm, 0, n->next_vm, &name))
			return false;
		v = name;
		break;
	case C_ORDER:
		if (!get_u8(d, &b))
			return false;
		v = b & 63;
		break;
	case C_PROT:
		/*
		 * r, w, x; the top eight byte values add HVMM_PROT_DEVICE (8), a
		 * word the host may pass and mm/ must refuse.
		 */
		if (!get_u8(d, &b))
			return false;
		v = b >= 0xf8 ? 8u | (b & 7) : b & 7;
		break;
	case C_PFN:
		if (!get_leb(d, &v))
			return false;
		v = pfn_decode(v, d->ram_pfn);
		break;
	case C_IPA:
		if (!get_leb(d, &v))
			return false;
		v = rotl64(v, HVMM_PAGE_SHIFT);
		break;
	case C_PAGES:
		if (!get_leb(d, &v))
			return false;
		v = pages_code(v);
		break;
	case C_U64:
		if (!get_leb(d, &v))
			return false;
		break;
	}
	sim_op_field_set(op, a->field, v);
	return true;
}

/* Folds @v into [lo, hi], leaving values already there alone (the encoder inverts it). */
static uint64_t fold(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi ? v : lo + v % (hi - lo + 1);
}

static void small_block(const struct fuzz_target *t, struct sim_op *op)
{
	if (op->kind == SIM_OP_SCHED) {
		op->vcpu = (uint32_t)fold(op->vcpu, 0, t->max_vcpus - 1);
		op->a = fold(op->a, 0, 64);
	} else if (op->kind == SIM_OP_MAPTAB_INIT) {
		op->a = fold(op->a, 1, 8);
		op->b = fold(op->b, 1, 16);
		op->c = fold(op->c, 1, 4);
	}
}

bool fuzz_decoder_next(struct fuzz_decoder *d, struct sim_op *op)
{
	const struct sim_op_desc *desc;
	uint8_t sel;

again:
	if (d->ops >= FUZZ_MAX_OPS || !d->nr_kinds || !get_u8(d, &sel))
		return false;
	memset(op, 0, sizeof(*op));
	op->kind = d->kinds[sel % d->nr_kinds];
	desc = &sim_op_descs[op->kind];
	d->skip = false;
	d->bind = false;
	for (unsigned int i = 0; i < desc->nargs; i++)
		if (!decode_arg(d, op, &desc->args[i])) {
			d->p = d->end;
			return false;
		}
	if (d->skip)
		goto again;
	if (d->bind) {
		unsigned int order;
		uint64_t count = bind_count(&d->names, op, &order);

		bind_h(&d->names, count, order);
	}
	if (d->t->max_vcpus)
		small_block(d->t, op);
	if (d->t->vcpu_names && op->kind == SIM_OP_SCHED)
		block_sched(&d->names, op);
	if (picks_legal(d, op->kind) || (d->t->vcpu_names && d->names.in_block &&
					  op->kind == SIM_OP_ALLOC)) {
		int i = find_h(&d->names, op->h);

		/* An op the executor refuses (an escaped name) changes nothing. */
		if (i >= 0 && !claim_h(&d->names, i, op->kind, true)) {
			d->ops++;
			return true;
		}
	}
	if (op->kind == SIM_OP_SPLIT)
		after_split(&d->names, op);
	model_use(&d->names, op);
	d->ops++;
	return true;
}

/* --- encoding ------------------------------------------------------------ */

static int buf_grow(struct fuzz_buf *b, size_t more)
{
	uint8_t *n;
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	n = realloc(b->data, cap);
	if (!n)
		return -1;
	b->data = n;
	b->cap = cap;
	return 0;
}

static int put_u8(struct fuzz_buf *b, uint8_t v)
{
	if (buf_grow(b, 1))
		return -1;
	b->data[b->len++] = v;
	return 0;
}

static int put_leb(struct fuzz_buf *b, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		if (put_u8(b, byte | (v ? 0x80 : 0)))
			return -1;
	} while (v);
	return 0;
}

void fuzz_buf_free(struct fuzz_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int fuzz_encoder_init(struct fuzz_encoder *e, const struct fuzz_target *t,
		      const struct sim_machine_config *cfg, char *err, size_t errlen)
{
	unsigned int nalloc = nr_allocators(t), ai = 0;
	uint64_t base = cfg->pool_base ? cfg->pool_base : FUZZ_RAM_BASE;
	uint64_t offset = (base - FUZZ_RAM_BASE) >> HVMM_PAGE_SHIFT;
	struct sim_machine_config dcfg;

	memset(e, 0, sizeof(*e));
	for (; ai < nalloc; ai++)
		if (!strcmp(t->allocators[ai], cfg->allocator))
			break;
	if (nalloc && ai == nalloc) {
		snprintf(err, errlen, "target %s does not run allocator '%s'", t->name, cfg->allocator);
		return -1;
	}
	if (cfg->vcpus < 1 || cfg->vcpus > 4 || !cfg->pool_pages ||
	    cfg->pool_pages > FUZZ_POOL_MAX_PAGES || cfg->pool_reserved > 255 ||
	    base < FUZZ_RAM_BASE || offset > 255 || base & (HVMM_PAGE_SIZE - 1)) {
		snprintf(err, errlen, "machine configuration out of the fuzz input's range "
			 "(1..4 vcpus, 1..%u pool pages, <= 255 reserved, pool within 255 pages of 0x%llx)",
			 FUZZ_POOL_MAX_PAGES, (unsigned long long)FUZZ_RAM_BASE);
		return -1;
	}
	if (put_u8(&e->out, (uint8_t)((cfg->vcpus - 1) | (ai << 2) |
				      (hyp_pool_code(cfg->hyp_pool_pages) << 4))) ||
	    put_u8(&e->out, (uint8_t)((cfg->pool_pages - 1) & 0xff)) ||
	    put_u8(&e->out, (uint8_t)(cfg->pool_pages <= 64 ? 0x04 : (cfg->pool_pages - 1) >> 8)) ||
	    put_u8(&e->out, (uint8_t)cfg->pool_reserved) ||
	    put_u8(&e->out, (uint8_t)offset)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fuzz_decoder_init(&e->d, t, e->out.data, e->out.len, &dcfg);
	return 0;
}

void fuzz_encoder_fini(struct fuzz_encoder *e)
{
	fuzz_buf_free(&e->out);
	free(e->hmap);
	e->hmap = NULL;
}

static uint32_t map_h(const struct fuzz_encoder *e, uint64_t h)
{
	return h < e->nr_hmap ? e->hmap[h] : 0;
}

static int set_hmap(struct fuzz_encoder *e, uint64_t h, uint32_t to)
{
	if (h >= SIM_MAX_HANDLE)
		return 0;
	if (h >= e->nr_hmap) {
		uint32_t cap = e->nr_hmap ? e->nr_hmap : 256;
		uint32_t *n;

		while (cap <= h)
			cap *= 2;
		n = realloc(e->hmap, cap * sizeof(*n));
		if (!n)
			return -1;
		memset(n + e->nr_hmap, 0, (cap - e->nr_hmap) * sizeof(*n));
		e->hmap = n;
		e->nr_hmap = cap;
	}
	e->hmap[h] = to;
	return 0;
}

/*
 * Writes a used name: its index in the model's table, or escaped.
 * encode_arg() returns 0, 1 for a value out of range (@err says which) or
 * -1 when out of memory.
 */
static int put_name(struct fuzz_buf *b, int index, uint64_t raw)
{
	if (index >= 0)
		return put_u8(b, (uint8_t)index);
	return put_u8(b, FUZZ_ESCAPE) || put_leb(b, raw);
}

static int encode_arg(struct fuzz_encoder *e, const struct sim_op *op,
		      const struct sim_op_arg *a, char *err, size_t errlen)
{
	const struct fuzz_names *n = &e->d.names;
	uint64_t v = sim_op_field_get(op, a->field);
	struct fuzz_buf *b = &e->out;
	uint32_t mapped;

	switch (arg_codec(a)) {
	case C_NEW_H:
	case C_NEW_VM:
		return 0;	/* bound by the decoder: mapped after decoding */
	case C_H:
		mapped = map_h(e, v);
		if (mapped && picks_legal(&e->d, op->kind)) {
			uint32_t cand[FUZZ_NAME_SLOTS];
			unsigned int nc = legal_h(&e->d.names, op->kind, cand);
			int index = -1;

			for (unsigned int i = 0; i < nc && index < 0; i++)
				if (cand[i] == mapped)
					index = (int)i;
			return put_name(b, index, mapped);
		}
		return put_name(b, mapped ? find_h(n, mapped) : -1, mapped ? mapped : v);
	case C_VM:
		mapped = v == 0 ? 0 : v <= SIM_MAX_VM ? e->vmap[v] : 0;
		return put_name(b, v == 0 || mapped ? find_vm(n, mapped) : -1, v == 0 || mapped ? mapped : v);
	case C_ORDER:
	case C_PROT:
		if (v > (arg_codec(a) == C_ORDER ? 63u : 15u)) {
			snprintf(err, errlen, "%s %s=%llu out of range", sim_op_descs[op->kind].name,
				 a->name, (unsigned long long)v);
			return 1;
		}
		return put_u8(b, (uint8_t)(arg_codec(a) == C_PROT && v > 7 ? 0xf0 + v : v));
	case C_PFN:
		return put_leb(b, pfn_encode(v, e->d.ram_pfn));
	case C_IPA:
		return put_leb(b, rotl64(v, 64 - HVMM_PAGE_SHIFT));
	case C_PAGES:
		return put_leb(b, pages_code(v));
	case C_U64:
		return put_leb(b, v);
	}
	return 0;
}

int fuzz_encoder_add(struct fuzz_encoder *e, const struct sim_op *op, char *err, size_t errlen)
{
	const struct sim_op_desc *desc;
	struct fuzz_decoder *d = &e->d;
	uint32_t next_h = d->names.next_h;
	size_t start = e->out.len;
	unsigned int sel;
	struct sim_op got;

	for (sel = 0; sel < d->nr_kinds; sel++)
		if (d->kinds[sel] == op->kind)
			break;
	if (op->kind >= SIM_OP__COUNT || sel == d->nr_kinds) {
		snprintf(err, errlen, "target %s does not speak op '%s'", d->t->name,
			 op->kind < SIM_OP__COUNT ? sim_op_descs[op->kind].name : "?");
		return -1;
	}
	if (d->ops >= FUZZ_MAX_OPS) {
		snprintf(err, errlen, "more than %u ops", FUZZ_MAX_OPS);
		return -1;
	}
	desc = &sim_op_descs[op->kind];
	if (put_u8(&e->out, (uint8_t)sel))
		goto oom;
	for (unsigned int i = 0; i < desc->nargs; i++) {
		int ret = encode_arg(e, op, &desc->args[i], err, errlen);

		if (ret < 0)
			goto oom;
		if (ret > 0)
			return -1;
	}

	/* Step the model by decoding what was written, exactly as the fuzzer will. */
	d->p = e->out.data + start;
	d->end = e->out.data + e->out.len;
	if (!fuzz_decoder_next(d, &got) || d->p != d->end) {
		snprintf(err, errlen, "internal error: op %s does not decode back", desc->name);
		return -1;
	}
	for (unsigned int i = 0; i < desc->nargs; i++) {
		const struct sim_op_arg *a = &desc->args[i];
		uint64_t v = sim_op_field_get(op, a->field), g = sim_op_field_get(&got, a->field);

		if (arg_codec(a) == C_NEW_H) {
			for (uint32_t k = 0; k < d->names.next_h - next_h || k == 0; k++)
				if (set_hmap(e, v + k, (uint32_t)g + k))
					goto oom;
		} else if (arg_codec(a) == C_NEW_VM) {
			if (v <= SIM_MAX_VM)
				e->vmap[v] = (uint32_t)g;
		} else if (a->type != SIM_ARG_HANDLE && a->type != SIM_ARG_VM && v != g) {
			snprintf(err, errlen, "internal error: %s %s does not decode back",
				 desc->name, a->name);
			return -1;
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}
