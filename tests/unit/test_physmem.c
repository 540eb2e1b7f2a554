// SPDX-License-Identifier: MIT
/*
 * sim/physmem: regions with holes, reserved memory carved out of RAM,
 * translation both ways, a terabyte of NORESERVE RAM that costs only
 * what is touched, and a page clear that stores only into what was written
 * (and, where scrubs are checked, refuses to trust an unmarked write).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "physmem.h"
#include "tap.h"

#define G (1ULL << 30)
#define M (1ULL << 20)

static char err[256];

/* Resident bytes of this process; false if the system does not say. */
static bool rss_bytes(uint64_t *bytes)
{
	unsigned long long pages, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%llu %llu", &pages, &resident) == 2;
	fclose(f);
	*bytes = resident * 4096;
	return ok;
}

static void reserved_is_carved_out_of_ram(void)
{
	struct sim_physmem pm = { 0 };

	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000, 1 * G, err, sizeof(err)) == 0);
	CHECK(sim_physmem_add(&pm, SIM_REGION_RESERVED, 0x90000000, 4 * M, err, sizeof(err)) == 0);
	CHECK(pm.nr_regions == 3);
	CHECK(pm.regions[0].kind == SIM_REGION_RAM && pm.regions[0].base == 0x80000000 &&
	      pm.regions[0].size == 0x10000000);
	CHECK(pm.regions[1].kind == SIM_REGION_RESERVED && pm.regions[1].base == 0x90000000);
	CHECK(pm.regions[2].kind == SIM_REGION_RAM && pm.regions[2].base == 0x90400000 &&
	      pm.regions[2].base + pm.regions[2].size == 0x80000000 + G);
	/* At the very start and the very end: no empty RAM pieces. */
	CHECK(sim_physmem_add(&pm, SIM_REGION_RESERVED, 0x80000000, 2 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_add(&pm, SIM_REGION_RESERVED, 0x80000000 + G - 2 * M, 2 * M, err,
			      sizeof(err)) == 0);
	CHECK(pm.nr_regions == 5);
	for (unsigned int i = 0; i < pm.nr_regions; i++)
		CHECK(pm.regions[i].size != 0);
	/* Straddling a RAM edge is refused, and says why. */
	CHECK(sim_physmem_add(&pm, SIM_REGION_RESERVED, 0x80000000 + G - M, 2 * M, err,
			      sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "inside one RAM region"), "said: %s", err);
	sim_physmem_destroy(&pm);
}

static void translation_and_holes(void)
{
	struct sim_physmem pm = { 0 };
	uint8_t *h;

	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000, 64 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x100000000ULL, 64 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_add(&pm, SIM_REGION_MMIO, 0x9000000, 2 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000 + 32 * M, M, err, sizeof(err)) == -1);
	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000001, M, err, sizeof(err)) == -1);
	CHECK(sim_physmem_map(&pm, err, sizeof(err)) == 0);

	h = sim_physmem_pa_to_host(&pm, 0x100000000ULL + 0x1234);
	CHECK(h && sim_physmem_host_to_pa(&pm, h) == 0x100000000ULL + 0x1234);
	CHECK(sim_physmem_pa_to_host(&pm, 0x80000000 + 64 * M) == NULL);	/* the hole */
	CHECK(sim_physmem_pa_to_host(&pm, 0x9000000) == NULL);			/* MMIO */
	CHECK(sim_physmem_host_to_pa(&pm, err) == UINT64_MAX);
	CHECK(sim_physmem_is_ram(&pm, 0x80000000) && !sim_physmem_is_ram(&pm, 0x9000000));
	CHECK(pm.start_pfn == 0x80000 && pm.end_pfn == (0x100000000ULL + 64 * M) >> 12);
	sim_physmem_destroy(&pm);
}

