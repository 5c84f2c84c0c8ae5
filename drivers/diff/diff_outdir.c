/* Differential harness: the rules of a directory it writes (OUTDIR, a --save
 * bundle): one writer at a time (a lock file holding the owner's pid), no
 * symbolic links among its files, and no temporary file a killed write left
 * behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/file.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"

/* The pid a lock file names, 0 when unreadable. */
static long lock_owner(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

dk_status dk__dir_lock(const char *dir, int *fd)
{
    *fd = -1;
    DK_TRY(dk_file_mkdirs(dir));
    char path[4096];
    snprintf(path, sizeof path, "%s/" DK__DIR_LOCK, dir);
    /* flock: released by the kernel when the owner exits, however it ends, so
     * a lock file left by a dead run never blocks */
    int f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0)
        return dk__error(DK_ERR_IO, "%s: %s", path,
                         errno == ELOOP ? "is a symbolic link (refused)" : strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        long pid = busy ? lock_owner(f) : 0;
        dk_status s = !busy ? dk__error(DK_ERR_IO, "%s: cannot lock: %s", path, strerror(errno))
                      : pid ? dk__error(DK_ERR_INVALID, "%s is in use by pid %ld", dir, pid)
                            : dk__error(DK_ERR_INVALID, "%s is in use by another run", dir);
        close(f);
        return s;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        dk_status s = dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
        close(f);
        return s;
    }
    *fd = f;
    return DK_OK;
}

void dk__dir_unlock(int fd)
{
    if (fd >= 0) close(fd);
}

int dk__same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

dk_status dk__dir_refuse_links(const char *dir, const char *const *names, int n)
{
    char path[4096];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return dk__error(DK_ERR_INVALID, "%s: is a symbolic link (refused: deltakern writes only files of its own "
                             "in %s)", path, dir);
    }
    return DK_OK;
}

dk_status dk__dir_real(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISLNK(st.st_mode)) return dk__error(DK_ERR_INVALID, "%s: is a symbolic link (not followed here)", path);
    if (!S_ISDIR(st.st_mode)) return dk__error(DK_ERR_INVALID, "%s: not a directory", path);
    return DK_OK;
}
