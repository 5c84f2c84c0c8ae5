/* Whole-file reading, and atomic writing (include/deltakern/file.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/file.h"
#include "runtime/error.h"
#include "runtime/file.h"

dk_status dk__open_regular(const char *path, int nofollow, FILE **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (nofollow && errno == ELOOP)
            return dk__error(DK_ERR_IO, "%s: is a symbolic link (not followed here)", path);
        return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0)
        bad = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        bad = "is a directory";
    else if (!S_ISREG(st.st_mode))
        bad = "not a regular file";
    /* reads block as usual once the file is known to be regular */
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        bad = strerror(errno);
    FILE *f = bad ? NULL : fdopen(fd, "rb");
    if (!f) {
        dk_status s = dk__error(DK_ERR_IO, "%s: %s", path, bad ? bad : strerror(errno));
        close(fd);
        return s;
    }
    *out = f;
    return DK_OK;
}

dk_status dk__read_regular(const char *path, size_t max_bytes, int nofollow, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f;
    DK_TRY(dk__open_regular(path, nofollow, &f));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        fclose(f);
        return dk__error(DK_ERR_FORMAT, "%s: file of %lld bytes exceeds the limit of %zu", path,
                         (long long)st.st_size, max_bytes);
    }
    size_t cap = (size_t)st.st_size + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return dk__error(DK_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
    }
    size_t got = fread(buf, 1, cap, f);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return dk__error(DK_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *size = got;
    return DK_OK;
}

dk_status dk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size)
{
    return dk__read_regular(path, max_bytes, 0, data, size);
}

/* The one atomic write: the parts, in order, into "<path>.tmp.<pid>" beside
 * the target, flushed to disk, then renamed over it; readers never see a
 * half-written file and a failure leaves any previous file intact. A file
 * killed before its rename stays behind under that name (DK__TMP_INFIX), which
 * dk__remove_stale_tmp recognises. */
dk_status dk__file_write_parts(const char *path, const void *const *parts, const size_t *sizes, int n_parts)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len, "%s" DK__TMP_INFIX "%ld", path, (long)getpid());
    /* O_NOFOLLOW: a link planted at the temporary name is not written through */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        dk_status s = dk__error(DK_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    int ok = 1;
    for (int i = 0; ok && i < n_parts; i++) ok = fwrite(parts[i], 1, sizes[i], f) == sizes[i];
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    dk_status s = DK_OK;
    if (!ok) {
        s = dk__error(DK_ERR_IO, "%s: cannot write: %s", path, strerror(saved));
        remove(tmp);
    }
    free(tmp);
    return s;
}

dk_status dk_file_write_atomic(const char *path, const void *data, size_t n)
{
    return dk__file_write_parts(path, &data, &n, 1);
}

dk_status dk_file_write_text(const char *path, const char *text)
{
    size_t n = strlen(text);
    if (n && text[n - 1] == '\n') return dk_file_write_atomic(path, text, n);
    char *copy = malloc(n + 2);
    if (!copy) return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    memcpy(copy, text, n);
    copy[n] = '\n';
    dk_status s = dk_file_write_atomic(path, copy, n + 1);
    free(copy);
    return s;
}

dk_status dk_file_mkdirs(const char *path)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p) return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    memcpy(p, path, len + 1);
    dk_status st = DK_OK;
    for (size_t i = 1; i <= len && st == DK_OK; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char saved = p[i];
        p[i] = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = dk__error(DK_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
        else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = dk__error(DK_ERR_IO, "%s: cannot create: exists and is not a directory", p);
        p[i] = saved;
    }
    free(p);
    return st;
}

/* "<target>.tmp.<digits>" for one of the targets. */
static int is_stale_tmp(const char *name, const char *const *targets, int n_targets)
{
    for (int i = 0; i < n_targets; i++) {
        size_t n = strlen(targets[i]), k = strlen(DK__TMP_INFIX);
        if (strncmp(name, targets[i], n) || strncmp(name + n, DK__TMP_INFIX, k)) continue;
        const char *d = name + n + k;
        if (!*d) continue;
        while (*d >= '0' && *d <= '9') d++;
        if (!*d) return 1;
    }
    return 0;
}

int dk__remove_stale_tmp(const char *dir, const char *const *targets, int n_targets)
{
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int removed = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(dp))) {
        if (!is_stale_tmp(e->d_name, targets, n_targets)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) removed++;
    }
    closedir(dp);
    return removed;
}