static void terabyte_costs_what_is_touched(void)
{
	struct sim_physmem pm = { 0 };
	uint64_t before, after;

	/* Without a resident size to compare, the case proves nothing: skip it. */
	if (!rss_bytes(&before))
		TAP_SKIP("/proc/self/statm cannot be read");
	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000, 1024 * G, err, sizeof(err)) == 0);
	CHECK_MSG(sim_physmem_map(&pm, err, sizeof(err)) == 0, "map: %s", err);
	for (uint64_t pa = 0x80000000; pa < 0x80000000 + 1024 * G; pa += 64 * G)
		*(volatile uint64_t *)sim_physmem_pa_to_host(&pm, pa) = pa;
	/* 16 pages, far below a gigabyte (the vmemmap is the executor's: sim/vmemmap.h). */
	CHECK(rss_bytes(&after));
	CHECK_MSG(after - before < 64 * M, "RSS grew by %llu MiB",
		  (unsigned long long)((after - before) >> 20));
	sim_physmem_destroy(&pm);
}

static void sizes_parse(void)
{
	uint64_t v;

	CHECK(sim_parse_size("4096", &v) && v == 4096);
	CHECK(sim_parse_size("0x8000_0000", &v) && v == 0x80000000);
	CHECK(sim_parse_size("1G", &v) && v == G);
	CHECK(sim_parse_size("2T", &v) && v == 2048 * G);
	CHECK(!sim_parse_size("", &v) && !sim_parse_size("1Q", &v) && !sim_parse_size("G", &v));
	CHECK(!sim_parse_size("99999999999999999999", &v) && !sim_parse_size("17179869184T", &v));
}

