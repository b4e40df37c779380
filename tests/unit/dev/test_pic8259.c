/*
 * 8259A pair through its I/O ports. Expected behaviour from the Intel 8259A datasheet
 * (ICW/OCW formats, priority resolution, EOI and rotation commands, poll command,
 * spurious IR7) and the PIIX4 ELCR description.
 */
#include "dev/pic8259.h"
#include "test_util.h"

static bool intr;
static int intr_changes;

static void on_intr(void *opaque, bool level)
{
	(void)opaque;
	intr = level;
	intr_changes++;
}

/* The PC BIOS sequence: edge, cascade, ICW4; bases 0x08/0x70. */
static void pic_setup(struct bus *b, uint8_t mbase, uint8_t sbase, uint8_t icw4)
{
	outb(b, 0x20, 0x11); outb(b, 0x21, mbase); outb(b, 0x21, 0x04); outb(b, 0x21, icw4);
	outb(b, 0xA0, 0x11); outb(b, 0xA1, sbase); outb(b, 0xA1, 0x02); outb(b, 0xA1, icw4);
	outb(b, 0x21, 0x00); outb(b, 0xA1, 0x00);
}

static void test_init_and_priority(struct bus *b, struct pic *p)
{
	pic_setup(b, 0x20, 0x28, 0x01);
	CHECK_EQ(inb(b, 0x21), 0x00, "IMR after init (OCW1 0)");
	CHECK(!intr, "INTR low with nothing pending");

	pic_set_irq(p, 3, 1);
	pic_set_irq(p, 1, 1);
	CHECK(intr, "INTR high after IRQ1/IRQ3 edges");
	outb(b, 0x20, 0x0A); /* OCW3: read IRR */
	CHECK_EQ(inb(b, 0x20), 0x0A, "IRR shows IR1 and IR3");
	CHECK_EQ(pic_intack(p), 0x21, "INTA: IR1 first (IR0 highest priority)");
	outb(b, 0x20, 0x0B); /* OCW3: read ISR */
	CHECK_EQ(inb(b, 0x20), 0x02, "ISR bit 1 set after INTA");
	CHECK(!intr, "IR3 blocked while IR1 in service (fully nested)");
	pic_set_irq(p, 0, 1);
	CHECK(intr, "IR0 preempts IR1 in service");
	CHECK_EQ(pic_intack(p), 0x20, "INTA: IR0");
	outb(b, 0x20, 0x20); /* non-specific EOI: clears IR0 (highest in service) */
	CHECK_EQ(inb(b, 0x20), 0x02, "non-specific EOI retired IR0 only");
	outb(b, 0x20, 0x61); /* specific EOI, level 1 */
	CHECK_EQ(inb(b, 0x20), 0x00, "specific EOI 1 retired IR1");
	CHECK(intr, "IR3 now deliverable");
	CHECK_EQ(pic_intack(p), 0x23, "INTA: IR3");
	outb(b, 0x20, 0x20);
	pic_set_irq(p, 0, 0); pic_set_irq(p, 1, 0); pic_set_irq(p, 3, 0);
	CHECK(!intr, "INTR low once everything is serviced");
}

static void test_mask_spurious_cascade(struct bus *b, struct pic *p)
{
	outb(b, 0x21, 0x10); /* mask IR4 */
	pic_set_irq(p, 4, 1);
	CHECK(!intr, "masked IR4 does not raise INTR");
	outb(b, 0x20, 0x0A);
	CHECK_EQ(inb(b, 0x20), 0x10, "masked request still latched in IRR");
	outb(b, 0x21, 0x00);
	CHECK(intr, "unmasking IR4 raises INTR");
	pic_set_irq(p, 4, 0);
	CHECK_EQ(pic_intack(p), 0x24, "edge latched in IRR survives the input falling");
	outb(b, 0x20, 0x20);
	CHECK_EQ(pic_intack(p), 0x27, "INTA with nothing pending: spurious IR7");
	outb(b, 0x20, 0x0B);
	CHECK_EQ(inb(b, 0x20), 0x00, "spurious IR7 sets no ISR bit");

	pic_set_irq(p, 10, 1);
	CHECK(intr, "slave IR2 (IRQ10) reaches the master via IR2");
	CHECK_EQ(pic_intack(p), 0x2A, "INTA: slave base + 2");
	CHECK_EQ(inb(b, 0x20), 0x04, "master ISR: cascade input 2");
	outb(b, 0xA0, 0x0B);
	CHECK_EQ(inb(b, 0xA0), 0x04, "slave ISR bit 2");
	outb(b, 0xA0, 0x20); outb(b, 0x20, 0x20);
	pic_set_irq(p, 10, 0);
	CHECK_EQ(inb(b, 0x20) | inb(b, 0xA0), 0x00, "both ISRs clear after EOIs");
}

