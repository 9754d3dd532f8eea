# gnuplot script of `bench/run orders --curve` (bench/lib/curve.sh): throughput and p99 of
# POST /orders against concurrency, from the data file it wrote. Run as
#   gnuplot -e "data='FILE'; dir='DIR'; label='TITLE'" bench/curve.gp
# Columns: c svc_per_s svc_p99_ms php_per_s php_p99_ms floor_per_s own_per_s own_p99_ms
# ("-" where a run reports nothing: the floor has no latency).
set terminal svg size 720,460 dynamic enhanced font "sans,12" background "#ffffff"
set datafile missing "-"
set logscale x 2
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set xlabel "concurrent clients (c)"
set grid xtics ytics mytics lc rgb "#e4e4e4"
set key below horizontal maxcols 2 width 2
set border 3
set tics nomirror
set style line 1 lc rgb "#1f6fb2" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#c05621" lw 2 pt 5 ps 0.8
set style line 3 lc rgb "#5a5a5a" lw 2 pt 9 ps 0.8 dt 2
set style line 4 lc rgb "#2f855a" lw 2 pt 13 ps 0.8 dt 3

set output dir."/orders-throughput.svg"
set title "POST /orders: throughput\n{/*0.8 ".label."}"
set ylabel "orders/s (2xx or commits)"
set yrange [0:*]
plot data using 1:2 with linespoints ls 1 title "service (HTTP)", \
     data using 1:4 with linespoints ls 2 title "PHP peer (HTTP)", \
     data using 1:6 with linespoints ls 3 title "floor: rawdb\\_min (no HTTP)", \
     data using 1:7 with linespoints ls 4 title "own transaction (no HTTP)"

set output dir."/orders-p99.svg"
set title "POST /orders: p99 latency\n{/*0.8 ".label."}"
set ylabel "p99 (ms)"
set logscale y 10
set yrange [*:*]
plot data using 1:3 with linespoints ls 1 title "service (HTTP)", \
     data using 1:5 with linespoints ls 2 title "PHP peer (HTTP)", \
     data using 1:8 with linespoints ls 4 title "own transaction (no HTTP)"
