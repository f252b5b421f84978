#!/usr/bin/env bash
# crd-port-error.sh CRD...: makes `error` optional in the load-balancer port
# status (status.loadBalancer.ingress[].ports[]) of each CRD file.
#
# k8s.io/api marks PortStatus.Error both optional and required, and
# controller-gen lets required win: the API server then refuses every status
# whose Envoy Service has ports without an error (an AWS NLB's), so no
# HTTPProxy status could be written. Contour removes it from its CRD too
# (projectcontour/contour#7391). Each file must hold that list exactly once:
# when controller-gen's output changes, this fails rather than guess.
set -eu
for f in "$@"; do
  awk '
    { line[NR] = $0 }
    END {
      n = 0
      for (i = 1; i <= NR; i++) {
        if (line[i] ~ /^ *- error$/ && line[i-1] ~ /^ *required:$/ &&
            line[i+1] ~ /^ *- port$/ && line[i+2] ~ /^ *- protocol$/) {
          n++
          continue
        }
        print line[i]
      }
      if (n != 1) {
        printf "%s: %d port lists requiring error, want 1\n", FILENAME, n > "/dev/stderr"
        exit 1
      }
    }' "$f" > "$f.tmp" || { rm -f "$f.tmp"; exit 1; }
  mv "$f.tmp" "$f"
done
