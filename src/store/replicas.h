/* Catalog reads from MariaDB replicas (db_replica_sockets / db_replica_hosts):
 * a read that may be a little behind (the product list, the popular list, a
 * coupon's terms) goes to a replica whose lag is within replica_max_lag_ms;
 * a replica that is down, lagging or unreachable is skipped without an
 * error, and the read goes to the primary. Everything exact (a product's
 * stock, whatever belongs to a user, anything in a transaction) stays on the
 * primary: the callers decide.
 *
 * Lag is measured, not taken from Seconds_Behind_Master: the relay writes
 * NOW(6) into commerce_heartbeat on the primary every 100 ms; on a replica,
 * NOW(6) minus that row is how far behind it is (plus the clock difference
 * of the two hosts: keep them on NTP). A replica is asked at most every
 * REPLICAS_CHECK_MS; one that fails is left alone for REPLICAS_DOWN_MS. */
#ifndef COMMERCE_STORE_REPLICAS_H
#define COMMERCE_STORE_REPLICAS_H

#include "common/config.h"
#include "store/db.h"

#define REPLICAS_MAX 8
#define REPLICAS_CHECK_MS 100
#define REPLICAS_DOWN_MS 1000

typedef struct replicas replicas_t;

/* The configured replicas (connections open lazily), or NULL when none is
 * configured or out of memory (then every read goes to the primary). */
replicas_t *replicas_new(const config_t *cfg);
void replicas_free(replicas_t *rs);

/* Why a read did not go to a replica. */
enum replica_miss { REPLICA_HIT, REPLICA_DOWN, REPLICA_LAGGING };

/* A replica fit to read from now (round robin among the fit ones), or NULL
 * with *miss saying why none was. */
db_t *replicas_pick(replicas_t *rs, enum replica_miss *miss);

/* The read on db (a replica) failed with the connection: leave it alone for
 * a while. */
void replicas_failed(replicas_t *rs, db_t *db);

/* On the primary (commerce-relay, every REPLICAS_BEAT_MS): the heartbeat the
 * replicas' lag is measured by, with the primary's semi-synchronous
 * replication state at that moment (Rpl_semi_sync_master_status and _clients,
 * rpl_semi_sync_master_timeout) and the start of the last beat a replica is
 * known to have acknowledged (acked_beat_at): a replica's copy is the
 * evidence commerce-failover promotes on (core/promotion.h). C_OK or a
 * failure. */
#define REPLICAS_BEAT_MS 100
int replicas_beat(db_t *primary);

#endif
