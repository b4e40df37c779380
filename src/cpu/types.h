/* Basic types shared by every layer: typed addresses and small helpers. */
#ifndef TURTLES_CPU_TYPES_H
#define TURTLES_CPU_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gva_t; /* guest-linear (virtual) address */
typedef uint64_t gpa_t; /* guest-physical address */
typedef uint64_t hpa_t; /* host-physical address (silicon's view) */

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define BIT(n) (1ULL << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif
