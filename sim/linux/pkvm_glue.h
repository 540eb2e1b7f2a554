/* SPDX-License-Identifier: MIT */
/*
 * The kernel's pKVM page allocator, as the simulator calls it. These
 * functions are compiled with the Linux compat headers next to the
 * kernel's page_alloc.c (sim/linux/pkvm_glue.c); this header uses plain
 * C types only, so simulator code never sees a kernel header.
 *
 * The kernel keeps its vmemmap and linear-map offset in globals
 * (__hyp_vmemmap, hyp_physvirt_offset); sim_lkp_install() points them at
 * one pool's before each call, so several pools may exist in one process
 * as long as calls into them do not overlap in time.
 */
#ifndef SIM_LINUX_PKVM_GLUE_H
#define SIM_LINUX_PKVM_GLUE_H

#include <stddef.h>
#include <stdint.h>

/* sizeof(struct hyp_pool) in this build. */
size_t sim_lkp_pool_bytes(void);
/* @vmemmap is the entry of @base_pfn; hyp VA = PA - @physvirt_offset. */
void sim_lkp_install(void *vmemmap, uint64_t base_pfn, int64_t physvirt_offset);

int sim_lkp_pool_init(void *pool, uint64_t pfn, unsigned int nr_pages, unsigned int reserved_pages);
void *sim_lkp_alloc_pages(void *pool, unsigned short order);
void sim_lkp_get_page(void *pool, void *va);
void sim_lkp_put_page(void *pool, void *va);
/* hyp_split_page() on the block at @va (its owner's to split: no lock). */
void sim_lkp_split_page(void *pool, void *va);

#endif /* SIM_LINUX_PKVM_GLUE_H */
