/* Target-side platform API for mlonmcu-lite firmware.
 *
 * The addresses come from the generated mlml_memory_map.h (written by
 * mlonmcu_lite.toolchain.build_firmware from mlonmcu_lite/vp/memory_map.py).
 */
#ifndef MLML_PLATFORM_H
#define MLML_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "mlml_memory_map.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLML_MMIO32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Buffers the startup code neither loads nor clears (model inputs/outputs). */
#define MLML_NOINIT __attribute__((section(".noinit")))

/* Region marker: the VP counts instructions strictly between these two stores. */
static inline void mlml_region_begin(void) { MLML_MMIO32(MLML_REGION_BASE) = MLML_REGION_BEGIN; }
static inline void mlml_region_end(void) { MLML_MMIO32(MLML_REGION_BASE) = MLML_REGION_END; }

/* UART: a store to offset 0 transmits one byte. */
static inline void mlml_uart_putc(char c) { MLML_MMIO32(MLML_UART_BASE) = (uint8_t)c; }

/* The small libc in platform/libc (no heap, no files). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int putchar(int c);
int puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void exit(int code) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
