/* start.c - 64-bit runtime initialisation, then the kernel's main() */
#include "rt.h"

void rt_start(void) __attribute__((noreturn));

void rt_start(void)
{
	serial_init();
	/* The BIOS leaves the 8259 delivering IRQ0 at vector 8: remap and mask it so an
	 * STI never turns a timer tick into a fake #DF. */
	pic_init();
	gdt_init();
	idt_init();
	paging_init();
	main();
	test_done();
}
