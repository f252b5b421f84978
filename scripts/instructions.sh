#!/usr/bin/env bash
# instructions.sh BENCHMARK PACKAGE [TEST_BINARY]
#
# Counts the instructions one iteration of a Go benchmark executes, with
# valgrind's cachegrind, on one core and with the collector off: a figure
# that does not move with the machine's load, for comparing two versions of
# the code on a shared machine where wall-clock times drift by 50 %.
# Collection costs are left out (see the benchmarks' allocs/op for those).
#
#   scripts/instructions.sh 'Compile/S1k$' ./controlplane/
#
# The benchmark is run twice, at 2 and at 7 iterations; the testing package
# runs each benchmark once more with one iteration and repeats its set-up,
# so the difference between the two runs is 5 iterations and nothing else.
set -euo pipefail
bench=$1 pkg=$2 bin=${3:-}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/bench.test
	go test -c -o "$bin" "$pkg"
fi
count() {
	GOMAXPROCS=1 GOGC=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$bin" -test.run='^$' -test.bench="$bench" -test.benchtime="$1x" 2>&1 |
		awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
low=$(count 2)
high=$(count 7)
echo "$bench: $(( (high - low) / 5 )) instructions/op"
