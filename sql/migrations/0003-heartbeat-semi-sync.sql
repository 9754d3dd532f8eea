-- online: yes
-- commerce_heartbeat gains the primary's semi-synchronous replication state at each beat:
-- whether it was ON, how many replicas acknowledged, its timeout, and when that was read
-- (semi_sync_at: it equals `at` only when the same beat wrote both). A replica's copy of the
-- row then says up to when it provably held every acknowledged commit; commerce-failover
-- reads it there before it promotes (issue 17). Expand step: the previous release's relay
-- updates `at` alone, and commerce-failover then finds semi_sync_at <> at and takes the
-- state as unknown.
ALTER TABLE commerce_heartbeat
  ADD COLUMN IF NOT EXISTS semi_sync TINYINT NULL,
  ADD COLUMN IF NOT EXISTS semi_sync_clients INT NULL,
  ADD COLUMN IF NOT EXISTS semi_sync_timeout_ms INT NULL,
  ADD COLUMN IF NOT EXISTS semi_sync_at DATETIME(6) NULL,
  ALGORITHM=INSTANT;
