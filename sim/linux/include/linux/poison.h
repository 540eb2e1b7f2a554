/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: list poison values. The kernel's are small
 * offsets into an unmapped range; these are non-canonical on x86_64 and
 * outside any simulated RAM, so a use after list_del faults and is
 * recognised by the oracles as "not a page of RAM".
 */
#ifndef HVMM_COMPAT_LINUX_POISON_H
#define HVMM_COMPAT_LINUX_POISON_H

#define LIST_POISON1	((void *)0xdead000000000100ULL)
#define LIST_POISON2	((void *)0xdead000000000122ULL)

#endif
