// SPDX-License-Identifier: MIT
#include "op.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define H(name)		{ name, SIM_F_H, SIM_ARG_HANDLE, 0, 0 }
#define NEWH(name)	{ name, SIM_F_H, SIM_ARG_HANDLE, 0, 1 }
#define NEWH2(name)	{ name, SIM_F_H2, SIM_ARG_HANDLE, 0, 1 }
#define VM		{ "vm", SIM_F_VM, SIM_ARG_VM, 0, 0 }
#define NEWVM		{ "vm", SIM_F_VM, SIM_ARG_VM, 0, 1 }
#define VCPU		{ "vcpu", SIM_F_VCPU, SIM_ARG_U64, 1, 0 }
#define U(name, f)	{ name, f, SIM_ARG_U64, 0, 0 }
#define UOPT(name, f)	{ name, f, SIM_ARG_U64, 1, 0 }
#define ORDER(f)	{ "order", f, SIM_ARG_ORDER, 0, 0 }
#define PROT		{ "prot", SIM_F_D, SIM_ARG_PROT, 0, 0 }

const struct sim_op_desc sim_op_descs[SIM_OP__COUNT] = {
	[SIM_OP_ALLOC] = { "alloc", SIM_OPC_ALLOC, 2, { NEWH("h"), ORDER(SIM_F_A) } },
	[SIM_OP_FREE] = { "free", SIM_OPC_ALLOC, 1, { H("h") } },
	[SIM_OP_GET] = { "get", SIM_OPC_ALLOC, 1, { H("h") } },
	[SIM_OP_PUT] = { "put", SIM_OPC_ALLOC, 1, { H("h") } },
	[SIM_OP_SPLIT] = { "split", SIM_OPC_ALLOC, 2, { H("h"), NEWH2("first") } },

	[SIM_OP_BM_INSERT] = { "bm_insert", SIM_OPC_BITMAP, 2,
		{ U("pfn", SIM_F_A), U("count", SIM_F_B) } },
	[SIM_OP_BM_REMOVE] = { "bm_remove", SIM_OPC_BITMAP, 2,
		{ U("pfn", SIM_F_A), U("count", SIM_F_B) } },
	[SIM_OP_BM_ALLOC] = { "bm_alloc", SIM_OPC_BITMAP, 1, { NEWH("h") } },
	[SIM_OP_BM_ALLOC_CONTIG] = { "bm_alloc_contig", SIM_OPC_BITMAP, 3,
		{ NEWH("h"), U("count", SIM_F_A), U("align", SIM_F_B) } },
	[SIM_OP_BM_ALLOC_AT] = { "bm_alloc_at", SIM_OPC_BITMAP, 4,
		{ NEWH("h"), U("pfn", SIM_F_C), U("count", SIM_F_A), U("align", SIM_F_B) } },
	[SIM_OP_BM_DEALLOC] = { "bm_dealloc", SIM_OPC_BITMAP, 2,
		{ U("pfn", SIM_F_A), U("count", SIM_F_B) } },
	[SIM_OP_BM_TEST] = { "bm_test", SIM_OPC_BITMAP, 1, { U("pfn", SIM_F_A) } },
	[SIM_OP_BM_NEXT] = { "bm_next", SIM_OPC_BITMAP, 1, { U("pfn", SIM_F_A) } },

	[SIM_OP_VM_CREATE] = { "vm_create", SIM_OPC_VM, 2, { NEWVM, UOPT("vcpus", SIM_F_A) } },
	[SIM_OP_VM_DESTROY] = { "vm_destroy", SIM_OPC_VM, 1, { VM } },
	[SIM_OP_VM_PIN] = { "vm_pin", SIM_OPC_VM, 1, { VM } },
	[SIM_OP_VM_UNPIN] = { "vm_unpin", SIM_OPC_VM, 1, { VM } },

	[SIM_OP_S2_MAP] = { "s2_map", SIM_OPC_VM, 5,
		{ VM, U("ipa", SIM_F_A), U("pfn", SIM_F_B), U("pages", SIM_F_C), PROT } },
	[SIM_OP_S2_UNMAP] = { "s2_unmap", SIM_OPC_VM, 3,
		{ VM, U("ipa", SIM_F_A), U("pages", SIM_F_C) } },
	[SIM_OP_S2_PROTECT] = { "s2_protect", SIM_OPC_VM, 4,
		{ VM, U("ipa", SIM_F_A), U("pages", SIM_F_C), PROT } },

	[SIM_OP_HOST_DONATE_HYP] = { "host_donate_hyp", SIM_OPC_VM, 2,
		{ U("pfn", SIM_F_B), U("pages", SIM_F_C) } },
	[SIM_OP_HYP_DONATE_HOST] = { "hyp_donate_host", SIM_OPC_VM, 2,
		{ U("pfn", SIM_F_B), U("pages", SIM_F_C) } },
	[SIM_OP_HOST_DONATE_GUEST] = { "host_donate_guest", SIM_OPC_VM, 4,
		{ VM, U("ipa", SIM_F_A), U("pfn", SIM_F_B), U("pages", SIM_F_C) } },
	[SIM_OP_HOST_SHARE_GUEST] = { "host_share_guest", SIM_OPC_VM, 5,
		{ VM, U("ipa", SIM_F_A), U("pfn", SIM_F_B), U("pages", SIM_F_C), PROT } },
	[SIM_OP_HOST_UNSHARE_GUEST] = { "host_unshare_guest", SIM_OPC_VM, 4,
		{ VM, U("ipa", SIM_F_A), U("pfn", SIM_F_B), U("pages", SIM_F_C) } },
	[SIM_OP_GUEST_SHARE_HOST] = { "guest_share_host", SIM_OPC_VM, 3,
		{ VM, U("ipa", SIM_F_A), U("pages", SIM_F_C) } },
	[SIM_OP_GUEST_UNSHARE_HOST] = { "guest_unshare_host", SIM_OPC_VM, 3,
		{ VM, U("ipa", SIM_F_A), U("pages", SIM_F_C) } },

	[SIM_OP_FAULT] = { "fault", SIM_OPC_VM, 4,
		{ VM, VCPU, U("ipa", SIM_F_A), UOPT("pfn", SIM_F_B) } },
	[SIM_OP_LOAD] = { "load", SIM_OPC_VM, 4,
		{ VM, VCPU, U("ipa", SIM_F_A), UOPT("value", SIM_F_B) } },
	[SIM_OP_STORE] = { "store", SIM_OPC_VM, 4,
		{ VM, VCPU, U("ipa", SIM_F_A), U("value", SIM_F_B) } },

	[SIM_OP_SCHED] = { "sched", SIM_OPC_SCHED, 2, { VCPU, UOPT("step", SIM_F_A) } },

	[SIM_OP_HALLOC] = { "halloc", SIM_OPC_HEAP, 3,
		{ NEWH("h"), U("size", SIM_F_A), UOPT("align", SIM_F_B) } },
	[SIM_OP_HFREE] = { "hfree", SIM_OPC_HEAP, 1, { H("h") } },
	[SIM_OP_HRECLAIM] = { "hreclaim", SIM_OPC_HEAP, 0, { { 0 } } },

	[SIM_OP_MAPTAB_INIT] = { "maptab_init", SIM_OPC_MAPTAB, 3,
		{ U("frames", SIM_F_A), U("entries", SIM_F_B), U("max", SIM_F_C) } },
	[SIM_OP_SET_ENTRY] = { "set_entry", SIM_OPC_MAPTAB, 2,
		{ U("entry", SIM_F_A), UOPT("frame", SIM_F_B) } },
};

