/*
 * rt.h - the guest runtime's public interface. Test kernels include only this.
 *
 * A kernel provides `int main(void)`; the runtime calls it in 64-bit mode at CPL 0
 * with serial, GDT/TSS, IDT and paging set up, then calls test_done().
 */
#ifndef RT_RT_H
#define RT_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "layout.h"
#include "x86.h"
#include "multiboot.h"
#include "desc.h"
#include "trap.h"
#include "paging.h"
#include "user.h"
#include "timer.h"
#include "modes.h"
#include "platform.h"

/* A pointer to an identity-mapped physical address. Laundered through asm so the
 * compiler does not treat small constant addresses as null-pointer arithmetic. */
static inline void *phys_ptr(uint64_t addr)
{
	void *p;
	__asm__("" : "=r"(p) : "0"(addr));
	return p;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define USER_TEXT __attribute__((section(".user.text"), noinline))
#define USER_DATA __attribute__((section(".user.data")))

int main(void);

/* printf.c: %d %i %u %x %X %o %s %c %p %%, flags '0' '-', width, h/hh/l/ll/z */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* serial.c: COM1 16550 */
void serial_init(void);
void serial_putc(char c);

/* test.c: one line per check */
void check(bool cond, const char *name);
void check_eq(uint64_t got, uint64_t expected, const char *name);
void checkf(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_eqf(uint64_t got, uint64_t expected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void skip(const char *name, const char *why);
void skipf(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void test_done(void);
/* isa-debug-exit (port 0xf4): QEMU exits with status (code << 1) | 1 */
__attribute__((noreturn)) void exit_qemu(uint32_t code);

/* string.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* alloc.c: identity-mapped physical pages from the multiboot memory map, zeroed */
void *alloc_pages(size_t n);
static inline void *alloc_page(void) { return alloc_pages(1); }

/* spinlock (used by printf, usable by SMP tests) */
typedef struct { volatile uint32_t v; } spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

extern char __image_start[], __image_end[], __user_start[], __user_end[];

#endif
