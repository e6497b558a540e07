#!/bin/bash
# The whole check in the browser page (check --browser), warm, on loopback,
# with a real connection test against a local `serve` running behind it:
#  - page ready: from launching the CLI until the first page and its files
#    are served, and the end of the check (the report and its files) once
#    the questions are done;
#  - page weight: every page of the end of the check with everything it
#    loads (the question pages add no files);
#  - the CLI's peak RSS over the whole check (connection test, page server,
#    report built, saved).
# Usage: bench/check_page.sh [BINARY]   (cargo build --release first)
set -euo pipefail
BIN=$(realpath "${1:-target/release/session-ready}")
RUNS=${RUNS:-5}
ANSWERS=$(realpath examples/answers/video-suitable.json)
WORK=$(mktemp -d); trap 'kill $SERVE 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$((20000 + RANDOM % 20000))
$BIN serve --listen 127.0.0.1:$PORT >/dev/null 2>&1 & SERVE=$!
sleep 0.5
bytes() { curl -s -o /dev/null -w '%{size_download}' "$@"; }
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK"/*.json; ERR="$WORK/err"; : >"$ERR"
  t0=$(date +%s%N)
  (cd "$WORK" && /usr/bin/time -v $BIN check --browser --no-open --answers "$ANSWERS" \
     --server http://127.0.0.1:$PORT --stun 127.0.0.1:$PORT --format json >/dev/null 2>"$ERR") &
  CHECK=$!
  until grep -q 'http://' "$ERR" 2>/dev/null; do sleep 0.002; done
  URL=$(grep -o 'http://127[^ ]*' "$ERR")
  start=0; for f in "" media.js style.css icon.svg; do start=$((start + $(bytes "$URL$f"))); done
  t1=$(date +%s%N)
  O="Origin: ${URL%/*/}"
  # Past the media test (as its page does when it ends), then the end of the check.
  curl -s -o /dev/null -X POST -H "$O" -d '{}' ${URL}api/finish
  t2=$(date +%s%N)
  waiting=0; for f in finish page.js style.css icon.svg; do waiting=$((waiting + $(bytes "$URL$f"))); done
  t3=$(date +%s%N)
  ready=0; for f in "finish?wait=1" page.js style.css icon.svg; do ready=$((ready + $(bytes "$URL$f"))); done
  t4=$(date +%s%N)
  preview=$(( $(bytes ${URL}finish-report) + $(bytes ${URL}style.css) + $(bytes ${URL}page.js) + $(bytes ${URL}icon.svg) ))
  curl -s -o /dev/null -X POST -H "$O" -d 'choice=save-full&name=' ${URL}finish-save
  done_=$(( $(bytes ${URL}finish-done) + $(bytes ${URL}style.css) + $(bytes ${URL}page.js) + $(bytes ${URL}icon.svg) ))
  wait $CHECK
  echo "run $run: first page ready $(( (t1-t0)/1000000 )) ms ($start B);" \
       "waiting page $(( (t3-t2)/1000000 )) ms ($waiting B);" \
       "report offered after the connection test $(( (t4-t3)/1000000 )) ms ($ready B);" \
       "preview $preview B; closing $done_ B;" \
       "peak RSS $(grep 'Maximum resident' "$ERR" | awk '{print $6}') kB;" \
       "saved $(ls "$WORK"/*.json | wc -l)"
done
