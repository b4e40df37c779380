/* start.c - 64-bit runtime initialisation, then the kernel's main() */
#include "rt.h"

void rt_start(void) __attribute__((noreturn));

void rt_start(void)
{
	serial_init();
	gdt_init();
	idt_init();
	paging_init();
	main();
	test_done();
}
