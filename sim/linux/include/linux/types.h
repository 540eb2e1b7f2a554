/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: the kernel's basic types on the host.
 *
 * The headers under sim/linux/include are searched before the kernel's
 * own include directories when hvmm builds hosted kernel files. Each
 * supplies what the hosted files use of one kernel header, written from
 * the kernel's documented interfaces, and routes anything the hardware
 * would do to the simulator through mm/'s platform interface.
 */
#ifndef HVMM_COMPAT_LINUX_TYPES_H
#define HVMM_COMPAT_LINUX_TYPES_H

#include <hvmm/types.h>		/* u8..u64, s8..s64, phys_addr_t, bool */

typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef unsigned long ulong;
typedef u64 gfn_t;
typedef u64 hva_t;
typedef u64 gpa_t;
typedef u64 kvm_pfn_t;

struct list_head {
	struct list_head *next, *prev;
};

struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#endif
