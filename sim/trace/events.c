// SPDX-License-Identifier: MIT
/* Writing what mm/ emits through hvmm_trace() as ftrace text (events.h). */
#include "trace/events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/platform.h>

#include "platform.h"
#include "trace/outfile.h"

struct sim_events_writer {
	struct sim_outfile out;
	uint64_t pool_lo, pool_hi;
	uint64_t seq;		/* events written: the timestamp, in microseconds */
	bool failed;
};

/* "hvmm-1 [000] S.SSSSSS: " : the ftrace prefix every event line starts with. */
static void prefix(struct sim_events_writer *w)
{
	w->seq++;
	fprintf(w->out.f, "            hvmm-1     [000] %6" PRIu64 ".%06" PRIu64 ": ",
		w->seq / 1000000, w->seq % 1000000);
}

static void page_event(struct sim_events_writer *w, bool alloc, uint64_t pa, uint64_t order)
{
	prefix(w);
	if (pa >= w->pool_lo && pa < w->pool_hi)
		/* include/trace/events/kmem.h: mm_page_alloc, mm_page_free */
		fprintf(w->out.f, alloc ? "mm_page_alloc: pfn=0x%" PRIx64 " order=%" PRIu64
					  " migratetype=0 gfp_flags=GFP_KERNEL\n" :
					  "mm_page_free: pfn=0x%" PRIx64 " order=%" PRIu64 "\n",
			pa >> 12, order);
	else
		fprintf(w->out.f, "hvmm_hyp_page_%s: pa=0x%" PRIx64 " order=%" PRIu64 "\n",
			alloc ? "alloc" : "free", pa, order);
}

static void sink(void *ctx, int ev, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct sim_events_writer *w = ctx;

	switch (ev) {
	case HVMM_TRACE_PAGE_ALLOC:
	case HVMM_TRACE_PAGE_FREE:
		page_event(w, ev == HVMM_TRACE_PAGE_ALLOC, a, b);
		break;
	case HVMM_TRACE_S2_MAP:
		prefix(w);
		fprintf(w->out.f, "hvmm_s2_map: vmid=%" PRIu64 " ipa=0x%" PRIx64 " pa=0x%" PRIx64
			" size=0x%" PRIx64 "\n", a, b, c, d);
		break;
	case HVMM_TRACE_S2_UNMAP:
		prefix(w);
		fprintf(w->out.f, "hvmm_s2_unmap: vmid=%" PRIu64 " ipa=0x%" PRIx64 " size=0x%" PRIx64
			"\n", a, b, c);
		break;
	case HVMM_TRACE_OWNERSHIP:
		/* One line a page, as the format has always had it (mm/ reports a range). */
		for (uint64_t i = 0; i < b; i++) {
			prefix(w);
			fprintf(w->out.f, "hvmm_ownership: pa=0x%" PRIx64 " owner=%" PRIu64
				" state=%" PRIu64 "\n", a + (i << 12), c, d);
		}
		break;
	default:
		prefix(w);
		fprintf(w->out.f, "hvmm_event_%d: a=0x%" PRIx64 " b=0x%" PRIx64 " c=0x%" PRIx64
			" d=0x%" PRIx64 "\n", ev, a, b, c, d);
		break;
	}
}

struct sim_events_writer *sim_events_writer_open(const char *path, uint64_t pool_pa,
						 uint64_t pool_size, char *err, size_t errlen)
{
	struct sim_events_writer *w = calloc(1, sizeof(*w));

	if (!w || sim_outfile_open(&w->out, path)) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(w ? errno : ENOMEM));
		free(w);
		return NULL;
	}
	w->pool_lo = pool_pa;
	w->pool_hi = pool_pa + pool_size;
	fprintf(w->out.f, "# tracer: nop\n#\n"
		"# Events mm/ emitted through hvmm_trace(), as ftrace text: the allocator\n"
		"# under test's pages as kmem:mm_page_alloc/mm_page_free (pool 0x%" PRIx64
		"-0x%" PRIx64 "),\n"
		"# the rest as hvmm_* events. 'hvmm import' reads it back into a trace.\n"
		"#\n#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n"
		"#              | |         |         |         |\n",
		w->pool_lo, w->pool_hi);
	sim_platform_set_trace_sink(sink, w);
	return w;
}

int sim_events_writer_finish(struct sim_events_writer *w, char *err, size_t errlen)
{
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s", w->out.path ? w->out.path : "events");
	sim_platform_set_trace_sink(NULL, NULL);
	ret = sim_outfile_commit(&w->out);
	if (ret)
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
	free(w);
	return ret;
}

void sim_events_writer_discard(struct sim_events_writer *w)
{
	if (!w)
		return;
	sim_platform_set_trace_sink(NULL, NULL);
	sim_outfile_discard(&w->out);
	free(w);
}
