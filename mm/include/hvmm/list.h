/* SPDX-License-Identifier: MIT */
/*
 * Circular doubly linked lists, as in Linux. Nodes are embedded in the
 * objects they link (for free pages: in the page itself).
 */
#ifndef HVMM_LIST_H
#define HVMM_LIST_H

#include <hvmm/types.h>

struct hvmm_list {
	struct hvmm_list *next;
	struct hvmm_list *prev;
};

static inline void hvmm_list_init(struct hvmm_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool hvmm_list_empty(const struct hvmm_list *head)
{
	return head->next == head;
}

static inline void hvmm_list_add(struct hvmm_list *node, struct hvmm_list *head)
{
	struct hvmm_list *next = head->next;

	node->next = next;
	node->prev = head;
	next->prev = node;
	head->next = node;
}

static inline void hvmm_list_add_tail(struct hvmm_list *node, struct hvmm_list *head)
{
	hvmm_list_add(node, head->prev);
}

/*
 * Unlinks @node and clears it, so unlinked nodes never leave stale pointers.
 * Both neighbours are read first: the store to prev->next could alias
 * node->prev for the compiler, which would then load it twice.
 */
static inline void hvmm_list_del(struct hvmm_list *node)
{
	struct hvmm_list *prev = node->prev, *next = node->next;

	prev->next = next;
	next->prev = prev;
	node->next = NULL;
	node->prev = NULL;
}

#endif /* HVMM_LIST_H */
