// SPDX-License-Identifier: MIT
/*
 * Negative tests of the bitmap oracles: each corrupts the bitmap's data
 * from the test side (never by changing mm/) and checks that the oracle
 * it concerns fires, after a positive run shows they stay quiet on a
 * healthy bitmap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hvmm/bitmap_alloc.h>

#include "machine.h"
#include "oracle/bitmap_check.h"
#include "tap.h"

#define BASE	0x80000ULL
#define NR	(3 * 4096ULL + 100)	/* three full level-1 nodes and a partial one */

struct fixture {
	struct hvmm_bitmap bm;
	struct sim_alloc_shadow shadow;
	struct sim_report report;
	void *meta;
	uint64_t bytes;
};

static void setup(struct fixture *f)
{
	f->bytes = hvmm_bitmap_metadata_bytes(NR);
	f->meta = mmap(NULL, f->bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->meta == MAP_FAILED || hvmm_bitmap_init_va(&f->bm, BASE, NR, f->meta, f->bytes) ||
	    sim_alloc_shadow_init(&f->shadow, BASE, NR)) {
		printf("Bail out! setup failed\n");
		exit(1);
	}
	sim_report_init(&f->report, NULL);
}

static void teardown(struct fixture *f)
{
	sim_alloc_shadow_fini(&f->shadow);
	munmap(f->meta, f->bytes);
}

/* Test-side ops that keep the shadow in step (results must be 0). */
static void must(int ret, const char *what)
{
	if (ret) {
		printf("Bail out! %s returned %d\n", what, ret);
		exit(1);
	}
}

static void do_insert(struct fixture *f, uint64_t pfn, uint64_t n)
{
	must(hvmm_bitmap_insert(&f->bm, pfn, n), "insert");
	sim_alloc_shadow_set(&f->shadow, pfn, n, SIM_SHADOW_FREE);
}

static uint64_t do_alloc_contig(struct fixture *f, uint64_t n, unsigned int align)
{
	uint64_t pfn;

	must(hvmm_bitmap_alloc_contiguous(&f->bm, n, align, &pfn), "alloc_contiguous");
	sim_alloc_shadow_set(&f->shadow, pfn, n, SIM_SHADOW_ALLOCATED);
	return pfn;
}

static void do_dealloc(struct fixture *f, uint64_t pfn, uint64_t n)
{
	must(hvmm_bitmap_dealloc_contiguous(&f->bm, pfn, n), "dealloc_contiguous");
	sim_alloc_shadow_set(&f->shadow, pfn, n, SIM_SHADOW_FREE);
}

/*
 * A search for @nr frames that cannot succeed: it refreshes every run
 * summary and changes nothing. The negative tests rely on both.
 */
static void refresh(struct fixture *f, uint64_t nr)
{
	uint64_t pfn;

	if (hvmm_bitmap_alloc_contiguous(&f->bm, nr, 0, &pfn) != -HVMM_ENOMEM ||
	    f->bm.root_stale) {
		printf("Bail out! a search for %llu frames did not fail and refresh\n",
		       (unsigned long long)nr);
		exit(1);
	}
}

/* A fragmented bitmap whose run summaries are all up to date. */
static void populate(struct fixture *f)
{
	uint64_t pfn;

	do_insert(f, BASE + 10, NR - 10);
	do_alloc_contig(f, NR - 10, 0);
	for (pfn = BASE + 10; pfn + 3 <= BASE + NR; pfn += 7)
		do_dealloc(f, pfn, 3);
	refresh(f, 5);
}

static void expect(struct fixture *f, enum sim_oracle_id id, const char *what)
{
	if (f->report.by_oracle[id] == 0) {
		TAP_FAIL("%s: %s did not fire (%llu violations in all)", what,
			sim_oracle_name(id), (unsigned long long)f->report.total);
		return;
	}
	printf("# %s: %s fired: ", what, sim_oracle_name(id));
	for (unsigned int i = 0; i < f->report.kept; i++) {
		if (f->report.first[i].oracle == id) {
			printf("%s\n", f->report.first[i].msg);
			break;
		}
	}
}

static void expect_clean(struct fixture *f, const char *what)
{
	if (f->report.total) {
		TAP_FAIL("%s: false positive:", what);
		sim_report_print(&f->report, stdout);
		return;
	}
	printf("# %s: no violation\n", what);
}