static void test_level_poll_aeoi(struct bus *b, struct pic *p)
{
	outb(b, 0x4D1, 0xFF);
	CHECK_EQ(inb(b, 0x4D1), 0xDE, "ELCR2: IRQ8 and IRQ13 cannot be level");
	outb(b, 0x4D0, 0xFF);
	CHECK_EQ(inb(b, 0x4D0), 0xF8, "ELCR1: IRQ0-2 cannot be level");
	outb(b, 0x4D0, 0x20); /* IRQ5 level */
	outb(b, 0x4D1, 0x00);
	pic_set_irq(p, 5, 1);
	CHECK_EQ(pic_intack(p), 0x25, "level IRQ5 delivered");
	outb(b, 0x20, 0x20);
	CHECK(intr, "level IRQ5 still asserted: requests again after EOI");
	pic_set_irq(p, 5, 0);
	CHECK(!intr, "level IRQ5 deasserted: IRR follows the input");
	outb(b, 0x4D0, 0x00);

	pic_set_irq(p, 6, 1);
	outb(b, 0x20, 0x0C); /* OCW3 poll */
	CHECK_EQ(inb(b, 0x20), 0x86, "poll: 0x80 | IR6");
	outb(b, 0x20, 0x0B);
	CHECK_EQ(inb(b, 0x20), 0x40, "poll acknowledged IR6 (ISR bit 6)");
	outb(b, 0x20, 0x20);
	outb(b, 0x20, 0x0C);
	CHECK_EQ(inb(b, 0x20), 0x00, "poll with nothing pending reads 0");
	pic_set_irq(p, 6, 0);

	pic_setup(b, 0x20, 0x28, 0x03); /* ICW4: AEOI */
	pic_set_irq(p, 3, 1);
	CHECK_EQ(pic_intack(p), 0x23, "AEOI: vector delivered");
	outb(b, 0x20, 0x0B);
	CHECK_EQ(inb(b, 0x20), 0x00, "AEOI: no ISR bit left");
	pic_set_irq(p, 3, 0);
}

static void test_rotation_special_mask(struct bus *b, struct pic *p)
{
	pic_setup(b, 0x20, 0x28, 0x01);
	outb(b, 0x20, 0xC4); /* set priority: IR4 lowest, so IR5 highest */
	pic_set_irq(p, 3, 1);
	pic_set_irq(p, 6, 1);
	CHECK_EQ(pic_intack(p), 0x26, "after set-priority(4), IR6 beats IR3");
	outb(b, 0x20, 0xA0); /* rotate on non-specific EOI: IR6 becomes lowest */
	CHECK_EQ(pic_intack(p), 0x23, "IR3 next");
	pic_set_irq(p, 6, 0); pic_set_irq(p, 6, 1);
	outb(b, 0x20, 0xA0); /* rotate again: IR3 lowest, IR4 highest */
	CHECK_EQ(pic_intack(p), 0x26, "IR6 after rotation");
	outb(b, 0x20, 0x20);
	pic_set_irq(p, 3, 0); pic_set_irq(p, 6, 0);

	pic_setup(b, 0x20, 0x28, 0x01);
	pic_set_irq(p, 4, 1);
	CHECK_EQ(pic_intack(p), 0x24, "IR4 in service");
	pic_set_irq(p, 7, 1);
	CHECK(!intr, "IR7 blocked by IR4 in service");
	outb(b, 0x21, 0x10);  /* mask IR4 */
	outb(b, 0x20, 0x68);  /* OCW3: set special mask mode */
	CHECK(intr, "special mask mode: masked in-service IR4 no longer blocks IR7");
	CHECK_EQ(pic_intack(p), 0x27, "IR7 delivered under special mask");
	outb(b, 0x20, 0x48);  /* reset special mask mode */
	outb(b, 0x20, 0x67);  /* specific EOI IR7 */
	outb(b, 0x20, 0x64);  /* specific EOI IR4 */
	pic_set_irq(p, 4, 0); pic_set_irq(p, 7, 0);
	outb(b, 0x21, 0x00);
	CHECK(!intr, "quiet after special mask test");
}

int main(void)
{
	struct bus bus;
	struct pic pic;
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	pic_init(&pic, on_intr, NULL);
	if (pic_map(&pic, &bus) < 0)
		return 1;
	test_init_and_priority(&bus, &pic);
	test_mask_spurious_cascade(&bus, &pic);
	test_level_poll_aeoi(&bus, &pic);
	test_rotation_special_mask(&bus, &pic);
	bus_destroy(&bus);
	return test_done();
}
