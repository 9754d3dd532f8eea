-- wrk script: GET /hello, the bare libfcgi responder of the peers (fcgi-hello).
wrk.method = "GET"
wrk.path = "/hello"

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
