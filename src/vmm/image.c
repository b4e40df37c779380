/* Reading kernel images from the host and placing them in guest RAM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/loader.h"

int image_read(const char *path, uint64_t max_size, struct image *img)
{
	*img = (struct image){ .path = path };
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "turtles: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "turtles: %s: not a regular file\n", path);
		fclose(f);
		return -1;
	}
	if ((uint64_t)st.st_size > max_size) {
		fprintf(stderr, "turtles: %s: %lld bytes do not fit in guest RAM\n", path,
			(long long)st.st_size);
		fclose(f);
		return -1;
	}
	img->size = (uint64_t)st.st_size;
	img->data = malloc(img->size ? img->size : 1);
	if (!img->data || fread(img->data, 1, img->size, f) != img->size) {
		fprintf(stderr, "turtles: %s: cannot read\n", path);
		free(img->data);
		img->data = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int image_place(struct bus *bus, const struct image *img, uint64_t file_off,
		uint64_t filesz, uint64_t memsz, uint64_t gpa)
{
	if (filesz > memsz || file_off > img->size || filesz > img->size - file_off) {
		fprintf(stderr, "turtles: %s: segment lies outside the file\n", img->path);
		return -1;
	}
	if (gpa > bus->ram_size || memsz > bus->ram_size - gpa) {
		fprintf(stderr,
			"turtles: %s: loads at 0x%llx..0x%llx, beyond guest RAM (%llu MiB); "
			"give more memory with -m\n",
			img->path, (unsigned long long)gpa, (unsigned long long)(gpa + memsz),
			(unsigned long long)(bus->ram_size >> 20));
		return -1;
	}
	bus_copy_to(bus, gpa, img->data + file_off, filesz);
	memset(bus->ram + gpa + filesz, 0, memsz - filesz);
	return 0;
}
