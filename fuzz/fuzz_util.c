/* Input bytes as files for loaders that take paths (fuzz_util.h). */
#include "fuzz_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES 4

static char dir[256];
static char paths[MAX_FILES][320];

static void cleanup(void)
{
    for (int i = 0; i < MAX_FILES; i++)
        if (paths[i][0]) unlink(paths[i]);
    if (dir[0]) rmdir(dir);
}

const char *dk_fuzz_dir(void)
{
    if (dir[0]) return dir;
    /* tmpfs when there is one: no disk traffic for millions of inputs */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/dk_fuzz.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("dk_fuzz_dir: mkdtemp");
        abort();
    }
    atexit(cleanup);
    return dir;
}

const char *dk_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    const char *d = dk_fuzz_dir();
    int slot = 0;
    char want[320];
    snprintf(want, sizeof want, "%s/%s", d, name);
    while (slot < MAX_FILES && paths[slot][0] && strcmp(paths[slot], want)) slot++;
    if (slot == MAX_FILES) abort();
    memcpy(paths[slot], want, sizeof want);
    int fd = open(want, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(want);
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            perror(want);
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return paths[slot];
}
