#include "vmm/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vmm_usage(void *file)
{
	fputs("usage: turtles run --kernel IMAGE [options]\n"
	      "       turtles --help | --version\n"
	      "\n"
	      "Runs IMAGE on the turtles x86-64 machine, a QEMU 'pc'-like PC.\n"
	      "\n"
	      "  --kernel IMAGE      Multiboot v1 kernel (ELF32, ELF64 or a.out kludge), or a\n"
	      "                      plain ELF64 kernel (entered in 64-bit mode, see README)\n"
	      "  --append ARGS       kernel command line; the kernel sees 'IMAGE ARGS' as\n"
	      "                      QEMU passes it\n"
	      "  --initrd MODULES    Multiboot modules: 'file args,file args' (',,' is a\n"
	      "                      literal comma, as in QEMU)\n"
	      "  -m MIB              guest RAM in MiB (default 128, 2..3072)\n"
	      "  --smp N             number of CPUs (default 1, max 32); APs wait for\n"
	      "                      INIT-SIPI-SIPI\n"
	      "  --level L           1 = run the kernel as a guest of L0, the hypervisor,\n"
	      "                      in VMX non-root operation (default);\n"
	      "                      0 = run it bare on the silicon\n"
	      "  --deterministic     derive all time from retired instructions so that a\n"
	      "                      run repeats exactly\n"
	      "  --max-insns N       stop after N instructions (status 8); with\n"
	      "                      --deterministic, after N ns of virtual time, halted\n"
	      "                      time included\n"
	      "  --timeout SECONDS   stop after SECONDS of host time (status 8)\n"
	      "  --stats             print run statistics to stderr at exit, with each\n"
	      "                      level's VM exits by reason (count, host time)\n"
	      "  --stats-json FILE   write the same statistics as JSON to FILE\n"
	      "  -h, --help          this text\n"
	      "\n"
	      "Devices: COM1 16550 UART on stdio, isa-debug-exit at port 0xf4, pc-testdev,\n"
	      "port 0x80, 8259 PICs, 8254 PIT, CMOS RTC, local APICs (xAPIC/x2APIC),\n"
	      "IOAPIC, fw_cfg at 0x510, ACPI tables and PM timer.\n"
	      "\n"
	      "Exit status:\n"
	      "  (v << 1) | 1  the guest wrote v to isa-debug-exit (port 0xf4)\n"
	      "  0             the guest powered off\n"
	      "  2             bad options, unreadable or malformed image, too little memory\n"
	      "  4             triple fault (a register dump goes to stderr)\n"
	      "  6             every CPU halted with interrupts disabled (dump on stderr)\n"
	      "  8             --max-insns or --timeout reached\n"
	      "  10            a host resource failed\n",
	      (FILE *)file);
}

static int parse_u64(const char *name, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "turtles: %s: '%s' is not a number in %llu..%llu\n", name, s,
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

enum { OPT_KERNEL = 256, OPT_APPEND, OPT_INITRD, OPT_SMP, OPT_LEVEL, OPT_DET, OPT_MAXI,
       OPT_TIMEOUT, OPT_STATS, OPT_STATS_JSON };

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "smp", required_argument, NULL, OPT_SMP },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "deterministic", no_argument, NULL, OPT_DET },
	{ "max-insns", required_argument, NULL, OPT_MAXI },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int apply_option(int c, const char *arg, struct vmm_options *opt)
{
	uint64_t v;
	switch (c) {
	case OPT_KERNEL: opt->kernel = arg; return 0;
	case OPT_APPEND: opt->append = arg; return 0;
	case OPT_INITRD: opt->initrd = arg; return 0;
	case 'm':
		return parse_u64("-m", arg, 2, 3072, &opt->ram_mib);
	case OPT_SMP:
		if (parse_u64("--smp", arg, 1, VMM_MAX_CPUS, &v))
			return -1;
		opt->smp = (int)v;
		return 0;
	case OPT_LEVEL:
		if (parse_u64("--level", arg, 0, 9, &v))
			return -1;
		opt->level = (int)v;
		return 0;
	case OPT_DET: opt->deterministic = true; return 0;
	case OPT_MAXI: return parse_u64("--max-insns", arg, 1, UINT64_MAX, &opt->max_insns);
	case OPT_TIMEOUT:
		if (parse_u64("--timeout", arg, 1, 86400, &v))
			return -1;
		opt->timeout_s = (double)v;
		return 0;
	case OPT_STATS: opt->stats = true; return 0;
	case OPT_STATS_JSON: opt->stats_json = arg; return 0;
	default: return -1;
	}
}

int vmm_parse_run_options(int argc, char **argv, struct vmm_options *opt)
{
	*opt = (struct vmm_options){ .append = "", .ram_mib = 128, .smp = 1, .level = 1 };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hm:", run_options, NULL)) != -1) {
		if (c == 'h') {
			vmm_usage(stdout);
			exit(0);
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "turtles: %s option '%s' (see turtles --help)\n",
				c == ':' ? "missing argument for" : "unknown",
				argv[optind - 1]);
			return -1;
		}
		if (apply_option(c, optarg, opt))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "turtles: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!opt->kernel) {
		fprintf(stderr, "turtles: --kernel IMAGE is required (see turtles --help)\n");
		return -1;
	}
	if (opt->level > 1) {
		fprintf(stderr, "turtles: --level %d: levels 0 and 1 exist so far; level 2 "
				"needs nested VMX in L0\n", opt->level);
		return -1;
	}
	return 0;
}
