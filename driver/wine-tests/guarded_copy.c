/* Runs rsms_guarded_copy (driver/src/asm/guarded_copy.s, the very file linked into
 * rsmailslot.sys) in a user-mode program under Wine: faults on bad source and destination
 * pointers must come back as STATUS_ACCESS_VIOLATION, valid copies must copy.
 * Built and run by tools/test-guarded-copy.sh. */
#include <windows.h>
#include <stdio.h>
#include <string.h>
extern unsigned int rsms_guarded_copy(void *dst, const void *src, size_t n);
static int failures;
static void check(int ok, const char *what) { printf("%s %s\n", ok ? "ok  " : "FAIL", what); if (!ok) failures++; }
int main(void) {
    char buf[64];
    memset(buf, 0, sizeof buf);
    check(rsms_guarded_copy(buf, "hello", 6) == 0 && strcmp(buf, "hello") == 0, "valid copy");
    check(rsms_guarded_copy(buf, "", 0) == 0, "zero-length copy");
    check(rsms_guarded_copy(buf, (void *)0x10, 8) == 0xC0000005, "read from an unmapped address");
    check(rsms_guarded_copy((void *)0x10, buf, 8) == 0xC0000005, "write to an unmapped address");
    char *page = VirtualAlloc(NULL, 8192, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    VirtualProtect(page + 4096, 4096, PAGE_NOACCESS, &old);
    memset(page, 'x', 4096);
    check(rsms_guarded_copy(buf, page + 4090, 12) == 0xC0000005, "read across into a no-access page");
    check(rsms_guarded_copy(page + 4090, buf, 12) == 0xC0000005, "write across into a no-access page");
    VirtualProtect(page, 4096, PAGE_READONLY, &old);
    check(rsms_guarded_copy(page, buf, 4) == 0xC0000005, "write to a read-only page");
    check(rsms_guarded_copy(buf, page, 4) == 0 && memcmp(buf, "xxxx", 4) == 0, "read from a read-only page");
    /* The function is reusable after a fault and preserves callee-saved registers. */
    for (int i = 0; i < 1000; i++) {
        if (rsms_guarded_copy(buf, (void *)0x10, 8) != 0xC0000005) { failures++; break; }
    }
    check(rsms_guarded_copy(buf, "again", 6) == 0 && strcmp(buf, "again") == 0, "copy after 1000 faults");
    printf("guarded copy: %d failures\n", failures);
    return failures != 0;
}
