/* Compression of rotated files with zstd or gzip, a budget of input at a
 * time, into a temporary that an atomic rename puts in place before the
 * original is removed (see compress.h). */
#define ZLIB_CONST
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "compress.h"
#include "sys.h"

enum {
    BLOCK_BYTES = 64 * 1024, /* one read(2), and the output buffer */
    ZSTD_LEVEL = 3,          /* the zstd command-line tool's default */
    TEMP_MODE = 0640,
};

struct tl__compress_job {
    enum tl__compress method;
    char *path;               /* the file being compressed */
    char *dst;                /* path<ext> */
    char *tmp;                /* path<ext>.tmp */
    char *dir;                /* the folder of path, fsync'd after rename */
    int in_fd;                /* path, read-only; -1 once closed */
    int out_fd;               /* tmp, write-only; -1 once closed */
    bool tmp_exists;          /* tmp is this job's and not yet renamed */
    int result;               /* 1 while running, 0 done, or -errno */
    struct timespec times[2]; /* atime and mtime of path, for futimens */
    ZSTD_CCtx *zstd;
    z_stream gz;
    bool gz_ready;
    unsigned char in[BLOCK_BYTES];
    unsigned char out[BLOCK_BYTES];
};

const char *tl__compress_ext(enum tl__compress m)
{
    switch (m) {
    case TL__COMPRESS_ZSTD:
        return ".zst";
    case TL__COMPRESS_GZIP:
        return ".gz";
    default:
        return "";
    }
}

const char *tl__compress_path(const struct tl__compress_job *job)
{
    return job->path;
}

/* Closes *fd through the table and sets it to -1 whatever close returns,
 * because Linux releases the number even when close fails. */
static int fd_close(int *fd)
{
    int rc = 0;

    if (*fd < 0) {
        return 0;
    }
    if (tl__sys->close(*fd) != 0) {
        rc = -errno;
    }
    *fd = -1;
    return rc;
}

static char *str_concat(const char *a, const char *b)
{
    size_t alen = strlen(a);
    size_t blen = strlen(b);
    char *s = malloc(alen + blen + 1);

    if (s != NULL) {
        memcpy(s, a, alen);
        memcpy(s + alen, b, blen + 1);
    }
    return s;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

static struct tl__compress_job *job_new(const char *path, enum tl__compress m)
{
    struct tl__compress_job *job = calloc(1, sizeof(*job));

    if (job == NULL) {
        return NULL;
    }
    job->method = m;
    job->in_fd = -1;
    job->out_fd = -1;
    job->result = 1;
    job->path = strdup(path);
    job->dst = str_concat(path, tl__compress_ext(m));
    job->tmp = job->dst != NULL ? str_concat(job->dst, TL__COMPRESS_TMP) : NULL;
    job->dir = dir_of(path);
    if (job->path == NULL || job->tmp == NULL || job->dir == NULL) {
        tl__compress_free(job);
        return NULL;
    }
    return job;
}

static int zstd_errno(size_t r)
{
    if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) {
        return -ENOMEM;
    }
    return -EIO; /* no errno fits an internal compressor error better */
}

static int codec_init(struct tl__compress_job *job)
{
    size_t r;
    int zr;

    if (job->method == TL__COMPRESS_ZSTD) {
        job->zstd = ZSTD_createCCtx();
        if (job->zstd == NULL) {
            return -ENOMEM;
        }
        r = ZSTD_CCtx_setParameter(job->zstd, ZSTD_c_compressionLevel,
                                   ZSTD_LEVEL);
        if (!ZSTD_isError(r)) {
            /* A frame checksum lets `zstd -t` detect a damaged file. */
            r = ZSTD_CCtx_setParameter(job->zstd, ZSTD_c_checksumFlag, 1);
        }
        return ZSTD_isError(r) ? zstd_errno(r) : 0;
    }

    /* windowBits 15 + 16 makes zlib write a gzip header and trailer. */
    zr = deflateInit2(&job->gz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                      Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) {
        return zr == Z_MEM_ERROR ? -ENOMEM : -EIO;
    }
    job->gz_ready = true;
    return 0;
}

