/* The verified tokens of one host's worker pool, shared through a file the
 * workers map (beside the shared metrics file: the pool's one writable place).
 * A worker's own table (http/tokencache.h) holds the tokens it has seen; with
 * 16 workers each user's token would otherwise be verified up to 16 times,
 * and an RS256 or ES256 verification costs about half a millisecond.
 *
 * The table holds no token: an entry is keyed by a 32-byte digest the caller
 * makes (http/auth.c: SHA-256 over the key set's digest and the token's
 * bytes, so an entry answers only for the same token under the same keys and
 * claim rules), and holds the user it verified as and the window [from, until)
 * of Unix times in which it verifies. It is set-associative
 * (TOKENSHARE_WAYS entries a set, the set chosen by the digest; a full set
 * replaces the entry whose window ends first), fixed in size, and lock-free:
 * each entry has a sequence number, odd while a writer holds it. A reader that
 * sees it odd or changed misses; a writer that finds it odd skips the put. A
 * worker killed in the middle of a put leaves that one entry odd: it misses
 * from then on, nothing else. Safe to use from several processes at once. */
#ifndef COMMERCE_TOKENSHARE_H
#define COMMERCE_TOKENSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENSHARE_WAYS 4
#define TOKENSHARE_KEY 32

typedef struct tokenshare tokenshare_t;

/* Map the table of `slots` entries (a power of two, at least TOKENSHARE_WAYS)
 * in the file PATH.LAYOUT.SLOTS (created 0600 and sized when new: workers of
 * another release or size use another file). NULL, with a reason in err, when
 * the file cannot be used: it cannot be opened or mapped, is not a regular
 * file owned by this user with no access for others, or does not hold a table
 * of this layout and size. */
tokenshare_t *tokenshare_open(const char *path, size_t slots, char *err, size_t errcap);
void tokenshare_close(tokenshare_t *t);

/* Whether the table holds key with a window around now: then *user_id, *from
 * and *until are the entry's. */
bool tokenshare_get(tokenshare_t *t, const unsigned char key[TOKENSHARE_KEY], int64_t now,
                    int64_t *user_id, int64_t *from, int64_t *until);

/* Remember that key verified as user_id for from <= now < until (a put that
 * meets another writer on its entry is dropped: the table is a cache). */
void tokenshare_put(tokenshare_t *t, const unsigned char key[TOKENSHARE_KEY], int64_t now,
                    int64_t user_id, int64_t from, int64_t until);

#endif