/* The oracles accept a healthy bitmap after every kind of op. */
static void test_clean(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f);
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	populate(&f);
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	pfn = do_alloc_contig(&f, 2, 1);
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, pfn, 2);
	do_dealloc(&f, pfn, 2);
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, pfn, 2);
	must(hvmm_bitmap_alloc(&f.bm, &pfn), "alloc");
	sim_alloc_shadow_set(&f.shadow, pfn, 1, SIM_SHADOW_ALLOCATED);
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, pfn, 1);
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	sim_bitmap_check_avail(&f.shadow, &f.report, 5, 0, -HVMM_ENOMEM, 0);
	sim_bitmap_check_avail(&f.shadow, &f.report, 3, 0, 0,
			       sim_alloc_shadow_find_free(&f.shadow, 3, 1, 0));
	expect_clean(&f, "healthy bitmap");
	teardown(&f);
}

/* ALLOC-CONSERVE: a free frame lost from the bitmap (not reclaimable). */
static void test_lost_frame(void)
{
	struct fixture f;
	uint64_t i = 17;	/* pfn BASE + 17: freed by populate() */

	setup(&f);
	populate(&f);
	f.bm.free[i / 64] &= ~(1ULL << (i % 64));
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + i, 1);
	expect(&f, SIM_ORACLE_ALLOC_CONSERVE, "lost free frame");
	teardown(&f);
}

/* ALLOC-CONSERVE: an allocated frame marked free (disjointness). */
static void test_double_owner(void)
{
	struct fixture f;
	uint64_t i = 4096 + 13;	/* allocated after populate(): 13 % 7 == 6 is not freed */

	setup(&f);
	populate(&f);
	f.bm.free[i / 64] |= 1ULL << (i % 64);
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	expect(&f, SIM_ORACLE_ALLOC_CONSERVE, "allocated frame marked free");
	teardown(&f);
}

/* ALLOC-STRUCT: a free bit on a frame that was never inserted. */
static void test_free_absent(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.free[0] |= 1ULL << 3;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 3, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "free bit on absent frame");
	teardown(&f);
}

/* ALLOC-STRUCT: hvisor's summary bit disagrees with its child. */
static void test_avail_bit(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.nodes[1][1].avail &= ~(1ULL << 5);		/* word 69 holds free frames */
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 69 * 64, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "avail bit cleared");
	teardown(&f);
}

/*
 * ALLOC-STRUCT through the 64-at-a-time child masks: an avail bit for a
 * child past the end of the bitmap, a word marked changed in a level-1
 * node that claims to be up to date, and one marked in a node that does
 * not have it; an avail bit set over an empty last child; a word's cached
 * longest run that is wrong; and a longest run that lies inside one word
 * and is off by one.
 */
static void test_child_masks(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f);
	populate(&f);
	f.bm.nodes[1][3].avail |= 1ULL << 10;	/* L1#3 has 2 words */
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + NR - 1, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "avail bit of a missing child");
	teardown(&f);

	setup(&f);
	populate(&f);
	f.bm.nodes[1][0].stale |= 1ULL << 63;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 10, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "changed word under an up-to-date level-1 node");
	teardown(&f);

	setup(&f);
	populate(&f);
	f.bm.nodes[1][3].stale |= 1ULL << 10;	/* L1#3 has 2 words */
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + NR - 1, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "changed bit of a missing word");
	teardown(&f);

	setup(&f);
	populate(&f);
	f.bm.word_longest[70]++;		/* word 70: runs of 3 */
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 70 * 64, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "cached longest run of a word");
	teardown(&f);

	setup(&f);
	populate(&f);
	do_dealloc(&f, BASE + 100 * 64, 1);	/* word 100 changed: L1#1 is stale */
	f.bm.word_longest[70]++;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 70 * 64, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "cached longest run of a word in a stale node");
	teardown(&f);

	setup(&f);
	populate(&f);
	/* Empty word 63 of L1#0 (it has free frames 4053.. in populate). */
	for (pfn = BASE + 63 * 64; pfn < BASE + 64 * 64; pfn++) {
		if (hvmm_bitmap_test(&f.bm, pfn) != 1)
			continue;
		must(hvmm_bitmap_alloc_at(&f.bm, pfn, 1, 0), "alloc_at");
		sim_alloc_shadow_set(&f.shadow, pfn, 1, SIM_SHADOW_ALLOCATED);
	}
	refresh(&f, NR - 1);
	f.bm.nodes[1][0].avail |= 1ULL << 63;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 63 * 64, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "avail bit over an empty last child");
	teardown(&f);

	setup(&f);
	populate(&f);
	/* A 40-frame run inside word 130 (L1#2), the node's longest. */
	for (pfn = BASE + 130 * 64 + 12; pfn < BASE + 130 * 64 + 52; pfn++)
		if (hvmm_bitmap_test(&f.bm, pfn) == 0)
			do_dealloc(&f, pfn, 1);
	refresh(&f, NR - 1);
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 130 * 64, 1);
	expect_clean(&f, "40-frame run inside a word");
	f.bm.nodes[1][2].longest--;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 130 * 64, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "longest run inside a word, off by one");
	teardown(&f);
}

