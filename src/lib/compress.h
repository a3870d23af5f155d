/* Compression of rotated files, in steps, so that the thread that owns
 * the sinks does it between batches and never stalls a record for long.
 * A file appears compressed only by an atomic rename of a complete,
 * fsync'd temporary, and only then is the original removed: a crash at
 * any point loses nothing. Every system call goes through tl__sys. */
#ifndef TL_LIB_COMPRESS_H
#define TL_LIB_COMPRESS_H

#include <stddef.h>

#include "config.h"

struct tl__compress_job;

/* The suffix a method adds: ".zst" or ".gz" ("" for none). */
const char *tl__compress_ext(enum tl__compress m);

/* The suffix of the temporary a job writes before its rename. A file
 * named "<rotated><ext>" TL__COMPRESS_TMP is left only by a crash. */
#define TL__COMPRESS_TMP ".tmp"

/* Starts compressing the file at path into path<ext> through the
 * temporary path<ext>.tmp (created with O_EXCL after removing a stale
 * one). Returns 0 with *out set, or a negated errno. */
int tl__compress_begin(const char *path, enum tl__compress m,
                       struct tl__compress_job **out);

/* Reads and compresses up to budget bytes of input (64 KiB when budget
 * is 0). Returns 1 while input remains; 0 when finished: the temporary
 * fsync'd, renamed to path<ext>, the folder fsync'd, and the original
 * unlinked. On failure returns a negated errno, with the temporary
 * removed and the original left in place; after a failure past the
 * rename, path<ext> is complete and the original may remain beside it.
 * The caller frees the job either way. Two jobs must not compress one
 * path at once: the second removes the first's temporary. */
int tl__compress_step(struct tl__compress_job *job, size_t budget);

/* The path the job compresses. */
const char *tl__compress_path(const struct tl__compress_job *job);

/* Closes the job's descriptors and removes its temporary unless it was
 * renamed into place. */
void tl__compress_free(struct tl__compress_job *job);

/* Frees a job inherited across fork(): closes the child's copies of its
 * descriptors and leaves the temporary to the parent, whose job goes on
 * with the same open files. */
void tl__compress_forget(struct tl__compress_job *job);

#endif
