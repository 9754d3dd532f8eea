#include "relay/relay.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/rc.h"
#include "common/util.h"
#include "store/outbox.h"

#define MAX_BATCH 1000
#define MAX_PARALLEL 32

/* One delivery in flight: its handle and what the handle points at. */
struct slot {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    int idx; /* the batch entry, -1 when free */
};

/* What became of one claimed event, recorded in the database per batch. */
struct outcome {
    enum { DELIVERED, FAILED, RELEASED } kind;
    bool platform; /* FAILED because the platform was unwell */
    int64_t delay_ms;
    char error[128];
};

struct relay {
    const config_t *cfg;
    db_t *db;
    CURLM *multi; /* its connections to the platform are kept alive and reused */
    struct slot slot[MAX_PARALLEL];
    int nslots;       /* relay_parallel */
    char id[64];      /* its identity in claims (relay_id, else the host name) */
    char header[96];  /* X-Relay-Id: id:pid, one value per process */
    int down;         /* platform failures in a row, no delivery since */
    bool claims_back; /* its claims from before a restart are due again */
    outbox_event_t batch[MAX_BATCH];
    struct outcome outcome[MAX_BATCH];
    int64_t done_ids[MAX_BATCH], back_ids[MAX_BATCH]; /* record_tx's scratch */
    int n;
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

relay_t *relay_new(const config_t *cfg, db_t *db)
{
    relay_t *rl = calloc(1, sizeof(*rl));
    char host[64] = "localhost";

    if (!rl)
        return NULL;
    rl->cfg = cfg;
    rl->db = db;
    rl->nslots = (int)(cfg->relay_parallel < MAX_PARALLEL ? cfg->relay_parallel : MAX_PARALLEL);
    rl->multi = curl_multi_init();
    for (int i = 0; i < rl->nslots; i++) {
        rl->slot[i].idx = -1;
        if (rl->multi && !(rl->slot[i].easy = curl_easy_init())) {
            relay_free(rl);
            return NULL;
        }
    }
    if (!rl->multi) {
        relay_free(rl);
        return NULL;
    }
    curl_multi_setopt(rl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)rl->nslots);
    gethostname(host, sizeof(host) - 1);
    snprintf(rl->id, sizeof(rl->id), "%s", cfg->relay_id[0] ? cfg->relay_id : host);
    snprintf(rl->header, sizeof(rl->header), "%s:%d", rl->id, (int)getpid());
    return rl;
}

void relay_free(relay_t *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < rl->nslots; i++)
        curl_easy_cleanup(rl->slot[i].easy);
    curl_multi_cleanup(rl->multi);
    free(rl);
}

int64_t relay_probe_ms(int down, int64_t base_ms, int64_t max_ms)
{
    int64_t d = base_ms < max_ms ? base_ms : max_ms;
    for (int i = 1; i < down && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    return down > 0 ? d : 0;
}

int64_t relay_pause_ms(const relay_t *rl)
{
    return relay_probe_ms(rl->down, rl->cfg->relay_retry_base_ms, rl->cfg->relay_probe_max_ms);
}

const char *relay_id(const relay_t *rl) { return rl->id; }

int64_t relay_backoff_ms(int64_t n, int64_t base_ms, int64_t max_ms, uint32_t random)
{
    int64_t d = base_ms < max_ms ? base_ms : max_ms;
    for (int64_t i = 1; i < n && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2; /* never past max_ms: no overflow */
    return d / 2 + (int64_t)((uint64_t)random % (uint64_t)(d / 2 + 1));
}

void relay_sign(const char *secret, int64_t t, const char *body, size_t len, char *out)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t outl = 0;
    int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
             EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)n) &&
             EVP_MAC_update(ctx, (const unsigned char *)body, len) &&
             EVP_MAC_final(ctx, mac, &outl, sizeof(mac));

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    maclen = ok ? (unsigned int)outl : 0;
    n = snprintf(out, RELAY_SIGNATURE_LEN, "t=%lld,v1=", (long long)t);
    for (unsigned int i = 0; i < maclen && (size_t)n + 3 <= RELAY_SIGNATURE_LEN; i++)
        n += snprintf(out + n, RELAY_SIGNATURE_LEN - (size_t)n, "%02x", mac[i]);
}

/* Start the POST of event e on a free slot (added to the multi handle).
 * C_OK, or C_ERR when out of memory. */