/*
 * Names by a hash of their first and last bytes and their length, built
 * once at start-up: called for every line of a text trace, where a scan
 * of the table with a string comparison per candidate was 70
 * instructions a line.
 */
#define KIND_BUCKETS 128u
_Static_assert(SIM_OP__COUNT <= 127, "kinds fit the chains' int8_t");

static uint8_t kind_len[SIM_OP__COUNT];
static int8_t kind_head[KIND_BUCKETS], kind_next[SIM_OP__COUNT];

static inline unsigned int kind_hash(const char *s, size_t len)
{
	return ((unsigned int)(unsigned char)s[0] * 7u + (unsigned int)(unsigned char)s[len - 1] * 3u +
		(unsigned int)len) % KIND_BUCKETS;
}

__attribute__((constructor)) static void kind_table_init(void)
{
	for (unsigned int b = 0; b < KIND_BUCKETS; b++)
		kind_head[b] = -1;
	for (int k = SIM_OP__COUNT - 1; k >= 0; k--) {
		const char *n = sim_op_descs[k].name;
		unsigned int b;

		kind_len[k] = (uint8_t)strlen(n);
		b = kind_hash(n, kind_len[k]);
		kind_next[k] = kind_head[b];
		kind_head[b] = (int8_t)k;
	}
}

int sim_op_kind_from_span(const char *s, size_t len)
{
	if (!len)
		return -1;
	for (int k = kind_head[kind_hash(s, len)]; k >= 0; k = kind_next[k]) {
		const char *n = sim_op_descs[k].name;
		size_t i = 0;

		if (kind_len[k] != len)
			continue;
		while (i < len && n[i] == s[i])
			i++;
		if (i == len)
			return k;
	}
	return -1;
}

