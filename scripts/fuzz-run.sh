#!/usr/bin/env bash
# fuzz-run.sh BINARY DIR TARGET FUZZTIME CACHEDIR: one fuzz smoke run.
#
# Go's fuzz coordinator can report "context deadline exceeded" as a failure
# when -test.fuzztime ends: it sees its deadline before the workers' context
# has been cancelled (a race inside internal/fuzz). Such a run found nothing,
# so it is run again (three attempts); any other failure, or a failing input,
# fails.
set -u
bin=$1 dir=$2 target=$3 fuzztime=$4 cache=$5
run() {
  (cd "$dir" && "$bin" -test.run '^$' -test.fuzz "^${target}\$" -test.fuzztime "$fuzztime" -test.fuzzcachedir "$cache") 2>&1 | tee "$cache/last.log"
  return "${PIPESTATUS[0]}"
}
mkdir -p "$cache"
for attempt in 1 2 3; do
  run && exit 0
  if ! grep -q 'context deadline exceeded' "$cache/last.log" || grep -q 'Failing input written' "$cache/last.log"; then
    exit 1
  fi
  echo "fuzz-run: $target stopped on Go's end-of-run deadline race (attempt $attempt of 3)"
done
exit 1