static void codec_free(struct tl__compress_job *job)
{
    ZSTD_freeCCtx(job->zstd);
    job->zstd = NULL;
    if (job->gz_ready) {
        deflateEnd(&job->gz);
        job->gz_ready = false;
    }
}

/* Writes all len bytes, retrying EINTR and short writes. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = tl__sys->write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -EIO; /* no errno, and a retry could spin forever */
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Compresses len bytes of src, or ends the frame when end is true, and
 * writes every byte the compressor returns to the temporary. */
static int zstd_feed(struct tl__compress_job *job, const void *src, size_t len,
                     bool end)
{
    ZSTD_inBuffer in = {src, len, 0};
    ZSTD_outBuffer out;
    size_t left;
    bool done;
    int rc;

    do {
        out = (ZSTD_outBuffer){job->out, sizeof(job->out), 0};
        left = ZSTD_compressStream2(job->zstd, &out, &in,
                                    end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            return zstd_errno(left);
        }
        rc = write_all(job->out_fd, job->out, out.pos);
        if (rc < 0) {
            return rc;
        }
        done = end ? left == 0 : in.pos == in.size;
    } while (!done);
    return 0;
}

/* Compresses like zstd_feed, with zlib's deflate. */
static int gzip_feed(struct tl__compress_job *job, const void *src, size_t len,
                     bool end)
{
    z_stream *zs = &job->gz;
    size_t have;
    int zr, rc;

    zs->next_in = src;
    zs->avail_in = (uInt)len;
    do {
        zs->next_out = job->out;
        zs->avail_out = sizeof(job->out);
        zr = deflate(zs, end ? Z_FINISH : Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            return zr == Z_MEM_ERROR ? -ENOMEM : -EIO;
        }
        have = sizeof(job->out) - zs->avail_out;
        rc = write_all(job->out_fd, job->out, have);
        if (rc < 0) {
            return rc;
        }
        /* A full output buffer means deflate may hold more output. */
    } while (end ? zr != Z_STREAM_END : zs->avail_out == 0);
    return 0;
}

static int codec_feed(struct tl__compress_job *job, const void *src, size_t len,
                      bool end)
{
    if (job->method == TL__COMPRESS_ZSTD) {
        return zstd_feed(job, src, len, end);
    }
    return gzip_feed(job, src, len, end);
}

/* Removes this job's temporary. A failed unlink leaves it for the next
 * begin on the same path, which removes it as stale. */
static void temp_remove(struct tl__compress_job *job)
{
    if (!job->tmp_exists) {
        return;
    }
    if (tl__sys->unlink(job->tmp) == 0 || errno == ENOENT) {
        job->tmp_exists = false;
    }
}

/* Ends the job with error rc: closes both files and removes the
 * temporary, which leaves the original as it was. */
static int job_fail(struct tl__compress_job *job, int rc)
{
    fd_close(&job->out_fd);
    fd_close(&job->in_fd);
    temp_remove(job);
    job->result = rc;
    return rc;
}

static int source_open(struct tl__compress_job *job)
{
    /* O_NONBLOCK so that a FIFO at the path cannot block the open. A
     * regular file ignores it. */
    int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
    struct stat st;

    job->in_fd = tl__sys->open(job->path, flags, 0);
    if (job->in_fd < 0) {
        return -errno;
    }
    if (tl__sys->fstat(job->in_fd, &st) != 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        return -EINVAL;
    }
    job->times[0] = st.st_atim;
    job->times[1] = st.st_mtim;
    return 0;
}

/* NOTE: two jobs on the same path at once are not supported, because the
 * second removes the first's temporary as a stale one. */
static int temp_open(struct tl__compress_job *job)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    int err;

    /* A temporary left by a crash contains a partial frame. */
    if (tl__sys->unlink(job->tmp) != 0) {
        err = errno;
        if (err != ENOENT) {
            return -err;
        }
    }
    job->out_fd = tl__sys->open(job->tmp, flags, TEMP_MODE);
    if (job->out_fd < 0) {
        return -errno;
    }
    job->tmp_exists = true;
    return 0;
}

