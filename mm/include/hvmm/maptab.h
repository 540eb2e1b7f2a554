/* SPDX-License-Identifier: MIT */
/*
 * Mapping tables with per-frame mapping counters, changed without a lock:
 * the Anaxagoros set_entry protocol (Lemerre et al.), which Conc2Seq
 * later proved correct.
 *
 * Each entry names a frame (1..nr_frames) or nothing (0); each frame has a
 * mapping counter that never underestimates the entries naming it, and
 * never exceeds @max, so a frame whose counter is 0 is provably unmapped
 * (it may be retyped or freed). set_entry raises the new frame's counter
 * with compare-and-swap before the entry names it, and lowers the old
 * frame's counter only after the exchange removed it. Between those steps
 * a CPU is in the counter's "gap": for every frame e at every instant,
 *
 *	Occ(e) + gap(e) = count[e] <= max
 *
 * where Occ(e) is the number of entries naming e and gap(e) the number of
 * CPUs that raised e's counter but have not yet written the entry, or
 * removed e from an entry but have not yet lowered its counter.
 */
#ifndef HVMM_MAPTAB_H
#define HVMM_MAPTAB_H

#include <stdatomic.h>
#include <hvmm/types.h>

struct hvmm_maptab {
	_Atomic u32 *count;	/* nr_frames mapping counters */
	_Atomic u32 *entry;	/* nr_entries entries: frame number, 0 = empty */
	u32 nr_frames;
	u32 nr_entries;
	u32 max;		/* largest counter value */
};

/* @count and @entry must be zeroed, as the host hands them over. */
void hvmm_maptab_init(struct hvmm_maptab *t, _Atomic u32 *count, u32 nr_frames,
		      _Atomic u32 *entry, u32 nr_entries, u32 max);

/*
 * Makes entry @index name @frame (0: nothing). -HVMM_EINVAL for an index
 * or frame out of range, -HVMM_ERANGE if @frame's counter is at max
 * (nothing changed). Safe against any number of concurrent callers.
 */
int hvmm_maptab_set_entry(struct hvmm_maptab *t, u32 index, u32 frame);

#endif /* HVMM_MAPTAB_H */
