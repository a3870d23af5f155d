/* The naming scheme of rotated files and the retention that deletes
 * them. A rotated file of "<path>" is "<path>.YYYYMMDDTHHMMSS.uuuuuuZ"
 * (the UTC time of the rotation), then "-N" when that name was taken,
 * then ".zst" or ".gz" once compressed, then ".tmp" while compression
 * writes it. Nothing else in a folder is ever touched. */
#ifndef TL_LIB_FILE_ROTATE_H
#define TL_LIB_FILE_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TL__STAMP_LEN 23

struct tl__rotated {
    char *name; /* file name in the folder */
    char stamp[TL__STAMP_LEN + 1];
    int64_t stamp_s; /* the stamp as seconds since the epoch */
    long index;      /* N of a "-N" suffix, or 1 without one */
    enum tl__compress comp;
    bool tmp;       /* a compression's temporary */
    uint64_t bytes; /* size on disk */
    bool doomed;    /* chosen for deletion by tl__retention_plan */
};

/* Parses the file name name as a rotated file of base (the active
 * file's name). Returns 0 and fills *out (but not out->name, bytes or
 * doomed), or -1 when name is any other file. */
int tl__rotated_parse(const char *name, const char *base,
                      struct tl__rotated *out);

/* Lists the rotated files of base in folder dir, oldest first: by stamp
 * and index, then the original, its compressed form and its temporary.
 * Returns 0 or a negated errno. */
int tl__rotated_list(const char *dir, const char *base,
                     struct tl__rotated **out, size_t *n);

void tl__rotated_free(struct tl__rotated *list, size_t n);

/* Returns true when a and b are forms of one rotated file. */
bool tl__rotated_same(const struct tl__rotated *a, const struct tl__rotated *b);

/* Writes the folder of path to dir (cap bytes) and returns its last
 * component, or NULL when path has no '/' or its folder does not fit. */
const char *tl__path_split(const char *path, char *dir, size_t cap);

/* Renames the file at path to its rotated name for the time now_ns
 * (CLOCK_REALTIME), adding "-N" when the name exists, and writes the new
 * path to to (cap bytes). Returns 0 or a negated errno. */
int tl__rotate_aside(const char *path, int64_t now_ns, char *to, size_t cap);

/*
 * Marks as doomed the rotated files (list, from tl__rotated_list) that
 * the retention of c removes at time now_s: beyond the newest keep,
 * older than max_age_s, or past max_total_bytes counted from the newest.
 * The forms of one rotated file count once and share a fate; temporaries
 * count for nothing and are never doomed. When c compresses, a file not
 * compressed yet does not count toward max_total_bytes and is not doomed
 * by it.
 */
void tl__retention_plan(struct tl__rotated *list, size_t n,
                        const struct tl__sink_conf *c, int64_t now_s);

#endif
