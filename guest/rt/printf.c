/* printf.c - minimal printf: %d %i %u %x %X %o %s %c %p %%, flags 0 -, width, h hh l ll z */
#include "rt.h"

struct out {
	char *buf;
	size_t n, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int count)
{
	while (count-- > 0)
		put(o, c);
}

static void emit(struct out *o, const char *s, int len, int width, bool left, char padc)
{
	if (!left)
		pad(o, padc, width - len);
	for (int i = 0; i < len; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', width - len);
}

static void number(struct out *o, uint64_t v, bool neg, int base, bool upper, int width,
		   bool left, bool zero)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && zero && !left) {
		put(o, '-');
		width--;
	} else if (neg) {
		tmp[i++] = '-';
	}
	char rev[24];
	for (int j = 0; j < i; j++)
		rev[j] = tmp[i - 1 - j];
	emit(o, rev, i, width, left, zero && !left ? '0' : ' ');
}

static uint64_t get_arg(va_list *ap, int lng, bool sign)
{
	if (lng >= 1)
		return sign ? (uint64_t)va_arg(*ap, long) : va_arg(*ap, unsigned long);
	if (sign) {
		int v = va_arg(*ap, int);
		return (uint64_t)(int64_t)(lng == -1 ? (short)v : lng == -2 ? (signed char)v : v);
	}
	unsigned v = va_arg(*ap, unsigned);
	return lng == -1 ? (uint16_t)v : lng == -2 ? (uint8_t)v : v;
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap_in)
{
	struct out o = { buf, n, 0 };
	va_list ap;

	va_copy(ap, ap_in);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		bool left = false, zero = false;
		int width = 0, lng = 0;
		for (fmt++; *fmt == '-' || *fmt == '0'; fmt++)
			*fmt == '-' ? (left = true) : (zero = true);
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
			lng = *fmt == 'h' ? lng - 1 : lng + 1;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = (int64_t)get_arg(&ap, lng, true);
			number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, width, left, zero);
			break;
		}
		case 'u': number(&o, get_arg(&ap, lng, false), false, 10, false, width, left, zero); break;
		case 'x': number(&o, get_arg(&ap, lng, false), false, 16, false, width, left, zero); break;
		case 'X': number(&o, get_arg(&ap, lng, false), false, 16, true, width, left, zero); break;
		case 'o': number(&o, get_arg(&ap, lng, false), false, 8, false, width, left, zero); break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, width, left, zero);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			emit(&o, &c, 1, width, left, ' ');
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			emit(&o, s, (int)strlen(s), width, left, ' ');
			break;
		}
		case '%': put(&o, '%'); break;
		case 0: fmt--; break;
		default: put(&o, '%'); put(&o, *fmt); break;
		}
	}
	va_end(ap);
	if (n)
		buf[o.len < n ? o.len : n - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

static spinlock_t print_lock;

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spin_lock(&print_lock);
	for (char *p = buf; *p; p++)
		serial_putc(*p);
	spin_unlock(&print_lock);
	return r;
}
