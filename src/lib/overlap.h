/* Whether two file sinks can reach the same file. A sink's template is
 * its absolute base and path joined, with {tenant} standing for any
 * tenant id or special folder name. Two sinks overlap when
 * one can write a file that the other writes, or that the other's
 * retention takes for its own (a rotated name, a lock, a compression
 * temporary), or that is inside a file of the other. */
#ifndef TL_LIB_OVERLAP_H
#define TL_LIB_OVERLAP_H

enum tl__overlap {
    TL__OVERLAP_NONE = 0,
    TL__OVERLAP_SAME,    /* a file both would write */
    TL__OVERLAP_ROTATED, /* one's file named like the other's rotated file
                            or lock */
    TL__OVERLAP_FOLDER,  /* one's path runs through the other's file */
};

/* Compares the templates a and b. {tenant} stands for a valid tenant
 * id, "_system" or "_quarantine". Templates longer than 1024 bytes or
 * with more than 2 {tenant} are compared as plain text only. */
enum tl__overlap tl__overlap_check(const char *a, const char *b);

/* Writes base (made absolute, with ".", ".." and "//" resolved, and
 * symbolic links resolved in the part that exists) to out, cap bytes.
 * Returns 0 or a negated errno. */
int tl__overlap_base(const char *base, char *out, size_t cap);

#endif
