/*
 * robust_mkkernel: write a tiny Multiboot a.out-kludge kernel for the shell tests.
 *
 *   robust_mkkernel OUT LOAD_ADDR CODE_HEX
 *
 * OUT gets a 32-byte Multiboot header that loads the whole file at LOAD_ADDR (any
 * strtoul base, e.g. 0x100000) followed by the bytes of CODE_HEX ("fa f4" or "faf4";
 * blanks ignored), which the kernel runs first: the entry point is LOAD_ADDR + 32.
 */
#include <ctype.h>

#include "robust.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OUT LOAD_ADDR CODE_HEX\n", argv[0]);
		return 2;
	}
	char *end;
	unsigned long load = strtoul(argv[2], &end, 0);
	if (*end || load > 0xFFFFF000ul) {
		fprintf(stderr, "%s: bad load address '%s'\n", argv[0], argv[2]);
		return 2;
	}
	size_t hexlen = strlen(argv[3]);
	uint8_t *buf = calloc(1, MB_HDR_SIZE + hexlen / 2 + 1);
	if (!buf)
		return 2;
	mb_aout_header(buf, (uint32_t)load);
	size_t n = MB_HDR_SIZE;
	int nibble = -1;
	for (const char *p = argv[3]; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (!isxdigit((unsigned char)*p)) {
			fprintf(stderr, "%s: bad hex digit '%c'\n", argv[0], *p);
			return 2;
		}
		int d = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
		if (nibble < 0)
			nibble = d;
		else {
			buf[n++] = (uint8_t)(nibble << 4 | d);
			nibble = -1;
		}
	}
	if (nibble >= 0) {
		fprintf(stderr, "%s: odd number of hex digits\n", argv[0]);
		return 2;
	}
	if (write_file(argv[1], buf, n)) {
		perror(argv[1]);
		return 2;
	}
	free(buf);
	return 0;
}
