# valgrind-errors.awk: the first error records of a valgrind (memcheck) log, with their stacks:
# memcheck's errors (invalid reads and writes, uninitialised values, bad frees, ...) and the
# leak records of lost blocks, at most 8, each line without its ==PID== prefix and indented.
#   awk -f scripts/valgrind-errors.awk LOG        (scripts/valgrind-check, report_log)

/^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|[0-9,]+ (\(|bytes)[^)]*.*(definitely|indirectly|possibly) lost)/ {
	on = 1
	n++
}
on && /^==[0-9]+== $/ {
	on = 0
	print "    ..."
}
on && n <= 8 {
	sub(/^==[0-9]+== /, "    ")
	print
}
