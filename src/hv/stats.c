/*
 * --stats and --stats-json: L0's exits by reason, with counts and the host time spent
 * handling them (names from vmx_exit_reason_name(), SDM App. C).
 */
#include "hv/hv_internal.h"

/* The host's time-stamp counter: two reads per exit must cost far less than the exit
 * (clock_gettime would be a quarter of it). Converted to ns at report time against
 * the host clock over the whole run. Other hosts fall back to the clock. */
uint64_t hv_host_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return clock_host_ns();
#endif
}

void hv_stats_start(struct hv_vm *vm)
{
	vm->stats_tsc0 = hv_host_ticks();
	vm->stats_ns0 = clock_host_ns();
}

static double ns_per_tick(const struct hv_vm *vm)
{
	uint64_t ticks = hv_host_ticks() - vm->stats_tsc0;
	uint64_t ns = clock_host_ns() - vm->stats_ns0;
	return ticks ? (double)ns / (double)ticks : 1.0;
}

static const char *slot_name(unsigned slot)
{
	return slot == EXIT_REASON_MAX ? "vm_entry_failure" : vmx_exit_reason_name(slot);
}

void hv_stats_print(const struct hv_vm *vm, int level, FILE *f)
{
	double k = ns_per_tick(vm);
	uint64_t total = 0;
	double total_ns = 0;
	for (unsigned i = 0; i < HV_EXIT_SLOTS; i++) {
		total += vm->stats[i].count;
		total_ns += (double)vm->stats[i].ticks * k;
	}
	fprintf(f, "  level %d exits (handled by L0): %llu, %.3f ms host time\n", level,
		(unsigned long long)total, total_ns / 1e6);
	fprintf(f, "    %-22s %12s %14s %10s\n", "reason", "count", "host ms", "ns/exit");
	for (unsigned i = 0; i < HV_EXIT_SLOTS; i++) {
		const struct hv_exit_stat *s = &vm->stats[i];
		if (!s->count)
			continue;
		double ns = (double)s->ticks * k;
		fprintf(f, "    %-22s %12llu %14.3f %10.0f\n", slot_name(i),
			(unsigned long long)s->count, ns / 1e6, ns / (double)s->count);
	}
}

void hv_stats_json(const struct hv_vm *vm, int level, FILE *f)
{
	double k = ns_per_tick(vm);
	fprintf(f, "{\"level\": %d, \"handled_by\": \"L0\", \"exits\": [", level);
	bool first = true;
	for (unsigned i = 0; i < HV_EXIT_SLOTS; i++) {
		const struct hv_exit_stat *s = &vm->stats[i];
		if (!s->count)
			continue;
		fprintf(f, "%s\n    {\"reason\": \"%s\", \"number\": %d, \"count\": %llu, "
			   "\"host_ns\": %llu}",
			first ? "" : ",", slot_name(i), i == EXIT_REASON_MAX ? -1 : (int)i,
			(unsigned long long)s->count, (unsigned long long)((double)s->ticks * k));
		first = false;
	}
	fprintf(f, "\n  ]}");
}
