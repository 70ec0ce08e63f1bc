/* A storage fault injector for the integration tests (LD_PRELOAD): while the file named by
 * SCIMD_FAULT_FLAG exists, every write, sync and read of a file whose path contains
 * SCIMD_FAULT_MATCH fails with EIO, as a dying disk would answer. The test creates and removes
 * the flag file; scimd must answer 503 meanwhile and recover by itself after. Test-only code:
 * never linked into scimd. */
#undef _FORTIFY_SOURCE /* the shim defines pread and pwrite themselves */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static bool
faulty(int fd)
{
    const char *flag = getenv("SCIMD_FAULT_FLAG"), *match = getenv("SCIMD_FAULT_MATCH");
    if (flag == NULL || match == NULL || access(flag, F_OK) != 0)
        return false;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    return strstr(path, match) != NULL;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(pread64)(fd, buf, n, off);
}

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(pread)(fd, buf, n, off);
}

int
fdatasync(int fd)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(fdatasync)(fd);
}

int
fsync(int fd)
{
    if (faulty(fd))
        return errno = EIO, -1;
    return NEXT(fsync)(fd);
}
