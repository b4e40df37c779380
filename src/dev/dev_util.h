/*
 * Small helpers shared by the device models: fixed-point time conversion and BCD.
 */
#ifndef TURTLES_DEV_DEV_UTIL_H
#define TURTLES_DEV_DEV_UTIL_H

#include "cpu/types.h"

#define NS_PER_SEC 1000000000ULL

/* a * b / c without intermediate overflow (a*b may exceed 64 bits: ns x Hz). */
static inline uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)(((unsigned __int128)a * b) / c);
}

/* Same, rounded up: the first ns at which a tick count has been reached. */
static inline uint64_t muldiv64_ceil(uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)(((unsigned __int128)a * b + c - 1) / c);
}

static inline uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static inline unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xF);
}

#endif
