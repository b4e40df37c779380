/* Test scaffolding for the executor (exec_harness.h). */
#include "exec_harness.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/io.h"

struct harness harness;

void harness_reset(void)
{
	memset(&harness, 0, sizeof(harness));
}

void harness_map(uint64_t base, void *host, uint64_t size, bool readonly)
{
	if (harness.nwin == HARNESS_MAX_WIN)
		abort();
	harness.win[harness.nwin++] = (struct hwin){ base, host, size, readonly };
}

static void seg_flat(struct seg *s, uint32_t ar, uint32_t limit)
{
	s->sel = 0;
	s->base = 0;
	s->limit = limit;
	s->ar = ar;
}

void harness_cpu_long64(struct cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->mode = MODE_LONG64;
	cpu->cpl = 3;
	cpu->cr0 = CR0_PE | CR0_PG;
	cpu->cr4 = CR4_PAE;
	cpu->efer = EFER_LME | EFER_LMA;
	cpu->rflags = RFLAGS_FIXED1;
	for (int i = 0; i < SEG_COUNT; i++)
		seg_flat(&cpu->seg[i], 0x3 | AR_S | AR_P | (3 << AR_DPL_SHIFT) | AR_DB | AR_G,
			 0xFFFFFFFF);
	cpu->seg[SEG_CS].ar = 0xB | AR_S | AR_P | (3 << AR_DPL_SHIFT) | AR_L | AR_G;
	cpu->delivering = -1;
	/* An empty software TLB (stamp 1 never matches a zero tag): the inline fast path
	 * of mem.h always misses and calls mem_read_slow/mem_write_slow below. */
	static struct tlb_entry *empty;
	if (!empty)
		empty = calloc((size_t)TLB_NCTX * TLB_SIZE, sizeof(*empty));
	if (!empty)
		abort();
	cpu->tlb.ent = empty;
	cpu->tlb.stamp = 1;
}

void harness_cpu_legacy(struct cpu *cpu, enum cpu_mode mode)
{
	harness_cpu_long64(cpu);
	cpu->mode = mode;
	cpu->efer = 0;
	cpu->cr0 = mode == MODE_REAL ? 0 : CR0_PE;
	cpu->cpl = mode == MODE_REAL ? 0 : 3;
	bool big = mode == MODE_PROT32;
	uint32_t limit = mode == MODE_REAL ? 0xFFFF : 0xFFFFFFFF;
	for (int i = 0; i < SEG_COUNT; i++)
		seg_flat(&cpu->seg[i], 0x3 | AR_S | AR_P | (big ? AR_DB : 0), limit);
	cpu->seg[SEG_CS].ar = 0xB | AR_S | AR_P | (big ? AR_DB : 0);
}

_Noreturn void cpu_exception(struct cpu *cpu, int vector, uint32_t error_code)
{
	cpu->exc_vector = (uint8_t)vector;
	cpu->exc_error = error_code;
	longjmp(cpu->fault_jmp, 1);
}

_Noreturn void cpu_page_fault(struct cpu *cpu, gva_t addr, uint32_t error_code)
{
	cpu->exc_cr2 = addr;
	cpu_exception(cpu, EXC_PF, error_code);
}

