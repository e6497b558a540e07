#!/usr/bin/env bash
# Windows stage of CI (called by .ci/run after the Linux tests): cross-build
# session-ready for x86_64-pc-windows-gnu with Debian's Rust 1.96 and mingw-w64,
# then smoke-test the .exe under Wine against the Linux build:
#   --version; `check --answers` for every example (JSON equal to Linux apart
#   from the timestamp); a report saved owner-only; `check --device`;
#   `report --format pdf`; `network` against a loopback Linux `serve`; Ctrl-C
#   during `network`.
# rustup has no Windows standard library here, so std is built from Debian's
# rust-web-src (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP).
# The std build is cached in target/windows with everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
stage_started=$SECONDS

say() { echo "== windows: $* [$((SECONDS - stage_started)) s into the stage]"; }
fail() {
    echo "Windows stage: $*" >&2
    exit 1
}

work=$(mktemp -d)
serve_pid=""
cleanup() {
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
    if [ -d "$work/prefix" ]; then WINEPREFIX=$work/prefix wineserver -k >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- tools ---------------------------------------------------------------
packages=(rustc-web cargo-web rust-web-src mingw-w64 wine wine64 jq poppler-utils)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# The Linux build to compare with (already built by `cargo test`, so quick).
# Built before the Debian toolchain's variables are set below.
cargo build --locked --quiet --bin session-ready
linux_exe=$repo/target/debug/session-ready

# ---- cross-build -----------------------------------------------------------
# Explicit paths and a separate target dir keep the rustup toolchain (fmt,
# clippy, tests) untouched; .cargo/config.toml names the mingw linker.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=$repo/target/windows CARGO_INCREMENTAL=0
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
cross=(--locked --target x86_64-pc-windows-gnu -Zbuild-std=std,panic_abort)

say "cargo check --all-targets (library, binary, tests, examples)"
check_log=$work/check.log
/usr/bin/cargo check "${cross[@]}" --all-targets 2>&1 | tee "$check_log"
# Our own warnings count as errors, as clippy -D warnings does on Linux
# (RUSTFLAGS=-D warnings would also apply to the std build).
if grep -q '^warning: `session-ready`' "$check_log"; then
    echo "Windows build has warnings (above); fix them or put Unix-only code behind cfg." >&2
    exit 1
fi

say "cargo build --release"
/usr/bin/cargo build "${cross[@]}" --release --bin session-ready
exe=$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release/session-ready.exe
say "built $(du -h "$exe" | cut -f1) $(basename "$exe"), imports: $(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\tDLL Name: //p' | sort -uf | tr '\n' ' ')"

# ---- Wine ------------------------------------------------------------------
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# Wine passes the environment on: Unix certificate settings mean nothing to a
# Windows program (a merged certificate file does not load under Wine).
unset DISPLAY WAYLAND_DISPLAY SSL_CERT_FILE SSL_CERT_DIR
say "creating a Wine prefix"
# (wineboot complains about the 32-bit half, which is not installed or needed.)
wine wineboot --init </dev/null >"$work/wineboot.log" 2>&1 || true
wineserver -w
[ -f "$WINEPREFIX/drive_c/windows/system32/kernel32.dll" ] ||
    fail "the Wine prefix could not be created (about 700 MB; is the disk full?): $(tail -5 "$work/wineboot.log")"

run_dir=$work/run
mkdir -p "$run_dir"
cp "$exe" "$run_dir/"
cp -r examples/answers "$run_dir/answers"
# Wine 8 lacks bcryptprimitives.dll (ProcessPrng, which Rust's std imports;
# Windows 10 and later have it). A test-only forwarder to RtlGenRandom
# (advapi32's SystemFunction036) sits next to the .exe here; it is never shipped.
if ! ls /usr/lib/*/wine/x86_64-windows/bcryptprimitives.dll >/dev/null 2>&1; then
    cat >"$work/bcryptprimitives.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
EOF
    x86_64-w64-mingw32-gcc -shared -O2 -o "$run_dir/bcryptprimitives.dll" \
        "$work/bcryptprimitives.c" -ladvapi32
fi

cd "$run_dir"
win() { timeout 120 wine ./session-ready.exe "$@" </dev/null; }

say "--version"
[ "$(win --version | tr -d '\r')" = "$("$linux_exe" --version)" ] || fail "--version differs from Linux"

without_timestamp() { jq -S 'del(.generated_at)' "$1"; }
for answers in answers/*.json; do
    name=$(basename "$answers" .json)
    say "check --answers $answers"
    for view in client clinician; do
        args=(check --answers "$answers" --no-network --no-device --format json --view "$view")
        win "${args[@]}" -o "win-$name-$view.json"
        "$linux_exe" "${args[@]}" -o "linux-$name-$view.json"
        diff <(without_timestamp "linux-$name-$view.json") <(without_timestamp "win-$name-$view.json") ||
            fail "$name ($view) differs from the Linux report"
    done
done

say "a saved report is private"
# Wine keeps a file's access list as Unix mode bits. A file written the
# ordinary way (a man page) shows what the folder would give: readable by
# others. Our access list, one entry for the user, shows as no bits for others
# (Wine also sets the group bits, as it counts the user's groups as the user).
win man --out-dir man 2>/dev/null
ordinary=$(stat -c %a man/session-ready.1)
private=$(stat -c %a win-urgent-clinician.json)
[ "${ordinary: -1}" != 0 ] || fail "an ordinary file has mode $ordinary, so this check cannot tell"
[ "${private: -1}" = 0 ] || fail "a saved report has mode $private (an ordinary file: $ordinary): readable by others"

say "check --device"
win check --device --format json >device.json || fail "check --device exited $?"
jq -e '.items | length == 7 and all(.rating | IN("ok", "caution", "problem", "unknown"))' device.json >/dev/null ||
    fail "device report incomplete: $(cat device.json)"
jq -r '.items[] | "   \(.id): \(.found) (\(.rating))"' device.json

say "report --format pdf"
win report win-video-suitable-clinician.json --format pdf -o win.pdf
"$linux_exe" report linux-video-suitable-clinician.json --format pdf -o linux.pdf
pdfinfo win.pdf | grep -q '^Pages:' || fail "the Windows PDF does not open"
# Dates are local with their zone; Wine names its own zone for a UTC host
# (GMT, Atlantic/Reykjavik), so the zone's name is left out of the comparison.
zoneless() {
    pdftotext "$1" - | sed -E 's/ \(([A-Z]{2,5}|UTC[+-][0-9:]+)\)( ·|$)/\2/; s/^(Made [0-9-]+ [0-9:]+) .* by /\1 by /'
}
diff <(zoneless win.pdf) <(zoneless linux.pdf) || fail "the PDFs' text differs"

# A Linux measurement server on a free loopback port.
"$linux_exe" serve --listen 127.0.0.1:0 >serve.log 2>&1 &
serve_pid=$!
for _ in $(seq 300); do
    grep -q "ready on" serve.log && break
    kill -0 "$serve_pid" 2>/dev/null || fail "serve stopped: $(cat serve.log)"
    sleep 0.1
done
port=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.log | head -1)
[ -n "$port" ] || fail "serve did not start: $(cat serve.log)"

say "network against a Linux serve on port $port"
win network --server "http://127.0.0.1:$port" --max-seconds 6 --format json >network.json
jq -e '(.latency.idle_ms | type == "number") and (.download.mbps | type == "number")' network.json >/dev/null ||
    fail "network gave no figures: $(cat network.json)"

say "Ctrl-C during network"
# Ctrl-C must print the calm message and exit 130. Under Wine, ExitProcess
# ends in the C library's exit() after wineserver has been told the process
# is gone, and wineserver SIGKILLs a process still there about 0.48 s later
# (1/64 s doubling to 1/2 s): a slow exit() came back as 137 after the calm
# message (2 of 15 in a row and 4 of 9 over four runs, before this step had
# six attempts); and ExitProcess can also stop a thread that holds a lock
# the exit path then waits for. src/interrupt.rs now ends through
# TerminateProcess, which skips that exit path. Measured 2026-12-01 (Wine 8.0, this
# step in a loop, old and new .exe taking turns): with exit() slowed by an
# LD_PRELOAD atexit handler to 0.55 s and 0.7 s, old 137 in 10 of 10, new 130
# in 10 of 10 (0.3 s: both 130, 5 of 5); unslowed, idle and during builds
# and `cargo test`, new 130 in 176 of 176, old 130 in 174, once hung after
# the message (a thread waiting on a lock owned by a stopped one; killed: 137)
# and once exit 1 without it.
# So one attempt.
wine ./session-ready.exe network --server "http://127.0.0.1:$port" --max-seconds 120 \
    </dev/null >interrupted.out 2>interrupted.err &
client_pid=$!
# Wait for the client's first connection to the server (by then its handler
# is installed): an ESTABLISHED (01) socket to the port in /proc/net/tcp.
port_hex=$(printf '%04X' "$port")
for _ in $(seq 600); do
    awk -v p=":$port_hex" '$3 ~ p"$" && $4 == "01"' /proc/net/tcp | grep -q . && break
    kill -0 "$client_pid" 2>/dev/null || fail "network ended before it could be interrupted"
    sleep 0.1
done
kill -INT "$client_pid"
status=0
wait "$client_pid" || status=$?
grep -q "session-ready stopped" interrupted.err || fail "no calm message after Ctrl-C (exit $status): $(cat interrupted.err)"
[ "$status" -eq 130 ] || fail "Ctrl-C ended network with exit code $status, expected 130: $(cat interrupted.err)"

say "all smoke tests passed"