/* ALLOC-STRUCT: an up-to-date run summary that is wrong. */
static void test_run_summary(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.nodes[1][2].longest = 9;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 2 * 4096 + 1, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "level-1 longest run");
	teardown(&f);

	setup(&f);
	populate(&f);
	f.bm.nodes[f.bm.top][0].prefix = 1;
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "root prefix");
	teardown(&f);
}

/* ALLOC-STRUCT: a stale child under a node that claims to be up to date. */
static void test_stale_mark(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.nodes[2][0].stale |= 1ULL << 1;
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "stale mark not propagated");
	teardown(&f);
}

/* ALLOC-STRUCT: the free counter does not add up; bits past the capacity. */
static void test_counter_and_tail(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.nr_free++;
	sim_bitmap_check_full(&f.bm, &f.shadow, &f.report);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "free counter");
	teardown(&f);

	setup(&f);
	populate(&f);
	f.bm.present[NR / 64] |= 1ULL << 63;
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + NR - 1, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "bit beyond capacity");
	teardown(&f);
}

/* ALLOC-STRUCT: the lowest-free hint skips a word with free frames. */
static void test_hint(void)
{
	struct fixture f;

	setup(&f);
	populate(&f);
	f.bm.first_free_word = 5;	/* word 0 holds pfn BASE + 10 */
	sim_bitmap_check_touched(&f.bm, &f.shadow, &f.report, BASE + 10, 1);
	expect(&f, SIM_ORACLE_ALLOC_STRUCT, "lowest-free hint");
	teardown(&f);
}

/* AVAIL: a failure with a window free, and a success that is not the lowest. */
static void test_avail(void)
{
	struct fixture f;
	uint64_t lowest;

	setup(&f);
	populate(&f);
	lowest = sim_alloc_shadow_find_free(&f.shadow, 3, 1, 0);
	sim_bitmap_check_avail(&f.shadow, &f.report, 3, 0, -HVMM_ENOMEM, 0);
	expect(&f, SIM_ORACLE_AVAIL, "failed despite a free window");
	teardown(&f);

	setup(&f);
	populate(&f);
	lowest = sim_alloc_shadow_find_free(&f.shadow, 3, 1, 0);
	sim_bitmap_check_avail(&f.shadow, &f.report, 3, 0, 0, lowest + 7);
	expect(&f, SIM_ORACLE_AVAIL, "not the lowest window");
	teardown(&f);
}

/*
 * End to end through the executor: a corrupted root summary makes the
 * allocator miss a window; AVAIL must catch the wrong ENOMEM.
 */
static void test_machine_avail(void)
{
	struct sim_machine_config cfg;
	struct sim_machine *m;
	struct hvmm_bitmap *bm;
	struct sim_op op = { 0 };
	char err[256];
	int ret;

	sim_machine_config_default(&cfg);
	snprintf(cfg.allocator, sizeof(cfg.allocator), "bitmap");
	cfg.pool_pages = 16384;
	cfg.pool_reserved = 16;
	m = sim_machine_create(&cfg, err, sizeof(err));
	if (!m) {
		TAP_FAIL("machine: %s", err);
		return;
	}
	/* The adapter's state starts with the struct hvmm_bitmap. */
	bm = sim_machine_allocator(m)->priv;
	op.kind = SIM_OP_BM_ALLOC_CONTIG;
	op.h = 1;
	op.a = 16384;	/* cannot fit: refreshes the summaries, changes nothing */
	op.b = 0;
	ret = sim_machine_exec(m, &op, NULL);
	if (ret != -HVMM_ENOMEM || !sim_report_clean(sim_machine_report(m))) {
		TAP_FAIL("machine: oversized request returned %d", ret);
		sim_report_print(sim_machine_report(m), stdout);
	}
	bm->nodes[bm->top][0].longest = 1;
	bm->nodes[bm->top][0].prefix = 0;
	op.a = 64;
	op.b = 6;
	ret = sim_machine_exec(m, &op, NULL);
	if (ret != -HVMM_ENOMEM || !sim_machine_report(m)->by_oracle[SIM_ORACLE_AVAIL]) {
		TAP_FAIL("machine: corrupted root: result %d, AVAIL did not fire", ret);
	} else {
		printf("# machine: AVAIL fired: %s\n", sim_machine_report(m)->first[0].msg);
	}
	sim_machine_destroy(m);
}

