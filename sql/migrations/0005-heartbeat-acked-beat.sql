-- online: yes
-- step: expand
-- commerce_heartbeat gains acked_beat_at: when the last beat that a replica is known to have
-- acknowledged began (the relay reads Rpl_semi_sync_master_status and _no_tx before and after
-- each beat's commit; NULL while it knows of none). commerce-failover's window after the last
-- heartbeat starts there, not at the last beat seen: a commit that began waiting before that
-- beat can time out just after it, while the beat still recorded semi-sync ON (issue 17's
-- review). Expand step: the previous release's relay leaves it NULL, and commerce-failover
-- then decides on the heartbeat's time alone.
ALTER TABLE commerce_heartbeat
  ADD COLUMN IF NOT EXISTS acked_beat_at DATETIME(6) NULL,
  ALGORITHM=INSTANT;
