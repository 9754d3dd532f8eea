#include "http/tokenshare.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file: a header, then the entries, 64 bytes each (one cache line). A
 * new file is zero-filled: every entry empty (its window ends at 0). Its name
 * carries the layout and the number of entries (PATH.LAYOUT.SLOTS), so that
 * workers of another release or another size use a file of their own. Change
 * TOKENSHARE_LAYOUT with the layout: it is in the file's name and header. */
#define TOKENSHARE_LAYOUT 1
#define TOKENSHARE_MAGIC 0x636f6d746f6b6e73ULL /* "comtokns" */

struct header {
    uint64_t magic;
    uint64_t layout;
    uint64_t slots;
    uint64_t spare[5];
};

/* Every field is read and written with __atomic builtins: readers run
 * while writers in other processes change an entry (the sequence number
 * tells them to drop what they read). */
struct entry {
    uint64_t seq; /* odd while a writer holds the entry */
    uint64_t key[TOKENSHARE_KEY / 8];
    int64_t user_id;
    int64_t from, until; /* from <= now < until; until 0: empty */
};

struct tokenshare {
    struct entry *e;
    size_t nsets; /* a power of two */
    void *map;
    size_t map_len;
};

/* Size a new file and write its header, or check an existing one's, under an
 * exclusive lock so that two workers starting together agree. */
static int prepare(int fd, const char *file, size_t slots, size_t len, char *err, size_t cap)
{
    struct stat st;
    struct header h;
    int rc = -1;

    if (flock(fd, LOCK_EX) != 0) {
        util_errf(err, cap, "%s: cannot lock: %s", file, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        util_errf(err, cap, "%s: %s", file, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        util_errf(err, cap, "%s: not a regular file of this user with mode 0600", file);
    } else if (st.st_size == 0) {
        memset(&h, 0, sizeof(h));
        h.magic = TOKENSHARE_MAGIC;
        h.layout = TOKENSHARE_LAYOUT;
        h.slots = slots;
        if (ftruncate(fd, (off_t)len) != 0 || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
            util_errf(err, cap, "%s: cannot size: %s", file, strerror(errno));
        else
            rc = 0;
    } else if ((size_t)st.st_size != len || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
               h.magic != TOKENSHARE_MAGIC || h.layout != TOKENSHARE_LAYOUT || h.slots != slots) {
        util_errf(
            err, cap,
            "%s: not a table of this layout and size (cut short, or written by something else)",
            file);
    } else {
        rc = 0;
    }
    flock(fd, LOCK_UN);
    return rc;
}

tokenshare_t *tokenshare_open(const char *path, size_t slots, char *err, size_t errcap)
{
    char file[512];
    size_t len = sizeof(struct header) + slots * sizeof(struct entry);
    tokenshare_t *t;
    void *p;
    int fd;

    if (slots < TOKENSHARE_WAYS || (slots & (slots - 1)) != 0) {
        util_errf(err, errcap, "tokenshare: %zu slots: not a power of two of at least %d", slots,
                  TOKENSHARE_WAYS);
        return NULL;
    }
    if (snprintf(file, sizeof(file), "%s.%d.%zu", path, TOKENSHARE_LAYOUT, slots) >=
        (int)sizeof(file)) {
        util_errf(err, errcap, "tokenshare: path too long");
        return NULL;
    }
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        util_errf(err, errcap, "%s: %s", file, strerror(errno));
        return NULL;
    }
    if (prepare(fd, file, slots, len, err, errcap) != 0) {
        close(fd);
        return NULL;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        util_errf(err, errcap, "%s: cannot map: %s", file, strerror(errno));
        return NULL;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        munmap(p, len);
        util_errf(err, errcap, "tokenshare: out of memory");
        return NULL;
    }
    t->map = p;
    t->map_len = len;
    t->e = (struct entry *)((char *)p + sizeof(struct header));
    t->nsets = slots / TOKENSHARE_WAYS;
    return t;
}

void tokenshare_close(tokenshare_t *t)
{
    if (!t)
        return;
    munmap(t->map, t->map_len);
    free(t);
}

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static int64_t load_i(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void words(const unsigned char key[TOKENSHARE_KEY], uint64_t w[TOKENSHARE_KEY / 8])
{
    memcpy(w, key, TOKENSHARE_KEY);
}

static struct entry *set_of(const tokenshare_t *t, const uint64_t w[TOKENSHARE_KEY / 8])
{
    return &t->e[(size_t)(w[0] & (t->nsets - 1)) * TOKENSHARE_WAYS];
}

static bool same_key(const struct entry *e, const uint64_t w[TOKENSHARE_KEY / 8])
{
    uint64_t diff = 0;
    for (int i = 0; i < TOKENSHARE_KEY / 8; i++)
        diff |= load(&e->key[i]) ^ w[i];
    return diff == 0;
}

bool tokenshare_get(tokenshare_t *t, const unsigned char key[TOKENSHARE_KEY], int64_t now,
                    int64_t *user_id, int64_t *from, int64_t *until)
{
    uint64_t w[TOKENSHARE_KEY / 8];
    struct entry *set;

    words(key, w);
    set = set_of(t, w);
    for (int i = 0; i < TOKENSHARE_WAYS; i++) {
        struct entry *e = &set[i];
        uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue;
        bool same = same_key(e, w);
        int64_t u = load_i(&e->user_id), f = load_i(&e->from), l = load_i(&e->until);
        /* what was read is the entry's only if no writer came meanwhile */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (load(&e->seq) != seq || !same)
            continue;
        if (now < f || now >= l)
            return false;
        *user_id = u;
        *from = f;
        *until = l;
        return true;
    }
    return false;
}

void tokenshare_put(tokenshare_t *t, const unsigned char key[TOKENSHARE_KEY], int64_t now,
                    int64_t user_id, int64_t from, int64_t until)
{
    uint64_t w[TOKENSHARE_KEY / 8];
    struct entry *set, *e = NULL;

    words(key, w);
    set = set_of(t, w);
    /* this key's entry; else an empty or outdated one; else the one whose
     * window ends first (the reads only choose: the sequence number decides) */
    for (int i = 0; !e && i < TOKENSHARE_WAYS; i++)
        if (same_key(&set[i], w))
            e = &set[i];
    for (int i = 0; !e && i < TOKENSHARE_WAYS; i++)
        if (load_i(&set[i].until) <= now)
            e = &set[i];
    if (!e) {
        e = &set[0];
        for (int i = 1; i < TOKENSHARE_WAYS; i++)
            if (load_i(&set[i].until) < load_i(&e->until))
                e = &set[i];
    }
    uint64_t seq = load(&e->seq);
    if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false, __ATOMIC_ACQUIRE,
                                                  __ATOMIC_RELAXED))
        return; /* another writer has it */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (int i = 0; i < TOKENSHARE_KEY / 8; i++)
        __atomic_store_n(&e->key[i], w[i], __ATOMIC_RELAXED);
    __atomic_store_n(&e->user_id, user_id, __ATOMIC_RELAXED);
    __atomic_store_n(&e->from, from, __ATOMIC_RELAXED);
    __atomic_store_n(&e->until, until, __ATOMIC_RELAXED);
    __atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}
