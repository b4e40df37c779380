/* 16550A UART: see uart16550.h. */
#define _POSIX_C_SOURCE 200809L
#include "dev/uart16550.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1E /* OE, PE, FE, BI */
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define MCR_LOOP 0x10
#define FCR_ENABLE 0x01

static bool fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

static int rx_trigger(const struct uart *u)
{
	static const int level[4] = { 1, 4, 8, 14 }; /* FCR bits 7:6, datasheet Table 4 */
	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/* IIR in priority order (datasheet Table 4): line status, received data, character
 * timeout, THR empty, modem status. */
static uint8_t uart_iir(const struct uart *u)
{
	uint8_t id = IIR_NONE;
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		id = 0x06;
	else if ((u->ier & IER_RDI) && u->rx_count >= rx_trigger(u))
		id = 0x04;
	else if ((u->ier & IER_RDI) && u->timeout_ipending && u->rx_count)
		id = 0x0C;
	else if ((u->ier & IER_THRI) && u->thr_ipending)
		id = 0x02;
	else if ((u->ier & IER_MSI) && (u->msr & 0x0F))
		id = 0x00;
	return (uint8_t)(id | (fifo_on(u) ? 0xC0 : 0));
}

static void uart_update_irq(struct uart *u)
{
	irq_set(&u->irq, !(uart_iir(u) & IIR_NONE));
}

bool uart_receive(struct uart *u, uint8_t byte)
{
	int depth = fifo_on(u) ? UART_FIFO_SIZE : 1;
	if (u->rx_count == depth) {
		u->lsr |= LSR_OE;
		if (!fifo_on(u)) /* 16450 mode: the new character overwrites RBR */
			u->rx[u->rx_head] = byte;
		uart_update_irq(u);
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	u->lsr |= LSR_DR;
	u->rx_touched = true;
	u->timeout_ipending = false;
	uart_update_irq(u);
	return true;
}

/* Pull what the FIFO has room for from the host, without blocking. */
static void uart_poll_input(struct uart *u)
{
	int room = (fifo_on(u) ? UART_FIFO_SIZE : 1) - u->rx_count;
	u->last_poll = clock_now(u->clock);
	if (u->in_fd < 0 || u->in_eof || room <= 0 || (u->mcr & MCR_LOOP))
		return;
	struct pollfd pfd = { .fd = u->in_fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
		return;
	uint8_t buf[UART_FIFO_SIZE];
	ssize_t n = read(u->in_fd, buf, (size_t)room);
	if (n == 0)
		u->in_eof = true;
	for (ssize_t i = 0; i < n; i++)
		uart_receive(u, buf[i]);
}

static void uart_timer_fire(void *opaque, uint64_t now)
{
	struct uart *u = opaque;
	uart_poll_input(u);
	/* Data that neither arrived nor was read during a whole period timed out. */
	if (u->rx_count && !u->rx_touched)
		u->timeout_ipending = true;
	u->rx_touched = false;
	uart_update_irq(u);
	if (!u->in_eof)
		clock_timer_arm(u->clock, u->timer, now + UART_POLL_NS);
}

static void uart_host_write(struct uart *u, uint8_t byte)
{
	if (u->out_fd < 0)
		return;
	while (write(u->out_fd, &byte, 1) < 0 && errno == EINTR)
		;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		uart_receive(u, byte); /* loopback: TX feeds RX internally */
	else
		uart_host_write(u, byte);
	u->thr_ipending = true; /* THR is empty again at once */
}

static uint8_t uart_read_rbr(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	if (--u->rx_count == 0)
		u->lsr &= ~LSR_DR;
	u->rx_touched = true;
	u->timeout_ipending = false;
	return b;
}

/* MSR inputs: looped back from MCR in loopback mode (datasheet "Loopback"), otherwise
 * a connected terminal (DCD, DSR, CTS). Delta bits latch changes until MSR is read. */
static void uart_update_msr(struct uart *u)
{
	uint8_t in = 0xB0, m = u->mcr;
	if (m & MCR_LOOP)
		in = (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
			       ((m & 0x08) << 4));
	uint8_t changed = (in ^ u->msr) & 0xF0, delta = 0;
	if (changed & 0x10) delta |= 0x01; /* DCTS */
	if (changed & 0x20) delta |= 0x02; /* DDSR */
	if ((changed & 0x40) && !(in & 0x40)) delta |= 0x04; /* TERI: RI trailing edge */
	if (changed & 0x80) delta |= 0x08; /* DDCD */
	u->msr = (uint8_t)(in | ((u->msr | delta) & 0x0F));
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE)
		v |= 0x06; /* changing FIFO mode clears both FIFOs */
	if (v & 0x02) {
		u->rx_count = u->rx_head = 0;
		u->lsr &= ~LSR_DR;
		u->timeout_ipending = false;
	}
	u->fcr = v & 0xC9; /* bits 1, 2 self-clear; 4, 5 reserved */
}

static void uart_reg_write(struct uart *u, int reg, uint8_t v)
{
	bool dlab = u->lcr & 0x80;
	switch (reg) {
	case 0:
		if (dlab) { u->dll = v; break; }
		u->thr_ipending = false;
		uart_transmit(u, v);
		break;
	case 1:
		if (dlab) { u->dlm = v; break; }
		/* Enabling the THRE interrupt with THR empty raises it (datasheet 8.6.3). */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0F;
		break;
	case 2: uart_write_fcr(u, v); break;
	case 3: u->lcr = v; break;
	case 4: u->mcr = v & 0x1F; uart_update_msr(u); break;
	case 5: case 6: break; /* LSR and MSR writes are for factory test only */
	default: u->scr = v; break;
	}
	uart_update_irq(u);
}

static uint8_t uart_reg_read(struct uart *u, int reg)
{
	bool dlab = u->lcr & 0x80;
	uint8_t v;
	switch (reg) {
	case 0:
		if (dlab)
			return u->dll;
		v = uart_read_rbr(u);
		if (!u->rx_count && clock_now(u->clock) - u->last_poll >= UART_LSR_POLL_NS)
			uart_poll_input(u);
		break;
	case 1: return dlab ? u->dlm : u->ier;
	case 2:
		v = uart_iir(u);
		if ((v & 0x0F) == 0x02)
			u->thr_ipending = false; /* reading IIR clears a reported THRE */
		break;
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5:
		if (!u->rx_count && clock_now(u->clock) - u->last_poll >= UART_LSR_POLL_NS)
			uart_poll_input(u);
		v = u->lsr | LSR_THRE | LSR_TEMT;
		u->lsr &= ~LSR_OE; /* error bits clear when LSR is read */
		break;
	case 6:
		v = u->msr;
		u->msr &= 0xF0;
		break;
	default: return u->scr;
	}
	uart_update_irq(u);
	return v;
}

static uint32_t uart_io_read(void *opaque, uint16_t port, int size)
{
	(void)size;
	return uart_reg_read(opaque, port & 7);
}

static void uart_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	(void)size;
	uart_reg_write(opaque, port & 7, (uint8_t)value);
}

static const struct io_ops uart_io_ops = {
	.read = uart_io_read,
	.write = uart_io_write,
};

int uart_init(struct uart *u, struct clock *clock, struct irq_line irq, int in_fd,
	      int out_fd)
{
	*u = (struct uart){ .clock = clock, .irq = irq, .in_fd = in_fd, .out_fd = out_fd };
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = 0xB0;
	u->dll = 0x0C; /* 9600 baud, as QEMU's reset divider */
	u->timer = -1;
	if (in_fd < 0)
		return 0;
	u->timer = clock_timer_new(clock, uart_timer_fire, u);
	if (u->timer < 0)
		return -1;
	clock_timer_arm(clock, u->timer, clock_now(clock) + UART_POLL_NS);
	return 0;
}

int uart_map(struct uart *u, struct bus *bus, uint16_t base)
{
	return bus_map_io(bus, base, 8, &uart_io_ops, u);
}
