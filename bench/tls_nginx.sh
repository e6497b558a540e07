#!/bin/sh
# The probe through nginx terminating TLS in front of `serve`, with a private
# certificate authority handed to the probe by SSL_CERT_FILE (README, "TLS
# through a reverse proxy"). Loopback only; everything stops on exit.
# Needs nginx and openssl. Usage: bench/tls_nginx.sh [path/to/session-ready]
set -eu
bin=${1:-target/release/session-ready}
work=$(mktemp -d)
serve_pid=
nginx_conf=$work/nginx.conf
cleanup() {
    [ -f "$work/nginx.pid" ] && nginx -c "$nginx_conf" -s stop 2>/dev/null || true
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A clinic CA, and a certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Clinic test CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null

"$bin" serve --listen 127.0.0.1:18480 >"$work/serve.log" 2>&1 &
serve_pid=$!
cat >"$nginx_conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    server {
        listen 127.0.0.1:18443 ssl;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        client_max_body_size 128m;
        location / {
            proxy_pass http://127.0.0.1:18480;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
            proxy_buffering off;
        }
    }
}
CONF
nginx -c "$nginx_conf"
sleep 1

echo "== with SSL_CERT_FILE=clinic CA"
SSL_CERT_FILE=$work/ca.pem "$bin" network --server https://127.0.0.1:18443 \
    --max-seconds 15 --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("download", r["download"]["mbps"], "upload", r["upload"]["mbps"],
      "idle", r["latency"]["idle_ms"], "udp", r["udp"] and r["udp"]["rtt_ms"], r["udp_reason"])'
echo "== without it"
env -u SSL_CERT_FILE "$bin" network --server https://127.0.0.1:18443 \
    --max-seconds 15 --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("latency:", r["latency"]["reason"])'