/* Segmentation as far as the tests need it: base, and the limit outside 64-bit mode. */
static gva_t linear(struct cpu *cpu, int seg, uint64_t off, int size)
{
	const struct seg *s = &cpu->seg[seg];
	if (cpu->mode == MODE_LONG64)
		return (seg == SEG_FS || seg == SEG_GS ? s->base : 0) + off;
	if (off + (uint64_t)size - 1 > s->limit)
		cpu_exception(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
	return (uint32_t)(s->base + off);
}

static uint8_t *host_ptr(struct cpu *cpu, gva_t la, int size, bool write)
{
	for (int i = 0; i < harness.nwin; i++) {
		struct hwin *w = &harness.win[i];
		if (la - w->base < w->size && la - w->base + (uint64_t)size <= w->size) {
			if (write && w->readonly)
				cpu_page_fault(cpu, la, PFEC_P | PFEC_W | PFEC_U);
			return w->host + (la - w->base);
		}
	}
	cpu_page_fault(cpu, la, (write ? PFEC_W : 0) | PFEC_U);
}

uint64_t lin_read(struct cpu *cpu, gva_t la, int osz, unsigned acc)
{
	(void)acc;
	uint64_t v = 0;
	memcpy(&v, host_ptr(cpu, la, 1 << osz, false), (size_t)1 << osz);
	return v;
}

void lin_write(struct cpu *cpu, gva_t la, int osz, uint64_t v, unsigned acc)
{
	(void)acc;
	memcpy(host_ptr(cpu, la, 1 << osz, true), &v, (size_t)1 << osz);
}

/* mem.h's inline fast path misses (the harness TLB is empty), so every access
 * arrives here. */
uint64_t mem_read_slow(struct cpu *cpu, int seg, uint64_t off, int osz)
{
	return lin_read(cpu, linear(cpu, seg, off, 1 << osz), osz, ACC_READ);
}

void mem_write_slow(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v)
{
	lin_write(cpu, linear(cpu, seg, off, 1 << osz), osz, v, ACC_WRITE);
}

void mem_check_write(struct cpu *cpu, int seg, uint64_t off, int size)
{
	harness.check_writes++;
	host_ptr(cpu, linear(cpu, seg, off, size), size, true);
}

void io_check_permission(struct cpu *cpu, uint16_t port, int size)
{
	(void)port;
	(void)size;
	if (harness.io_deny)
		cpu_gp(cpu, 0);
}

uint32_t io_in(struct cpu *cpu, uint16_t port, int size)
{
	(void)cpu;
	(void)port;
	harness.n_io_in++;
	uint32_t v = harness.io_in_value++;
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

void io_out(struct cpu *cpu, uint16_t port, int size, uint32_t value)
{
	(void)cpu;
	if (harness.n_io_out < HARNESS_MAX_IO)
		harness.io_out_log[harness.n_io_out] = (typeof(harness.io_out_log[0])){
			port, size, value };
	harness.n_io_out++;
}

bool cpu_has_feature(const struct cpu *cpu, int feature)
{
	(void)cpu;
	(void)feature;
	return true;
}

exec_fn harness_handler(enum op op)
{
	switch (op) {
#define H(name) case OP_##name: return exec_##name;
	H(ADD) H(OR) H(ADC) H(SBB) H(AND) H(SUB) H(XOR) H(CMP) H(TEST) H(INC) H(DEC)
	H(NEG) H(NOT)
	H(ROL) H(ROR) H(RCL) H(RCR) H(SHL) H(SHR) H(SAR) H(SHLD) H(SHRD)
	H(MUL) H(IMUL1) H(IMUL2) H(IMUL3) H(DIV) H(IDIV)
	H(BT) H(BTS) H(BTR) H(BTC) H(BSF) H(BSR) H(TZCNT) H(LZCNT) H(POPCNT)
	H(ANDN) H(BEXTR) H(BLSI) H(BLSMSK) H(BLSR) H(BZHI) H(MULX) H(PDEP) H(PEXT)
	H(RORX) H(SARX) H(SHLX) H(SHRX) H(CRC32)
	H(MOV) H(MOVZX) H(MOVSX) H(LEA) H(XCHG) H(CMOVCC) H(SETCC) H(BSWAP) H(MOVBE)
	H(CBW) H(CWD) H(XLAT) H(LAHF) H(SAHF) H(CMPXCHG) H(CMPXCHG8B) H(XADD)
	H(AAA) H(AAS) H(DAA) H(DAS) H(AAM) H(AAD) H(SALC)
	H(PUSH) H(POP) H(PUSHA) H(POPA) H(ENTER) H(LEAVE)
	H(JMP) H(JMP_IND) H(JCC) H(CALL) H(CALL_IND) H(RET) H(LOOP) H(LOOPE) H(LOOPNE)
	H(JCXZ)
	H(MOVS) H(CMPS) H(STOS) H(LODS) H(SCAS) H(INS) H(OUTS)
	H(CLC) H(STC) H(CMC) H(CLD) H(STD)
#undef H
	default: return NULL;
	}
}

int harness_exec(struct cpu *cpu, const struct insn *in)
{
	exec_fn fn = harness_handler((enum op)in->op);
	if (!fn)
		abort();
	cpu->next_rip = cpu->rip + in->len;
	if (cpu->mode != MODE_LONG64)
		cpu->next_rip &= cpu->mode == MODE_PROT32 ? 0xFFFFFFFF : 0xFFFF;
	if (setjmp(cpu->fault_jmp))
		return cpu->exc_vector;
	fn(cpu, in);
	cpu->rip = cpu->next_rip;
	return -1;
}
