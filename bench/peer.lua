-- wrk script: one of the peers' own wrk scripts, named by PEER_WRK (e.g.
-- ../shared/peers/wrk/php_order.lua), used as it is, plus this bench's report line.
dofile(assert(os.getenv("PEER_WRK"), "PEER_WRK: set it to the peer's wrk script"))
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