static bool page_is_zero(const uint8_t *p)
{
	for (unsigned int i = 0; i < SIM_PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * In the clear range, a page marked since its last clear is cleared whole,
 * one whose marked words were in its first or last line only in those,
 * an unmarked one not at all; outside the range, everything is. Where
 * scrubs are checked, an unmarked write stops the run instead of
 * surviving the clear.
 */
static void clear_pages_stores_only_what_was_written(void)
{
	struct sim_physmem pm = { 0 };
	uint64_t pfn = 0x80000 + 16;
	uint8_t *h;
	pid_t pid;
	int status = 0;

	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000, 64 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_map(&pm, err, sizeof(err)) == 0);
	pm.clear_lo = 0x80000;
	pm.clear_hi = 0x80000 + 8192;
	h = sim_physmem_pa_to_host(&pm, pfn << SIM_PAGE_SHIFT);

	memset(h, 0xa5, SIM_PAGE_SIZE);			/* written and marked */
	sim_physmem_mark_dirty(&pm, pfn, 1);
	/*
	 * A node an allocator left in a block it frees, unmarked: neither
	 * read nor stored into (a correct allocator clears its nodes).
	 */
	memset(h + SIM_PAGE_SIZE, 0x5a, 16);
	sim_physmem_clear_pages(&pm, h, pfn, 2);
	CHECK(page_is_zero(h) && h[SIM_PAGE_SIZE] == 0x5a && h[SIM_PAGE_SIZE + 15] == 0x5a);
	memset(h + SIM_PAGE_SIZE, 0, 16);

	/* Marked, cleared, then marked again: cleared whole again. */
	sim_physmem_mark_dirty(&pm, pfn, 1);
	h[SIM_PAGE_SIZE - 1] = 1;
	sim_physmem_clear_pages(&pm, h, pfn, 1);
	CHECK(page_is_zero(h));

	/*
	 * Words marked one by one: in the first or last line, the clear
	 * stores into that line alone (the byte in between, written
	 * unmarked, shows it); anywhere else the page is cleared whole.
	 */
	h[16] = 1;
	sim_physmem_mark_word(&pm, (pfn << SIM_PAGE_SHIFT) + 16);
	h[SIM_PAGE_SIZE - 8] = 2;
	sim_physmem_mark_word(&pm, (pfn << SIM_PAGE_SHIFT) + SIM_PAGE_SIZE - 8);
	h[SIM_PAGE_SIZE + SIM_PAGE_SIZE - 1] = 3;	/* last line of the next page */
	sim_physmem_mark_word(&pm, ((pfn + 2) << SIM_PAGE_SHIFT) - 8);
	h[2000] = 4;					/* unmarked */
	CHECK(sim_physmem_dirty(&pm, pfn) && sim_physmem_dirty(&pm, pfn + 1));
	sim_physmem_clear_pages(&pm, h, pfn, 2);
	CHECK(h[16] == 0 && h[SIM_PAGE_SIZE - 8] == 0 && h[2 * SIM_PAGE_SIZE - 1] == 0);
	CHECK(h[2000] == 4);
	h[2000] = 5;
	sim_physmem_mark_word(&pm, (pfn << SIM_PAGE_SHIFT) + 2000);
	sim_physmem_clear_pages(&pm, h, pfn, 1);
	CHECK(page_is_zero(h) && page_is_zero(h + SIM_PAGE_SIZE));
	/* Cleared: a later clear stores nothing into the lines (no mark left). */
	h[SIM_PAGE_SIZE - 1] = 6;
	sim_physmem_clear_pages(&pm, h, pfn, 1);
	CHECK(h[SIM_PAGE_SIZE - 1] == 6);
	h[SIM_PAGE_SIZE - 1] = 0;

	/* Outside the range nothing is trusted: a whole memset. */
	h = sim_physmem_pa_to_host(&pm, (pm.clear_hi + 1) << SIM_PAGE_SHIFT);
	h[2000] = 7;
	sim_physmem_clear_pages(&pm, h, pm.clear_hi + 1, 1);
	CHECK(page_is_zero(h));

	/* An unmarked write, even in the first line, with scrubs checked: the run stops. */
	h = sim_physmem_pa_to_host(&pm, (pfn + 4) << SIM_PAGE_SHIFT);
	h[8] = 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		sim_physmem_check_scrubs = true;
		sim_physmem_clear_pages(&pm, h, pfn + 4, 1);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x", status);
	sim_physmem_destroy(&pm);
}

/*
 * The clear of reported stores (hvmm_clear_pages() with the event layer
 * armed): pages marked dirty are zeroed whole, anywhere; a page nothing
 * marked is zero by construction and takes no store (an unmarked byte in
 * it survives, which shows it), nor is it faulted in; where scrubs are
 * checked, such a byte stops the run.
 */
static void zero_dirty_skips_clean_pages(void)
{
	struct sim_physmem pm = { 0 };
	uint64_t pfn = 0x80000 + 4096, rss0 = 0, rss1 = 0;
	uint8_t *h;
	pid_t pid;
	int status = 0;

	CHECK(sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000, 64 * M, err, sizeof(err)) == 0);
	CHECK(sim_physmem_map(&pm, err, sizeof(err)) == 0);
	h = sim_physmem_pa_to_host(&pm, pfn << SIM_PAGE_SHIFT);
	memset(h, 0xa5, 2 * SIM_PAGE_SIZE);		/* two pages written and marked */
	sim_physmem_mark_dirty(&pm, pfn, 2);
	h[3 * SIM_PAGE_SIZE + 100] = 1;			/* unmarked */
	CHECK(!sim_physmem_dirty(&pm, pfn + 3) && !sim_physmem_dirty(&pm, pfn + 8));
	CHECK(rss_bytes(&rss0));
	sim_physmem_zero_dirty(&pm, h, pfn, 1024);
	CHECK(rss_bytes(&rss1));
	CHECK(page_is_zero(h) && page_is_zero(h + SIM_PAGE_SIZE));
	CHECK(h[3 * SIM_PAGE_SIZE + 100] == 1);
	CHECK_MSG(rss1 - rss0 < 64 * SIM_PAGE_SIZE, "%llu bytes faulted in",
		  (unsigned long long)(rss1 - rss0));

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		sim_physmem_check_scrubs = true;
		sim_physmem_zero_dirty(&pm, h, pfn, 8);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x", status);
	h[3 * SIM_PAGE_SIZE + 100] = 0;
	sim_physmem_destroy(&pm);
}

int main(void)
{
	TEST(reserved_is_carved_out_of_ram);
	TEST(translation_and_holes);
	TEST(terabyte_costs_what_is_touched);
	TEST(sizes_parse);
	TEST(clear_pages_stores_only_what_was_written);
	TEST(zero_dirty_skips_clean_pages);
	return tap_done();
}