int sim_op_kind_from_name(const char *name)
{
	return sim_op_kind_from_span(name, strlen(name));
}

uint64_t sim_op_field_get(const struct sim_op *op, enum sim_op_field f)
{
	switch (f) {
	case SIM_F_H: return op->h;
	case SIM_F_H2: return op->h2;
	case SIM_F_VM: return op->vm;
	case SIM_F_VCPU: return op->vcpu;
	case SIM_F_A: return op->a;
	case SIM_F_B: return op->b;
	case SIM_F_C: return op->c;
	case SIM_F_D: return op->d;
	}
	return 0;
}

static const char *prot_name(uint64_t prot)
{
	static const char *const names[] = {
		"none", "r", "w", "rw", "x", "rx", "wx", "rwx",
	};
	return prot < 8 ? names[prot] : "?";
}

/*
 * A name, or a number up to 32 bits: the host passes mm/ any protection
 * word, and one with bits beyond r, w and x (HVMM_PROT_DEVICE, or bits
 * mm/ does not define) must be refused; such words are written in hex.
 */
int sim_prot_from_span(const char *s, size_t len, uint64_t *prot)
{
	for (uint64_t p = 0; p < 8; p++) {
		const char *n = prot_name(p);

		if (!strncmp(n, s, len) && !n[len]) {
			*prot = p;
			return 0;
		}
	}
	if (len && s[0] >= '0' && s[0] <= '9' && sim_parse_u64_span(s, len, prot) &&
	    *prot <= UINT32_MAX)
		return 0;
	return -1;
}

int sim_prot_from_name(const char *name, uint64_t *prot)
{
	return sim_prot_from_span(name, strlen(name), prot);
}

int sim_op_format(const struct sim_op *op, char *buf, size_t len)
{
	const struct sim_op_desc *d;
	size_t n = 0;

#define OUT(...) do {								\
		int w_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);	\
		n += w_ > 0 ? (size_t)w_ : 0;					\
	} while (0)

	if (op->kind >= SIM_OP__COUNT) {
		OUT("<op %u>", op->kind);
		return (int)n;
	}
	d = &sim_op_descs[op->kind];
	OUT("%s", d->name);
	for (unsigned int i = 0; i < d->nargs; i++) {
		const struct sim_op_arg *arg = &d->args[i];
		uint64_t v = sim_op_field_get(op, arg->field);

		if (arg->optional && !v)
			continue;
		switch (arg->type) {
		case SIM_ARG_HANDLE:
			if (arg->field == SIM_F_H)
				OUT(" h%llu", (unsigned long long)v);
			else
				OUT(" %s=h%llu", arg->name, (unsigned long long)v);
			break;
		case SIM_ARG_VM:
			OUT(" vm%llu", (unsigned long long)v);
			break;
		case SIM_ARG_PROT:
			if (v < 8)
				OUT(" %s=%s", arg->name, prot_name(v));
			else
				OUT(" %s=0x%llx", arg->name, (unsigned long long)v);
			break;
		case SIM_ARG_ORDER:
			OUT(" %s=%llu", arg->name, (unsigned long long)v);
			break;
		default:
			if (v < 10)
				OUT(" %s=%llu", arg->name, (unsigned long long)v);
			else
				OUT(" %s=0x%llx", arg->name, (unsigned long long)v);
			break;
		}
	}
	if (op->flags & SIM_OP_F_EXPECT)
		OUT(" = %s", sim_result_name(op->expect));
#undef OUT
	return (int)n;
}

bool sim_parse_u64(const char *s, uint64_t *out)
{
	return s && sim_parse_u64_span(s, strlen(s), out);
}

static const char *const result_names[SIM_ERRNO_MAX + 1] = {
	[0] = "ok",
	[SIM_EINVAL] = "EINVAL",
	[SIM_ENOMEM] = "ENOMEM",
	[SIM_EPERM] = "EPERM",
	[SIM_EEXIST] = "EEXIST",
	[SIM_ENOENT] = "ENOENT",
	[SIM_EBUSY] = "EBUSY",
	[SIM_ERANGE] = "ERANGE",
	[SIM_EFAULT] = "EFAULT",
	[SIM_ENOTSUP] = "ENOTSUP",
};

const char *sim_result_name(int result)
{
	if (result > 0 || -result > SIM_ERRNO_MAX)
		return "E?";
	return result_names[-result];
}

int sim_result_from_name(const char *name, int *result)
{
	for (int i = 0; i <= SIM_ERRNO_MAX; i++) {
		if (!strcasecmp(name, result_names[i])) {
			*result = -i;
			return 0;
		}
	}
	return -1;
}