static int start_delivery(relay_t *rl, struct slot *sl, const outbox_event_t *e, int idx)
{
    const config_t *c = rl->cfg;
    struct curl_slist *h = NULL;
    char key[96], rid[128];
    size_t blen = strlen(e->payload) + 256;
    char *body = malloc(blen);
    int n;

    if (!body)
        return C_ERR;
    /* The payload is the order document as the API rendered it. */
    n = snprintf(body, blen,
                 "{\"eventId\":\"%s\",\"type\":\"%s\",\"occurredAt\":\"%s\",\"order\":%s}",
                 e->event_id, e->type, e->occurred_at, e->payload);
    snprintf(key, sizeof(key), "Idempotency-Key: %s", e->event_id);
    snprintf(rid, sizeof(rid), "X-Relay-Id: %s", rl->header);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, key);
    h = curl_slist_append(h, rid);
    h = curl_slist_append(h, "Expect:");
    if (c->data_platform_secret[0]) {
        char sig[RELAY_SIGNATURE_LEN], line[RELAY_SIGNATURE_LEN + 32];
        relay_sign(c->data_platform_secret, (int64_t)time(NULL), body, (size_t)n, sig);
        snprintf(line, sizeof(line), "X-Commerce-Signature: %s", sig);
        h = curl_slist_append(h, line);
    }

    CURL *cu = sl->easy;
    curl_easy_reset(cu);
    curl_easy_setopt(cu, CURLOPT_URL, c->data_platform_url);
    curl_easy_setopt(cu, CURLOPT_POST, 1L);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)n);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)c->relay_connect_timeout_ms);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)c->relay_timeout_ms);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https"); /* and no redirects */
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(cu, CURLOPT_PRIVATE, sl);
    sl->headers = h;
    sl->body = body;
    sl->idx = idx;
    if (curl_multi_add_handle(rl->multi, cu) != CURLM_OK) {
        curl_slist_free_all(h);
        free(body);
        sl->idx = -1;
        return C_ERR;
    }
    return C_OK;
}

/* A finished POST: 0 on a 2xx; 1 when the platform refused this event (a
 * 4xx other than 408 and 429: the event, not the platform, is the problem);
 * -1 on any other failure (the platform is unwell). Frees the slot. */
static int finish_delivery(relay_t *rl, struct slot *sl, CURLcode cc, char *err, size_t cap)
{
    long status = 0;
    int res = 0;

    if (cc == CURLE_OK)
        curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(rl->multi, sl->easy);
    curl_slist_free_all(sl->headers);
    free(sl->body);
    sl->headers = NULL;
    sl->body = NULL;
    sl->idx = -1;
    if (cc != CURLE_OK) {
        snprintf(err, cap, "%s", curl_easy_strerror(cc));
        res = -1;
    } else if (status < 200 || status > 299) {
        snprintf(err, cap, "HTTP %ld", status);
        res = status >= 400 && status < 500 && status != 408 && status != 429 ? 1 : -1;
    }
    return res;
}

static struct slot *free_slot(relay_t *rl)
{
    for (int i = 0; i < rl->nslots; i++)
        if (rl->slot[i].idx < 0)
            return &rl->slot[i];
    return NULL;
}

/* Record every outcome of the batch in one transaction (one commit instead
 * of one per event). A crash before it commits only means the delivered
 * events go out again when their lease ends: at least once. */
static int record_tx(db_t *db, void *arg)
{
    relay_t *rl = arg;
    int rc = C_OK, ndone = 0, nback = 0;

    if (rl->n == 0)
        return C_OK;
    /* Deliveries and give-backs a few statements for the batch (they share
     * its claim's lease); failures, the rare case, one by one. */
    for (int i = 0; i < rl->n && rc == C_OK; i++) {
        const outbox_event_t *e = &rl->batch[i];
        const struct outcome *o = &rl->outcome[i];
        if (o->kind == DELIVERED)
            rl->done_ids[ndone++] = e->id;
        else if (o->kind == RELEASED)
            rl->back_ids[nback++] = e->id;
        else
            rc = outbox_attempt_failed(db, e, o->delay_ms, rl->cfg->relay_max_attempts, o->error,
                                       o->platform);
    }
    if (rc == C_OK && ndone)
        rc = outbox_delivered_many(db, rl->batch[0].lease, rl->done_ids, ndone);
    if (rc == C_OK && nback)
        rc = outbox_release_many(db, rl->batch[0].lease, rl->back_ids, nback);
    return rc;
}

/* The batch's recorded outcomes in /metrics (commerce_relay_deliveries_total). */
static void count_outcomes(const relay_t *rl)
{
    for (int i = 0; i < rl->n; i++) {
        const struct outcome *o = &rl->outcome[i];
        if (o->kind == DELIVERED)
            metrics_delivery(M_DELIVERED);
        else if (o->kind == FAILED && rl->batch[i].attempts + 1 >= rl->cfg->relay_max_attempts)
            metrics_delivery(M_PARKED);
        else if (o->kind == FAILED)
            metrics_delivery(o->platform ? M_PLATFORM_FAILED : M_REFUSED);
    }
}

/* A process's first round starts here: what its identity claimed before it
 * died is due now, not when the leases end. (Another relay's claims still
 * wait for their lease.) */
static int take_back_claims(relay_t *rl)
{
    uint64_t count = 0;
    int rc;

    if (rl->claims_back)
        return C_OK;
    if ((rc = outbox_release_claims(rl->db, rl->id, &count)) != C_OK)
        return rc;
    if (count)
        log_info("took back %llu events this relay (%s) had claimed", (unsigned long long)count,
                 rl->id);
    rl->claims_back = true;
    return C_OK;
}

