/*
 * x86.h - tiny inline wrappers for privileged and special instructions.
 * Bit positions cite the SDM (Vol.3A ch.2 for control registers, Vol.2 CPUID).
 */
#ifndef RT_X86_H
#define RT_X86_H

#include <stdint.h>
#include <stdbool.h>

/* Spelled as in src/cpu/types.h, so that kernels may include the data-only VMX
 * header cpu/vmx/vmx_arch.h without a macro redefinition. */
#define BIT(n) (1ULL << (n))

/* RFLAGS, SDM Vol.1 3.4.3 */
#define FL_CF BIT(0)
#define FL_PF BIT(2)
#define FL_AF BIT(4)
#define FL_ZF BIT(6)
#define FL_SF BIT(7)
#define FL_TF BIT(8)
#define FL_IF BIT(9)
#define FL_DF BIT(10)
#define FL_OF BIT(11)
#define FL_IOPL(n) ((uint64_t)(n) << 12)
#define FL_NT BIT(14)
#define FL_RF BIT(16)
#define FL_VM BIT(17)
#define FL_AC BIT(18)
#define FL_ID BIT(21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 / CR4, SDM Vol.3A 2.5 */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)

/* MSRs, SDM Vol.4 */
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid { uint32_t a, b, c, d; };

static inline struct cpuid cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid r;
	__asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define DEF_CR(n)                                                                         \
	static inline uint64_t read_cr##n(void)                                           \
	{                                                                                 \
		uint64_t v;                                                               \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                         \
		return v;                                                                 \
	}                                                                                 \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEF_CR(0)
DEF_CR(2)
DEF_CR(3)
DEF_CR(4)
DEF_CR(8)
#undef DEF_CR

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void write_rflags(uint64_t v) { __asm__ volatile("pushq %0; popfq" ::"r"(v) : "memory", "cc"); }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }

/* CPUID feature tests (SDM Vol.2A CPUID, Tables 3-8..3-10). */
enum cpu_feature {
	/* leaf 1 ECX */
	F_SSE3 = 0x000, F_PCID = 0x011, F_SSE4_2 = 0x014, F_X2APIC = 0x015, F_MOVBE = 0x016,
	F_POPCNT = 0x017, F_TSC_DEADLINE = 0x018, F_CX16 = 0x00d, F_VMX = 0x005, F_HYPERVISOR = 0x01f,
	/* leaf 1 EDX */
	F_PSE = 0x103, F_TSC = 0x104, F_MSR = 0x105, F_PAE = 0x106, F_CX8 = 0x108, F_APIC = 0x109,
	F_SEP = 0x10b, F_PGE = 0x10d,
	/* leaf 7 EBX */
	F_FSGSBASE = 0x200, F_BMI1 = 0x203, F_SMEP = 0x207, F_BMI2 = 0x208, F_INVPCID = 0x20a,
	F_SMAP = 0x214,
	/* leaf 7 ECX */
	F_UMIP = 0x302, F_PKU = 0x303, F_LA57 = 0x310,
	/* leaf 0x80000001 ECX */
	F_LAHF_LM = 0x400, F_ABM = 0x405,
	/* leaf 0x80000001 EDX */
	F_SYSCALL = 0x50b, F_NX = 0x514, F_PAGE1GB = 0x51a, F_RDTSCP = 0x51b, F_LM = 0x51d,
};

bool has_feature(enum cpu_feature f);
/* CPUID.0 vendor is "GenuineIntel" */
bool cpu_is_intel(void);
/* Hypervisor signature is QEMU TCG's "TCGTCGTCGTCG" (CPUID.40000000H). Used only to
 * SKIP checks of architectural behaviour that QEMU TCG is known not to model. */
bool cpu_is_qemu_tcg(void);
/* CPUID.80000008H:EAX[7:0] */
int cpu_maxphyaddr(void);

#endif
