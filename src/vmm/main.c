/* turtles: the command line. */
#include <stdio.h>
#include <string.h>

#include "vmm/machine.h"
#include "vmm/options.h"

#define TURTLES_VERSION "0.1"

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		vmm_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? VMM_STATUS_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("turtles %s\n", TURTLES_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run")) {
		fprintf(stderr, "turtles: unknown command '%s' (see turtles --help)\n", argv[1]);
		return VMM_STATUS_USAGE;
	}
	struct vmm_options opt;
	if (vmm_parse_run_options(argc - 1, argv + 1, &opt))
		return VMM_STATUS_USAGE;
	return machine_main(&opt);
}
