// SPDX-License-Identifier: MIT
/*
 * sim/physmem: regions with holes, reserved memory carved out of RAM,
 * translation both ways, and a terabyte of NORESERVE RAM that costs only
 * what is touched.
 */
#include <stdio.h>
#include <string.h>

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

int main(void)
{
	TEST(reserved_is_carved_out_of_ram);
	TEST(translation_and_holes);
	TEST(terabyte_costs_what_is_touched);
	TEST(sizes_parse);
	return tap_done();
}