/* A POST that finished: its outcome in rl->outcome (a failure with its
 * backoff). finish_delivery's answer: 0 delivered, 1 the platform refused
 * this event, -1 the platform is unwell. */
static int finished(relay_t *rl, CURLMsg *msg)
{
    const config_t *c = rl->cfg;
    struct slot *sl;

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
    int i = sl->idx;
    const outbox_event_t *e = &rl->batch[i];
    struct outcome *o = &rl->outcome[i];
    int res = finish_delivery(rl, sl, msg->data.result, o->error, sizeof(o->error));

    if (res == 0) {
        o->kind = DELIVERED;
        return 0;
    }
    o->kind = FAILED;
    o->platform = res < 0;
    o->delay_ms = relay_backoff_ms(e->attempts + 1, c->relay_retry_base_ms, c->relay_retry_max_ms,
                                   util_rand(UINT32_MAX));
    log_warn("event %s (order %lld, attempt %lld): %s; retry in %lld ms", e->event_id,
             (long long)e->order_id, (long long)e->attempts + 1, o->error, (long long)o->delay_ms);
    return res;
}

/* Deliver the claimed batch, up to relay_parallel POSTs at once over
 * kept-alive connections, and set every event's outcome. Nothing new starts
 * once the platform has failed, when stopping, past half the lease (started
 * at `start`, monotonic us) or out of memory: the untried rest is RELEASED,
 * given back due at once. *delivered counts the 2xx; *platform_down is set
 * when the platform was unwell (the relay then waits before it probes it
 * again: relay_pause_ms). A refusal of one event alone lets the batch go on. */
static void deliver_batch(relay_t *rl, volatile sig_atomic_t *stop, int64_t start, int *delivered,
                          bool *platform_down)
{
    int64_t half_lease_us = rl->cfg->relay_lease_ms * 500;
    int next = 0, active = 0, running, left;
    bool failing = false;
    struct slot *sl;
    CURLMsg *msg;

    while (next < rl->n || active > 0) {
        while (!failing && next < rl->n && (sl = free_slot(rl)) != NULL) {
            if (*stop || util_mono_us() - start > half_lease_us ||
                start_delivery(rl, sl, &rl->batch[next], next) != C_OK) {
                failing = true; /* let others have the rest */
                break;
            }
            next++;
            active++;
        }
        if (active == 0)
            break;
        curl_multi_perform(rl->multi, &running);
        while ((msg = curl_multi_info_read(rl->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            int res = finished(rl, msg);
            active--;
            if (res == 0)
                (*delivered)++;
            if (res < 0)
                failing = *platform_down = true;
        }
        if (active > 0)
            curl_multi_poll(rl->multi, NULL, 0, 100, NULL);
    }
    for (int i = next; i < rl->n; i++) {
        rl->outcome[i].kind = RELEASED;
        rl->outcome[i].delay_ms = 0;
    }
}

/* The platform answers again: what failed only because it was down is due
 * now. */
static int platform_back(relay_t *rl)
{
    uint64_t count = 0;
    int rc = outbox_platform_back(rl->db, &count);

    if (rc == C_OK)
        log_info("the data platform answers again; %llu events that failed meanwhile are due now",
                 (unsigned long long)count);
    return rc;
}

int relay_round(relay_t *rl, volatile sig_atomic_t *stop, int *claimed, int *delivered)
{
    const config_t *c = rl->cfg;
    int max = (int)(c->relay_batch_size < MAX_BATCH ? c->relay_batch_size : MAX_BATCH);
    int64_t start = util_mono_us(), claimed_at;
    bool down_now = false;
    int n, rc, down;

    *claimed = *delivered = 0;
    if ((rc = take_back_claims(rl)) != C_OK)
        return rc;
    if ((rc = outbox_claim(rl->db, rl->id, max, c->relay_lease_ms, rl->batch, &n)) != C_OK) {
        rl->claims_back = false;
        return rc;
    }
    /* after the claim committed: every event it took was committed before now */
    claimed_at = util_wall_us();
    *claimed = n;
    if (n == 0)
        return C_OK;
    rl->n = n;
    deliver_batch(rl, stop, start, delivered, &down_now);
    down = down_now ? rl->down + 1 : *delivered > 0 ? 0 : rl->down;
    /* the platform was told: every event claimed was committed before the claim */
    if (*delivered > 0)
        metrics_acked_write(claimed_at);
    rc = db_tx(rl->db, record_tx, rl);
    if (rc == C_OK)
        count_outcomes(rl);
    outbox_events_free(rl->batch, n);
    if (rc != C_OK) {
        rl->claims_back = false; /* its claims stay held: take them back once it can */
        return rc;
    }
    if (rl->down && !down && (rc = platform_back(rl)) != C_OK)
        return rc;
    rl->down = down;
    return C_OK;
}
