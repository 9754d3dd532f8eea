# bench/lib/per-order.awk: statements sent, rows written and redo bytes per committed order,
# from three readings (bench/lib/orders.sh db_reading: "name value" lines; the first line is
# the table's row count): an idle pair, then one after the run. What a reading itself adds is
# the difference of the idle pair, subtracted from the run's.
#   awk -v label=LABEL -f per-order.awk KEY.0 KEY.1 KEY.2
FNR == 1 { f++ }
{ v[f, $1] = $2 }
function d(k) { return (v[3, k] - v[2, k]) - (v[2, k] - v[1, k]) }
function per(k, fmt) { return ((3, k) in v) ? sprintf(fmt, d(k) / n) : "n/a" }
END {
	n = d("rows")
	if (n <= 0) { printf "%s: no orders committed\n", label; exit }
	printf "%s: %s statements (%s prepared + %s text; Com_select %s insert %s update %s begin %s commit %s rollback %s), %s prepares; Handler_write %s Handler_update %s; redo %s bytes; %d orders\n",
		label, per("Questions", "%.2f"), per("Com_stmt_execute", "%.2f"),
		sprintf("%.2f", (d("Questions") - d("Com_stmt_execute")) / n),
		per("Com_select", "%.2f"), per("Com_insert", "%.2f"), per("Com_update", "%.2f"),
		per("Com_begin", "%.2f"), per("Com_commit", "%.2f"), per("Com_rollback", "%.2f"),
		per("Com_stmt_prepare", "%.2f"), per("Handler_write", "%.2f"),
		per("Handler_update", "%.2f"), per("Innodb_os_log_written", "%.0f"), n
}
