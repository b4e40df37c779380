#include "rt.h"
USER_TEXT static uint64_t u_misaligned(uint64_t va) { return *(volatile uint32_t *)(va + 1); }
int main(void)
{
	static uint64_t buf[2] USER_DATA;
	struct fault f;
	write_cr0(read_cr0() | CR0_AM);
	if (!fault_try(&f)) { user_call_flags(u_misaligned, (uintptr_t)buf, FL_AC); fault_end(&f); }
	printf("AC vector %d\n", f.vector);
	check(1, "probe");
	return 0;
}
