/* Exercises the platform libc and builtins (RVC code, loops, calls through a
 * table, 64-bit division); prints each check and returns the failure count. */
#include "mlml_platform.h"

static int failures;

static void check(const char *what, int ok) {
    printf("%-10s %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

static int streq(const char *a, const char *b) {
    return strlen(a) == strlen(b) && memcmp(a, b, strlen(a)) == 0;
}

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int (*const ops[])(int, int) = {add, sub, mul};

int main(void) {
    char buf[64];
    uint8_t bytes[32];
    for (int i = 0; i < 32; ++i) bytes[i] = (uint8_t)i;

    memmove(bytes + 4, bytes, 16); /* overlapping, backwards */
    check("memmove", bytes[4] == 0 && bytes[19] == 15 && bytes[20] == 20);
    memset(bytes, 0xab, 7);
    check("memset", bytes[0] == 0xab && bytes[6] == 0xab && bytes[7] == 3);
    memcpy(buf, "abcdef", 7);
    check("memcpy", streq(buf, "abcdef"));
    check("memcmp", memcmp("abc", "abd", 3) < 0 && memcmp("abc", "abc", 3) == 0);

    snprintf(buf, sizeof buf, "%d|%5d|%-4d|%05d|%u", -7, 42, 3, -12, 4000000000u);
    check("printf-d", streq(buf, "-7|   42|3   |-0012|4000000000"));
    snprintf(buf, sizeof buf, "%x|%X|%08x|%c|%s|%%", 0xbeefu, 0xbeefu, 0x1fu, 'z', "str");
    check("printf-x", streq(buf, "beef|BEEF|0000001f|z|str|%"));
    snprintf(buf, sizeof buf, "%lld|%llu|%zu|%ld|%p", -9000000000ll, 18000000000ull,
             (size_t)123, -5l, (void *)0x1234);
    check("printf-l", streq(buf, "-9000000000|18000000000|123|-5|0x1234"));
    check("snprintf-n", snprintf(buf, 4, "%s", "truncate") == 8 && streq(buf, "tru"));

    volatile int64_t n = -1234567890123ll, d = 1000003;
    volatile uint64_t un = 0xfedcba9876543210ull, ud = 0x12345ull;
    check("divdi3", n / d == -1234564 && n % d == -186431);
    check("udivdi3", un / ud == 0xe0004fa01c4dull && un % ud == 0x10a4f);

    int acc = 0;
    for (int i = 0; i < 9; ++i) acc = ops[i % 3](acc, i + 1);
    check("calls", acc == -225);
    return failures;
}
