// SPDX-License-Identifier: MIT
/*
 * Anaxagoros set_entry (maptab.h): lock-free mapping changes with
 * saturating per-frame mapping counters.
 */
#include <hvmm/bug.h>
#include <hvmm/maptab.h>

void hvmm_maptab_init(struct hvmm_maptab *t, _Atomic u32 *count, u32 nr_frames,
		      _Atomic u32 *entry, u32 nr_entries, u32 max)
{
	t->count = count;
	t->entry = entry;
	t->nr_frames = nr_frames;
	t->nr_entries = nr_entries;
	t->max = max;
}

/*
 * Raises @frame's counter unless it is at max. The CAS matters: two CPUs
 * that read the same value and both stored value + 1 would count two new
 * mappings as one, and the counter would reach 0 while a mapping remains.
 */
static bool count_get(struct hvmm_maptab *t, u32 frame)
{
	_Atomic u32 *count = &t->count[frame - 1];
	u32 n = atomic_load_explicit(count, memory_order_relaxed);

	do {
		if (n >= t->max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(count, &n, n + 1, memory_order_acquire,
						       memory_order_relaxed));
	return true;
}

/*
 * Lowers @frame's counter. Only after the exchange: until then the entry
 * still names the frame, and a counter below its mappings would let the
 * frame be retyped while mapped.
 */
static void count_put(struct hvmm_maptab *t, u32 frame)
{
	u32 old = atomic_fetch_sub_explicit(&t->count[frame - 1], 1, memory_order_release);

	HVMM_BUG_ON(old == 0);
}

int hvmm_maptab_set_entry(struct hvmm_maptab *t, u32 index, u32 frame)
{
	u32 old;

	if (index >= t->nr_entries || frame > t->nr_frames)
		return -HVMM_EINVAL;
	if (frame && !count_get(t, frame))
		return -HVMM_ERANGE;
	old = atomic_exchange_explicit(&t->entry[index], frame, memory_order_acq_rel);
	if (old)
		count_put(t, old);
	return 0;
}
