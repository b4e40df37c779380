/*
 * --stats and --stats-json: instructions and host time, per-CPU counters, and each
 * level's VM exits by reason with counts and the host time spent handling them (at
 * level 1, the exits of the guest that L0 handled).
 */
#include <errno.h>
#include <string.h>

#include "vmm/machine.h"

static uint64_t run_ns(const struct machine *m)
{
	return clock_host_ns() - m->host_start_ns;
}

void vmm_stats_print(const struct machine *m, FILE *f)
{
	uint64_t ns = run_ns(m);
	fprintf(f, "turtles: %llu instructions in %.3f s host time (%.1f MIPS), level %d\n",
		(unsigned long long)m->clock.retired, ns / 1e9,
		ns ? m->clock.retired * 1e3 / ns : 0.0, m->opt.level);
	for (int i = 0; i < m->ncpus; i++) {
		const struct cpu_stats *s = &m->cpus[i]->stats;
		fprintf(f, "  cpu%d: %llu retired, %llu exceptions, %llu interrupts\n", i,
			(unsigned long long)s->retired, (unsigned long long)s->exceptions,
			(unsigned long long)s->interrupts);
	}
	fprintf(f, "  decoded-instruction cache: %llu misses\n",
		(unsigned long long)m->dcache.misses);
	if (m->hv)
		hv_stats_print(m->hv, 1, f);
}

int vmm_stats_json(const struct machine *m, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "turtles: --stats-json %s: %s\n", path, strerror(errno));
		return -1;
	}
	uint64_t ns = run_ns(m);
	fprintf(f, "{\n  \"level\": %d,\n  \"instructions\": %llu,\n  \"host_ns\": %llu,\n"
		   "  \"cpus\": [",
		m->opt.level, (unsigned long long)m->clock.retired, (unsigned long long)ns);
	for (int i = 0; i < m->ncpus; i++) {
		const struct cpu_stats *s = &m->cpus[i]->stats;
		fprintf(f, "%s{\"retired\": %llu, \"exceptions\": %llu, \"interrupts\": %llu}",
			i ? ", " : "", (unsigned long long)s->retired,
			(unsigned long long)s->exceptions, (unsigned long long)s->interrupts);
	}
	fprintf(f, "],\n  \"levels\": [");
	if (m->hv)
		hv_stats_json(m->hv, 1, f);
	fprintf(f, "]\n}\n");
	if (fclose(f)) {
		fprintf(stderr, "turtles: --stats-json %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
