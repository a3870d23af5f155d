/* Socket paths and peer credentials: folder creation, stale socket
 * removal before bind(2), and SO_PEERCRED. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

int tl__dir_parents_make(const char *path)
{
    char *copy = strdup(path), *slash;
    int result = 0;

    if (copy == NULL) {
        return -ENOMEM;
    }
    for (slash = strchr(copy + 1, '/'); slash != NULL;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            result = -errno;
            break;
        }
        *slash = '/';
    }
    free(copy);
    return result;
}

/* Returns 0 when something accepts a connection at path, -ECONNREFUSED
 * when the socket file is stale, or another negated errno. */
static int socket_probe(const char *path, int type)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd, result = 0;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        result = -errno;
    }
    close(fd);
    /* A full listen backlog still means a live listener. */
    return result == -EAGAIN ? 0 : result;
}

/* Removes the socket at path when no process accepts connections on
 * it. */
static int stale_remove(const char *path, int type, char *err, size_t errlen)
{
    int rc = socket_probe(path, type);

    if (rc == -EPROTOTYPE) {
        /* The file is a socket of the other type, left by an older
         * configuration, so probe it with that type. */
        rc = socket_probe(path, type == SOCK_STREAM ? SOCK_DGRAM : SOCK_STREAM);
    }
    if (rc == 0) {
        snprintf(err, errlen,
                 "%s: another process is listening on this "
                 "socket; stop it or choose another path",
                 path);
        return -EADDRINUSE;
    }
    if (rc != -ECONNREFUSED) {
        snprintf(err, errlen, "%s: failed to probe the existing socket: %s",
                 path, strerror(-rc));
        return rc;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        rc = -errno;
        snprintf(err, errlen, "%s: failed to remove the stale socket: %s", path,
                 strerror(-rc));
        return rc;
    }
    return 0;
}

int tl__socket_path_prepare(const char *path, int type, char *err,
                            size_t errlen)
{
    struct stat st;
    int rc;

    rc = tl__dir_parents_make(path);
    if (rc < 0) {
        snprintf(err, errlen, "%s: failed to create the socket's folder: %s",
                 path, strerror(-rc));
        return rc;
    }
    if (lstat(path, &st) != 0) {
        rc = -errno;
        if (rc == -ENOENT) {
            return 0;
        }
        snprintf(err, errlen, "%s: failed to stat the socket path: %s", path,
                 strerror(-rc));
        return rc;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen,
                 "%s: exists and is not a socket; remove it or "
                 "choose another path",
                 path);
        return -EEXIST;
    }
    return stale_remove(path, type, err, errlen);
}

void tl__peer_cred(int fd, struct tl__cred *cred)
{
    struct ucred uc;
    socklen_t len = sizeof(uc);

    memset(cred, 0, sizeof(*cred));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
        len == sizeof(uc)) {
        cred->set = true;
        cred->pid = uc.pid;
        cred->uid = uc.uid;
        cred->gid = uc.gid;
    }
}
