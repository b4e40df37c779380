/*
 * 16550A UART on COM1 (0x3F8, IRQ4) through its ports, with host pipes for input and
 * output. Expected register values from the PC16550D datasheet (Table 2 register
 * reset values: IER 0, IIR 0x01, LSR 0x60; Table 4 interrupt identification).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <unistd.h>

#include "dev/uart16550.h"
#include "test_util.h"

#define COM1 0x3F8

static struct bus bus;
static struct clock clk;
static struct uart uart;
static struct irq_router router;

static bool irq4(void)
{
	return router.level & (1u << 4);
}

static void test_reset_and_registers(void)
{
	CHECK_EQ(inb(&bus, COM1 + 1), 0x00, "IER resets to 0");
	CHECK_EQ(inb(&bus, COM1 + 2), 0x01, "IIR: no interrupt pending");
	CHECK_EQ(inb(&bus, COM1 + 5), 0x60, "LSR: THRE | TEMT");
	outb(&bus, COM1 + 7, 0x5A);
	CHECK_EQ(inb(&bus, COM1 + 7), 0x5A, "scratch register");
	outb(&bus, COM1 + 3, 0x80); /* DLAB */
	outb(&bus, COM1 + 0, 0x01);
	outb(&bus, COM1 + 1, 0x00); /* 115200 baud */
	CHECK_EQ(inb(&bus, COM1 + 0), 0x01, "DLL with DLAB set");
	outb(&bus, COM1 + 3, 0x03); /* 8N1 */
	CHECK_EQ(inb(&bus, COM1 + 3), 0x03, "LCR");
	outb(&bus, COM1 + 2, 0xC7); /* FIFO on, clear, trigger 14 */
	CHECK_EQ(inb(&bus, COM1 + 2) & 0xC0, 0xC0, "IIR bits 7:6 set with FIFOs enabled");
}

static void test_transmit_and_thre(int out_rd)
{
	outb(&bus, COM1 + 0, 'h');
	outb(&bus, COM1 + 0, 'i');
	char buf[4] = { 0 };
	CHECK(read(out_rd, buf, 2) == 2 && buf[0] == 'h' && buf[1] == 'i',
	      "THR bytes reach the host fd");
	CHECK(!irq4(), "no IRQ with IER 0");
	outb(&bus, COM1 + 1, 0x02); /* enable THRE interrupt with THR empty */
	CHECK(irq4(), "enabling ETBEI with THR empty raises IRQ4");
	CHECK_EQ(inb(&bus, COM1 + 2), 0xC2, "IIR: THR empty (0x2)");
	CHECK(!irq4(), "reading IIR cleared the THRE interrupt");
	outb(&bus, COM1 + 0, '!');
	CHECK(irq4(), "THRE interrupt again after a write (instant transmit)");
	outb(&bus, COM1 + 0, '\n'); /* a THR write clears it, then THR empties again */
	CHECK_EQ(inb(&bus, COM1 + 2) & 0x0F, 0x02, "IIR: THR empty after second write");
	outb(&bus, COM1 + 1, 0x00);
	CHECK(!irq4(), "IRQ4 low with interrupts disabled");
	CHECK(read(out_rd, buf, 2) == 2 && buf[0] == '!' && buf[1] == '\n', "later bytes in order");
}

static void test_loopback(void)
{
	outb(&bus, COM1 + 2, 0x07);       /* FIFO on, trigger level 1 */
	outb(&bus, COM1 + 4, 0x10 | 0x0B); /* loopback, OUT2, RTS, DTR */
	uint8_t msr = inb(&bus, COM1 + 6);
	CHECK_EQ(msr & 0xF0, 0xB0, "loopback MSR: DCD=OUT2, CTS=RTS, DSR=DTR, RI=OUT1(0)");
	outb(&bus, COM1 + 1, 0x01);       /* received-data interrupt */
	outb(&bus, COM1 + 0, 0x42);
	CHECK_EQ(inb(&bus, COM1 + 5) & 0x01, 0x01, "loopback: data ready");
	CHECK(irq4(), "loopback: RX interrupt");
	CHECK_EQ(inb(&bus, COM1 + 2), 0xC4, "IIR: received data available");
	CHECK_EQ(inb(&bus, COM1 + 0), 0x42, "loopback: byte comes back");
	CHECK(!irq4(), "RX interrupt clears when the FIFO drains");
	for (int i = 0; i < 17; i++)
		outb(&bus, COM1 + 0, (uint8_t)i);
	CHECK_EQ(inb(&bus, COM1 + 5) & 0x03, 0x03, "17 bytes into a 16-byte FIFO: overrun");
	CHECK_EQ(inb(&bus, COM1 + 5) & 0x02, 0x00, "OE clears when LSR is read");
	for (int i = 0; i < 16; i++)
		inb(&bus, COM1 + 0);
	outb(&bus, COM1 + 1, 0x00);
	outb(&bus, COM1 + 4, 0x00);
	inb(&bus, COM1 + 6);
}

static void test_host_input(int in_wr)
{
	outb(&bus, COM1 + 2, 0x87); /* FIFO, trigger 8 */
	outb(&bus, COM1 + 1, 0x01);
	CHECK(write(in_wr, "abc", 3) == 3, "host writes 3 bytes");
	clock_advance_to(&clk, clock_now(&clk) + UART_POLL_NS);
	CHECK_EQ(uart.rx_count, 3, "poll timer pulled the bytes into the FIFO");
	CHECK(!irq4(), "3 bytes under trigger level 8: no RDA yet");
	clock_advance_to(&clk, clock_now(&clk) + UART_POLL_NS);
	CHECK(irq4(), "character timeout after a quiet poll period");
	CHECK_EQ(inb(&bus, COM1 + 2), 0xCC, "IIR: character timeout (0xC)");
	CHECK_EQ(inb(&bus, COM1 + 0), 'a', "RBR a");
	CHECK_EQ(inb(&bus, COM1 + 0), 'b', "RBR b");
	CHECK_EQ(inb(&bus, COM1 + 0), 'c', "RBR c");
	CHECK_EQ(inb(&bus, COM1 + 5) & 0x01, 0, "no more data");
	CHECK(!irq4(), "IRQ4 low after draining");
	CHECK(write(in_wr, "z", 1) == 1, "host writes 1 byte");
	clock_set(&clk, clock_now(&clk) + UART_LSR_POLL_NS);
	CHECK_EQ(inb(&bus, COM1 + 5) & 0x01, 0x01, "LSR read polls the host: data ready");
	CHECK_EQ(inb(&bus, COM1 + 0), 'z', "RBR z");
	outb(&bus, COM1 + 1, 0x00);
}

int main(void)
{
	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0 || bus_init(&bus, 1 << 20) < 0)
		return 1;
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	clock_init(&clk, true);
	irq_router_init(&router, NULL, NULL);
	if (uart_init(&uart, &clk, irq_router_line(&router, 4), in[0], out[1]) < 0 ||
	    uart_map(&uart, &bus, COM1) < 0)
		return 1;
	test_reset_and_registers();
	test_transmit_and_thre(out[0]);
	test_loopback();
	test_host_input(in[1]);
	bus_destroy(&bus);
	return test_done();
}