int tl__compress_begin(const char *path, enum tl__compress m,
                       struct tl__compress_job **out)
{
    struct tl__compress_job *job;
    int rc;

    if (path == NULL || path[0] == '\0' || out == NULL ||
        (m != TL__COMPRESS_ZSTD && m != TL__COMPRESS_GZIP)) {
        return -EINVAL;
    }
    job = job_new(path, m);
    if (job == NULL) {
        return -ENOMEM;
    }

    /* The compressor first, so that ENOMEM leaves no temporary behind. */
    rc = codec_init(job);
    if (rc == 0) {
        rc = source_open(job);
    }
    if (rc == 0) {
        rc = temp_open(job);
    }
    if (rc < 0) {
        goto fail;
    }
    *out = job;
    return 0;

fail:
    tl__compress_free(job);
    return rc;
}

/* Ends the frame and makes the temporary complete and durable, with the
 * original's times, then closes it. */
static int temp_seal(struct tl__compress_job *job)
{
    int rc;

    rc = codec_feed(job, NULL, 0, true);
    if (rc < 0) {
        return rc;
    }

    /* Keeps the original's times, which tools such as find -mtime and
     * ls -t go by. */
    if (tl__sys->futimens(job->out_fd, job->times) != 0) {
        return -errno;
    }
    if (tl__sys->fsync(job->out_fd) != 0) {
        return -errno;
    }
    return fd_close(&job->out_fd);
}

/* Makes the rename durable. A file system that cannot fsync a folder
 * returns EINVAL, and then the rename is as durable as it makes it. */
static int dir_fsync(const char *dir)
{
    int fd;
    int rc = 0;

    fd = tl__sys->open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (tl__sys->fsync(fd) != 0 && errno != EINVAL) {
        rc = -errno;
    }
    fd_close(&fd); /* a failed close of a folder loses nothing */
    return rc;
}

/*
 * Finishes at end of input. Until the rename, a failure removes the
 * temporary and keeps the original. After the rename, path<ext> is
 * complete and fsync'd. A failure of the folder fsync or of the unlink
 * then returns the error with both files in place, because the original
 * is unlinked only once the rename is durable.
 */
static int job_finish(struct tl__compress_job *job)
{
    int rc;

    rc = temp_seal(job);
    if (rc == 0 && tl__sys->rename(job->tmp, job->dst) != 0) {
        rc = -errno;
    }
    if (rc < 0) {
        return job_fail(job, rc);
    }
    job->tmp_exists = false;

    rc = dir_fsync(job->dir);
    fd_close(&job->in_fd); /* a failed close of a reader loses nothing */
    if (rc == 0 && tl__sys->unlink(job->path) != 0 && errno != ENOENT) {
        rc = -errno;
    }
    job->result = rc;
    return rc;
}

int tl__compress_step(struct tl__compress_job *job, size_t budget)
{
    size_t used = 0;
    size_t want;
    ssize_t n;
    int rc;

    if (job->result <= 0) {
        return job->result;
    }
    if (budget == 0) {
        budget = BLOCK_BYTES; /* a step of 0 bytes would never finish */
    }
    while (used < budget) {
        want = budget - used < BLOCK_BYTES ? budget - used : BLOCK_BYTES;
        n = tl__sys->read(job->in_fd, job->in, want);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return job_fail(job, -errno);
        }
        if (n == 0) {
            return job_finish(job);
        }
        rc = codec_feed(job, job->in, (size_t)n, false);
        if (rc < 0) {
            return job_fail(job, rc);
        }
        used += (size_t)n;
    }
    return 1;
}

void tl__compress_forget(struct tl__compress_job *job)
{
    if (job != NULL) {
        job->tmp_exists = false; /* the parent's to finish or remove */
        tl__compress_free(job);
    }
}

void tl__compress_free(struct tl__compress_job *job)
{
    if (job == NULL) {
        return;
    }
    fd_close(&job->out_fd);
    fd_close(&job->in_fd);
    temp_remove(job);
    codec_free(job);
    free(job->path);
    free(job->dst);
    free(job->tmp);
    free(job->dir);
    free(job);
}
