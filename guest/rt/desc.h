/* desc.h - GDT, TSS and IDT (SDM Vol.3A 3.4.5, 7.2.3, 8.14) */
#ifndef RT_DESC_H
#define RT_DESC_H

#include <stdint.h>

/* 64-bit TSS, SDM Vol.3A 9.7 Figure 9-11, followed by the I/O permission bitmap
 * (SDM Vol.1 20.5.2) and its required trailing 0xff byte. */
struct tss64 {
	uint32_t rsv0;
	uint64_t rsp[3];
	uint64_t ist[8]; /* ist[1..7] = IST1..IST7; ist[0] is the reserved qword at 0x1c */
	uint64_t rsv1;
	uint16_t rsv2;
	uint16_t iomap_base;
	uint8_t iomap[8192 + 1];
} __attribute__((packed));

/* 16-byte IDT gate, SDM Vol.3A 7.14.1 Figure 7-8 */
struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t attr; /* P | DPL | 0 | type */
	uint16_t off1;
	uint32_t off2;
	uint32_t rsv;
} __attribute__((packed));

#define GATE_INT 0xE
#define GATE_TRAP 0xF
#define GATE_CALL 0xC

extern uint64_t gdt[];
extern struct tss64 tss;
extern struct idt_gate idt[256];

void gdt_init(void);
void idt_init(void);
void gdt_load(void);
void idt_load(void);

/* A code/data descriptor: access byte (P DPL S type), flags nibble (G D/B L AVL). */
uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* Write a 16-byte system descriptor (TSS/LDT/call gate) at GDT slots idx, idx+1. */
void gdt_set_sys(int idx, uint64_t lo, uint64_t hi);
/* 64-bit call gate, SDM Vol.3A 5.8.3.1 Figure 5-9 */
void gdt_set_call_gate(int idx, uint16_t sel, uint64_t target, int dpl);

void idt_set(int vec, uint64_t handler, int ist, int dpl, int type);
void idt_set_ist(int vec, int ist);
void idt_set_dpl(int vec, int dpl);
void idt_set_present(int vec, int present);
/* Address of the runtime's default entry stub for a vector. */
uint64_t isr_stub(int vec);
/* Set the I/O permission bit of a port: 1 = denied from CPL > IOPL. */
void tss_io_deny(uint16_t port, int deny);

static inline uint16_t str(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }

#endif
