/* A compact printf family writing to the UART (or a buffer).
 *
 * Conversions: %d %i %u %x %X %s %c %p %%, flags '-' and '0', a field
 * width, and the h/hh/l/ll/z length modifiers.  No floating point.
 */
#include "mlml_platform.h"

typedef struct {
    char *buf;      /* NULL: write to the UART */
    size_t size;
    size_t len;     /* characters produced so far (snprintf semantics) */
} sink_t;

static void emit(sink_t *s, char c) {
    if (s->buf == NULL) {
        mlml_uart_putc(c);
    } else if (s->len + 1 < s->size) {
        s->buf[s->len] = c;
    }
    s->len++;
}

static void emit_padded(sink_t *s, const char *text, size_t n, int width, int left, char pad) {
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left && pad == '0' && n && (text[0] == '-')) {  /* sign before zero padding */
        emit(s, *text++);
        n--;
    }
    if (!left) while (fill-- > 0) emit(s, pad);
    while (n--) emit(s, *text++);
    if (left) while (fill-- > 0) emit(s, ' ');
}

/* Digits of v in base 10 or 16, most significant first, into the end of tmp. */
static char *format_u64(char *end, unsigned long long v, unsigned base, int upper) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        unsigned d;
        if (base == 16) {
            d = (unsigned)(v & 15u);
            v >>= 4;
        } else {
            d = (unsigned)(v % 10u);
            v /= 10u;
        }
        *--p = digits[d];
    } while (v);
    return p;
}

static int format(sink_t *s, const char *fmt, va_list ap) {
    char tmp[24];
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            emit(s, *fmt);
            continue;
        }
        ++fmt;
        int left = 0;
        char pad = ' ';
        for (;; ++fmt) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        int length = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        for (;; ++fmt) {
            if (*fmt == 'l') length = length == 1 ? 2 : 1;
            else if (*fmt == 'z') length = 3;
            else if (*fmt == 'h') continue; /* promoted to int anyway */
            else break;
        }
        char *end = tmp + sizeof tmp;
        char *p;
        unsigned long long u;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = length == 2 ? va_arg(ap, long long)
                          : length == 1 ? va_arg(ap, long)
                          : length == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
            u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            p = format_u64(end, u, 10, 0);
            if (v < 0) *--p = '-';
            emit_padded(s, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
            u = length == 2 ? va_arg(ap, unsigned long long)
                : length == 1 ? va_arg(ap, unsigned long)
                : length == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned int);
            p = format_u64(end, u, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            emit_padded(s, p, (size_t)(end - p), width, left, pad);
            break;
        case 'p':
            p = format_u64(end, (uintptr_t)va_arg(ap, void *), 16, 0);
            *--p = 'x';
            *--p = '0';
            emit_padded(s, p, (size_t)(end - p), width, left, ' ');
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (str == NULL) str = "(null)";
            emit_padded(s, str, strlen(str), width, left, ' ');
            break;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            emit_padded(s, tmp, 1, width, left, ' ');
            break;
        case '%':
            emit(s, '%');
            break;
        case '\0':
            return (int)s->len;
        default: /* unknown conversion: print it verbatim */
            emit(s, '%');
            emit(s, *fmt);
            break;
        }
    }
    return (int)s->len;
}

int vprintf(const char *fmt, va_list ap) {
    sink_t s = {NULL, 0, 0};
    return format(&s, fmt, ap);
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    sink_t s = {buf, size, 0};
    int n = format(&s, fmt, ap);
    if (size) buf[s.len < size ? s.len : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int putchar(int c) {
    mlml_uart_putc((char)c);
    return (unsigned char)c;
}

int puts(const char *str) {
    while (*str) mlml_uart_putc(*str++);
    mlml_uart_putc('\n');
    return 0;
}