/* Lowest aligned free window of @nr pages, page by page: what find_free must return. */
static uint64_t slow_find_free(const struct sim_alloc_shadow *s, uint64_t nr, uint64_t align)
{
	for (uint64_t pfn = (s->base_pfn + align - 1) & ~(align - 1);
	     pfn + nr <= s->base_pfn + s->nr_pages; pfn += align) {
		uint64_t k = 0;

		while (k < nr && sim_alloc_shadow_get(s, pfn + k) == SIM_SHADOW_FREE)
			k++;
		if (k == nr)
			return pfn;
	}
	return UINT64_MAX;
}

/*
 * The shadow's search (its word-level path for naturally aligned blocks
 * and the run by run one) against the page by page answer, on random
 * shadows from sparse to nearly all free, with and without an initially
 * free range and with a base that is not block-aligned.
 */
static void test_find_free(void)
{
	static const uint64_t bases[] = { BASE, BASE + 3 };
	uint64_t seed = 7, bad = 0, checked = 0;

	for (unsigned int b = 0; b < 2; b++) {
		for (unsigned int round = 0; round < 24; round++) {
			struct sim_alloc_shadow s;
			uint64_t nr_pages = 1000 + round * 97;
			unsigned int busy_in_16 = round % 8;

			if (sim_alloc_shadow_init(&s, bases[b], nr_pages))
				exit(1);
			if (round & 1)
				sim_alloc_shadow_set_initial_free(&s, bases[b] + 5, nr_pages - 40);
			for (uint64_t i = 0; i < nr_pages; i++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				/* Free in long stretches: busy pages in short bursts. */
				if ((seed >> 60) < busy_in_16 && (seed >> 40 & 7) == 0)
					sim_alloc_shadow_set(&s, bases[b] + i, 1 + (seed >> 20 & 3),
							     SIM_SHADOW_ALLOCATED);
				else if ((round & 1) == 0 && (seed >> 30 & 3))
					sim_alloc_shadow_set(&s, bases[b] + i, 1, SIM_SHADOW_FREE);
			}
			for (uint64_t nr = 1; nr <= 1024; nr <<= 1) {
				uint64_t want = slow_find_free(&s, nr, nr);

				checked++;
				if (sim_alloc_shadow_find_free(&s, nr, nr, 0) != want && !bad++)
					TAP_FAIL("find_free(%llu, align %llu), base 0x%llx "
						"round %u: 0x%llx, page by page 0x%llx",
						(unsigned long long)nr, (unsigned long long)nr,
						(unsigned long long)bases[b], round,
						(unsigned long long)sim_alloc_shadow_find_free(&s, nr, nr, 0),
						(unsigned long long)want);
				want = slow_find_free(&s, nr + 1, nr);
				if (sim_alloc_shadow_find_free(&s, nr + 1, nr, 0) != want && !bad++)
					TAP_FAIL("find_free(%llu, align %llu) round %u",
						(unsigned long long)nr + 1, (unsigned long long)nr, round);
			}
			sim_alloc_shadow_fini(&s);
		}
	}
	if (!bad)
		printf("# find_free: %llu searches agree with the page by page answer\n",
		       (unsigned long long)checked);
}

int main(void)
{
	TEST(test_clean);
	TEST(test_lost_frame);
	TEST(test_double_owner);
	TEST(test_free_absent);
	TEST(test_avail_bit);
	TEST(test_run_summary);
	TEST(test_child_masks);
	TEST(test_stale_mark);
	TEST(test_counter_and_tail);
	TEST(test_hint);
	TEST(test_avail);
	TEST(test_machine_avail);
	TEST(test_find_free);
	return tap_done();
}
