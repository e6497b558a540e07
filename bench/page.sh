#!/bin/bash
# The browser page (check --browser) from a warm start, on loopback: time from
# launching the CLI until the page and its three files are served, and the
# CLI's peak RSS over a whole test (measurements posted as the page would).
# Usage: bench/page.sh [BINARY]   (build it with cargo build --release first)
set -euo pipefail
BIN=${1:-target/release/session-ready}
RUNS=${RUNS:-6}
ERR=$(mktemp); trap 'rm -f "$ERR"' EXIT
for run in $(seq 1 "$RUNS"); do
  : >"$ERR"
  t0=$(date +%s%N)
  /usr/bin/time -v $BIN check --device --browser --no-open --format json >/dev/null 2>"$ERR" &
  until grep -q 'http://' "$ERR" 2>/dev/null; do sleep 0.002; done
  URL=$(grep -o 'http://127[^ ]*' "$ERR")
  for f in "" media.js style.css icon.svg; do curl -s -o /dev/null "$URL$f"; done
  t1=$(date +%s%N)
  PORT=$(echo $URL | cut -d: -f3 | cut -d/ -f1); O="Origin: http://127.0.0.1:$PORT"
  curl -s -o /dev/null -X POST -H "$O" -d '{"access":"granted","frames":90,"width":640,"height":480,"fps":30,"luma_mean":120,"luma_stddev":40,"centre_luma":125,"surround_luma":118}' ${URL}api/camera
  curl -s -o /dev/null -X POST -H "$O" -d '{"access":"granted","noise_floor_dbfs":-60,"speech_dbfs":-20,"clipped_pct":0}' ${URL}api/microphone
  curl -s -o /dev/null -X POST -H "$O" -d '{"heard":"yes"}' ${URL}api/speakers
  curl -s -o /dev/null -X POST -H "$O" -d '{}' ${URL}api/finish
  wait
  echo "run $run: page ready $(( (t1-t0)/1000000 )) ms; peak RSS $(grep 'Maximum resident' "$ERR" | awk '{print $6}') kB"
done
