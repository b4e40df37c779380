/*
 * National Semiconductor PC16550D UART (the "16550A" every PC has) on COM1, ports
 * 0x3F8-0x3FF, ISA IRQ4, connected to host file descriptors.
 *
 * Transmission is instantaneous: a THR write goes straight to out_fd (or, in loopback,
 * to the receive FIFO), so THRE/TEMT are always set and the THRE interrupt follows each
 * write. Reception reads in_fd without blocking: from a clock timer every
 * UART_POLL_NS of virtual time and on LSR/RBR reads (rate-limited), only as many bytes
 * as the FIFO has room for, so host data is never dropped. The FIFO character-timeout
 * interrupt fires when data sat unread for one whole poll period.
 *
 * Reference: PC16550D datasheet (National, June 1995), Tables 2-4; QEMU hw/char/serial.c
 * for the power-on modem status (DCD, DSR, CTS set: a terminal is attached) and for not
 * gating the IRQ with MCR.OUT2.
 */
#ifndef TURTLES_DEV_UART16550_H
#define TURTLES_DEV_UART16550_H

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "dev/irq_router.h"

#define UART_FIFO_SIZE 16
#define UART_POLL_NS 1000000ULL     /* input poll period: 1 ms of virtual time */
#define UART_LSR_POLL_NS 20000ULL   /* at most one host read per 20 us on LSR reads */

struct uart {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t rx[UART_FIFO_SIZE];
	int rx_head, rx_count;
	bool thr_ipending;     /* THRE interrupt pending until IIR read or THR write */
	bool timeout_ipending; /* FIFO character timeout */
	bool rx_touched;       /* a byte arrived or was read since the last poll */
	bool in_eof;
	int in_fd, out_fd;     /* -1 = not connected */
	uint64_t last_poll;
	struct clock *clock;
	struct irq_line irq;
	int timer;
};

int uart_init(struct uart *u, struct clock *clock, struct irq_line irq, int in_fd,
	      int out_fd);
int uart_map(struct uart *u, struct bus *bus, uint16_t base);

/* Feed a byte as if it arrived on the line (tests, or a board-level console). Returns
 * false if the receive buffer is full (the byte is counted as an overrun). */
bool uart_receive(struct uart *u, uint8_t byte);

#endif
