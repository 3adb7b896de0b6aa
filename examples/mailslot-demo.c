/*
 * mailslot-demo.c: a mailslot server and client in one program, through rsmailslot's
 * namespace \\.\RsMailslot\ (or the Win32 prefix given as the first argument, such as
 * \\.\mailslot\ for Windows' own MSFS). The API is Windows' ordinary mailslot API.
 *
 *   x86_64-w64-mingw32-gcc -municode -O2 -o mailslot-demo.exe mailslot-demo.c
 *   cl /W4 mailslot-demo.c
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

int wmain(int argc, wchar_t **argv)
{
    const wchar_t *prefix = argc > 1 ? argv[1] : L"\\\\.\\RsMailslot\\";
    wchar_t name[MAX_PATH];
    _snwprintf(name, MAX_PATH, L"%lsdemo\\events-%lu", prefix, GetCurrentProcessId());
    name[MAX_PATH - 1] = L'\0';

    /* The server: any message size, reads wait up to one second. */
    HANDLE server = CreateMailslotW(name, 0, 1000, NULL);
    if (server == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateMailslotW failed: %lu\n", GetLastError());
        return 1;
    }

    /* A client: write access, sharing read and write as every Windows version accepts. */
    HANDLE client = CreateFileW(name, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                                OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateFileW failed: %lu\n", GetLastError());
        CloseHandle(server);
        return 1;
    }

    const char *messages[] = { "hello", "from", "a mailslot" };
    for (int i = 0; i < 3; i++) {
        DWORD written = 0;
        if (!WriteFile(client, messages[i], (DWORD)strlen(messages[i]), &written, NULL)) {
            fprintf(stderr, "WriteFile failed: %lu\n", GetLastError());
            return 1;
        }
    }
    CloseHandle(client);

    /* Drain without waiting: timeout 0 makes an empty slot answer at once. */
    SetMailslotInfo(server, 0);
    for (;;) {
        char buffer[512];
        DWORD read = 0;
        if (!ReadFile(server, buffer, sizeof buffer, &read, NULL)) {
            DWORD error = GetLastError();
            if (error == ERROR_SEM_TIMEOUT) {
                printf("empty\n");
                break;
            }
            fprintf(stderr, "ReadFile failed: %lu\n", error);
            return 1;
        }
        printf("read %lu bytes: %.*s\n", read, (int)read, buffer);
    }

    /* Closing the last server handle deletes the mailslot. */
    CloseHandle(server);
    return 0;
}
