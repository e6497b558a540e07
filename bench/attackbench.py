#!/usr/bin/env python3
"""`serve` under attack, measured with real connection tests (issue 15).

Builds a shaped link with bench/topology.sh (lab `i15`: namespaces i15-cli,
i15-rtr, i15-srv; 100/20 Mbit/s, no added delay), runs `serve` in i15-srv and,
for each scenario, starts the attack, lets it build up, runs real probes from
i15-cli, stops the attack, and prints one Markdown table: the probe's figures
(medians), serve's peak memory and CPU, and what serve's metrics counted.

The attacks come from where an internet attacker's would arrive without
sharing the client's shaped line: the TCP ones from other loopback addresses
inside i15-srv (examples/serve_load.rs --attack), the spoofed STUN from the
router namespace (bench/stun_spoof.py, raw socket, sources 10.200.0.0/16, or
the client's own address 10.88.1.2: the flood then uses up that address's
STUN budget, and the client's rating must not change).
Every attack stops by itself (--seconds) and is stopped when its probes end;
the namespaces are removed on exit. Root on Linux; needs iproute2, iptables,
curl and a release build:

    cargo build --release --bins --examples
    sudo bench/attackbench.py --runs 3
    sudo bench/attackbench.py --shared --runs 3   # three tests at once from one address

Issue 25 also adds WebRTC data-channel floods from 167 other addresses, 6 peer
connections each (the per-address cap; 1,002 against 128 slots): offers posted
and never followed (no ICE), offers whose ICE completes but whose DTLS never
starts (half-open), and junk ICE/DTLS datagrams on the STUN port; the
"within 10 %" column says whether the probes' time, download and upload stayed
within 10 % of the unattacked row, and "serve counted" what the WebRTC caps did.

Issue 25 adds connections that look busy but move nothing, each address
within its limits (keep-alives pinging every 2 s, uploads trickling a byte
every 0.5 s), silent-socket floods from many addresses, and (--shared) three
honest tests at once from one address on 100/20 and on 200/40 +100 ms, beside
one test alone on the same link. Every row records the machine's 1-minute load
average, since the figures are only comparable on an equally loaded machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/session-ready")
LOAD = os.path.join(ROOT, "target/release/examples/serve_load")
TOPOLOGY = os.path.join(ROOT, "bench/topology.sh")
SPOOF = os.path.join(ROOT, "bench/stun_spoof.py")
LAB = "i15"
SERVER_IP = "10.88.2.2"
PORT = 8080


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, **kw)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", f"{LAB}-{ns}", *cmd]


class Sampler(threading.Thread):
    """Peak RSS and CPU (cores, over 1 s windows) of one process."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.hz = os.sysconf("SC_CLK_TCK")
        self.lock = threading.Lock()
        self.reset()
        self.stop = False

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.peak_rss = 0.0
            self.peak_cpu = 0.0
            self.cpu_start = self.cpu()
            self.t_start = time.monotonic()

    def cpu(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.hz

    def rss(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def run(self):
        last_cpu, last_t = self.cpu(), time.monotonic()
        while not self.stop:
            time.sleep(1.0)
            try:
                cpu, t, rss = self.cpu(), time.monotonic(), self.rss()
            except OSError:
                return
            with self.lock:
                self.peak_rss = max(self.peak_rss, rss)
                self.peak_cpu = max(self.peak_cpu, (cpu - last_cpu) / (t - last_t))
            last_cpu, last_t = cpu, t

    def summary(self):
        with self.lock:
            mean = (self.cpu() - self.cpu_start) / (time.monotonic() - self.t_start)
            return self.peak_rss, self.peak_cpu, mean


def metrics():
    out = subprocess.run(
        in_ns("srv", "curl", "-s", "http://127.0.0.1:9464/metrics"),
        capture_output=True, text=True, check=False).stdout
    values = {}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def probe():
    """One connection test from the client namespace: its JSON report, with its wall time added."""
    started = time.monotonic()
    out = subprocess.run(
        in_ns("cli", BIN, "network", "--server", f"http://{SERVER_IP}:{PORT}",
              "--format", "json", "--max-seconds", "25"),
        capture_output=True, text=True, check=False, timeout=60).stdout
    report = json.loads(out)
    report["_seconds"] = time.monotonic() - started
    return report


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


BUSY = "busy"


def busy(report):
    """Whether any figure of the report was left out because the server was busy."""
    reasons = [report["download"].get("reason"), report["upload"].get("reason"),
               report.get("udp_reason")]
    return any(r and BUSY in r for r in reasons)


def scenarios(seconds):
    s = str(seconds)
    load = lambda *a: in_ns("srv", LOAD, "--url", f"http://127.0.0.1:{PORT}", "--seconds", s, *a)
    return [
        ("none", None),
        ("slowloris, 1,000 connections", load("--attack", "slowloris", "--count", "1000", "--from", "127.0.0.2")),
        ("256 never-reading downloads", load("--attack", "never-read", "--count", "256", "--from", "127.0.0.3")),
        ("one address, 250 greedy streams", load("--attack", "greedy", "--count", "250", "--from", "127.0.0.4")),
        ("11 addresses x 24 keep-alives pinging every 2 s",
         load("--attack", "keepalive", "--count", "24", "--from", "127.0.1.1", "--addresses", "11")),
        ("4 addresses x 64 keep-alives pinging every 2 s",
         load("--attack", "keepalive", "--count", "64", "--from", "127.0.3.1", "--addresses", "4")),
        ("49 addresses x 10 uploads trickling a byte every 0.5 s",
         load("--attack", "trickle", "--count", "10", "--from", "127.0.4.1", "--addresses", "49")),
        ("720 silent sockets from 30 addresses",
         load("--attack", "silent", "--count", "24", "--from", "127.0.5.1", "--addresses", "30")),
        ("1,440 silent sockets from 60 addresses",
         load("--attack", "silent", "--count", "24", "--from", "127.0.6.1", "--addresses", "60")),
        # Issue 25: WebRTC data-channel floods (POST /__rtc and the STUN port), 6 peer
        # connections (the per-address cap) from each of 167 other addresses: 1,002 at once
        # against 128 slots.
        ("1,002 WebRTC offers without ICE, 6 from each of 167 addresses",
         load("--attack", "rtc-offer", "--count", "6", "--from", "127.0.8.1", "--addresses", "167")),
        ("1,002 half-open WebRTC peers (ICE done, no DTLS), 6 from each of 167 addresses",
         load("--attack", "rtc-half-open", "--count", "6", "--from", "127.0.9.1", "--addresses", "167")),
        ("junk ICE/DTLS datagrams, 100 pps from each of 30 addresses",
         load("--attack", "rtc-junk", "--count", "100", "--from", "127.0.10.1", "--addresses", "30")),
        ("12,000 spoofed STUN sources, 3,000 pps",
         in_ns("rtr", sys.executable, SPOOF, SERVER_IP, str(PORT), "--sources", "12000",
               "--pps", "3000", "--seconds", s)),
        # Issue 25: the client's own address as the source, under and far over its 200 replies a second.
        ("spoofed STUN from the client's address, 400 pps",
         in_ns("rtr", sys.executable, SPOOF, SERVER_IP, str(PORT), "--source", "10.88.1.2",
               "--pps", "400", "--seconds", s)),
        ("spoofed STUN from the client's address, 3,000 pps",
         in_ns("rtr", sys.executable, SPOOF, SERVER_IP, str(PORT), "--source", "10.88.1.2",
               "--pps", "3000", "--seconds", s)),
    ]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", help="run only scenarios whose name contains one of these (commas)")
    p.add_argument("--shared", action="store_true",
                   help="instead: three tests at once from one address on 100/20 and 200/40 +100 ms")
    a = p.parse_args()
    if a.shared:
        return shared(a.runs)
    attack_seconds = 6 + a.runs * 20
    lab_up("100mbit", "20mbit", "0")
    serve = None
    rows = []
    try:
        serve = subprocess.Popen(
            in_ns("srv", BIN, "serve", "--listen", f"0.0.0.0:{PORT}", "--metrics", "127.0.0.1:9464"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        # ip netns exec execs the binary: the child's pid is serve's.
        sampler = Sampler(serve.pid)
        sampler.start()
        for name, attack in scenarios(attack_seconds):
            if a.only and not any(o in name for o in a.only.split(",")):
                continue
            before = metrics()
            attacker = None
            if attack:
                attacker = subprocess.Popen(attack, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                time.sleep(5.0)  # let it build up
            sampler.reset()
            results = []
            for _ in range(a.runs):
                try:
                    results.append(probe())
                except (ValueError, subprocess.TimeoutExpired) as e:
                    print(f"{name}: a probe gave no report ({e})", file=sys.stderr)
            rss, cpu_peak, cpu_mean = sampler.summary()
            load = loadavg()
            attack_note = ""
            if attacker:
                attacker.terminate()
                try:
                    attack_note = attacker.communicate(timeout=10)[0].strip().splitlines()[-1:]
                    attack_note = attack_note[0] if attack_note else ""
                except subprocess.TimeoutExpired:
                    attacker.kill()
            after = metrics()
            delta = lambda k: after.get(k, 0) - before.get(k, 0)
            counted = {
                "429": delta('session_ready_responses_refused_total{code="429",reason="address_rate_limit"}')
                + delta('session_ready_responses_refused_total{code="429",reason="address_connections"}'),
                "503": delta('session_ready_responses_refused_total{code="503",reason="full"}'),
                "made room": delta('session_ready_connections_closed_early_total{reason="made_room"}'),
                "no request": delta('session_ready_connections_closed_early_total{reason="no_first_request"}'),
                "unread": delta('session_ready_connections_closed_early_total{reason="reply_not_read"}'),
                "STUN replies": delta("session_ready_stun_replies_total"),
                "STUN shed": delta('session_ready_stun_unanswered_total{reason="server_reply_cap"}'),
                "STUN source-limited": delta('session_ready_stun_unanswered_total{reason="source_rate_limit"}'),
                "not STUN/ICE/DTLS ignored": delta('session_ready_stun_unanswered_total{reason="not_a_binding_request"}'),
                "offers answered": delta('session_ready_webrtc_offers_total{outcome="answered"}'),
                "offers 429 (address)": delta('session_ready_webrtc_offers_total{outcome="refused_address_share"}'),
                "offers 503 (full)": delta('session_ready_webrtc_offers_total{outcome="refused_full"}'),
                "peers made room": delta('session_ready_webrtc_peers_closed_total{reason="made_room"}'),
                "peers not connected in 10 s": delta('session_ready_webrtc_peers_closed_total{reason="not_connected_in_time"}'),
                "peers idle": delta('session_ready_webrtc_peers_closed_total{reason="idle"}'),
                "peer datagrams withheld": delta("session_ready_webrtc_datagrams_withheld_total"),
                "peers open at the end": after.get("session_ready_webrtc_peers_open", 0),
            }
            ok = sum(1 for r in results if r["download"]["mbps"] and r["upload"]["mbps"]
                     and r["latency"]["idle_ms"] is not None and r.get("udp"))
            busy_n = sum(1 for r in results if busy(r))
            rows.append({
                "name": name,
                "ok": f"{ok}/{a.runs}" + (f" ({busy_n} busy)" if busy_n else ""),
                "seconds": median([r["_seconds"] for r in results]),
                "load": load,
                "down": median([r["download"]["mbps"] for r in results]),
                "up": median([r["upload"]["mbps"] for r in results]),
                "idle": median([r["latency"]["idle_ms"] for r in results]),
                "udp_rtt": median([r["udp"]["rtt_ms"] if r.get("udp") else None for r in results]),
                "udp_loss": median([r["udp"]["loss_pct"] if r.get("udp") else None for r in results]),
                "rating": ", ".join(sorted({r["video"]["rating"] for r in results})),
                # Measured, or why not (a busy server must say so, never read as loss).
                "udp": ", ".join(sorted({"measured" if r.get("udp") else (r.get("udp_reason") or "")[:60]
                                         for r in results})),
                "rss": rss, "cpu_peak": cpu_peak, "cpu_mean": cpu_mean,
                "counted": ", ".join(f"{k} {int(v)}" for k, v in counted.items() if v),
                "attacker": attack_note,
            })
            print(json.dumps(rows[-1]), file=sys.stderr)
        sampler.stop = True
    finally:
        if serve:
            serve.terminate()
            try:
                serve.wait(timeout=15)
            except subprocess.TimeoutExpired:
                serve.kill()
        sh(TOPOLOGY, "down", LAB, check=False)

    base = rows[0] if rows and rows[0]["name"] == "none" else None
    rel = lambda r, k: "" if not base or not base[k] or r[k] is None else f" ({100 * (r[k] / base[k] - 1):+.0f}%)"
    def within(r):
        """Whether the test's time, download and upload stayed within 10 % of the unattacked row."""
        if not base or r is base:
            return ""
        off = [k for k in ("seconds", "down", "up")
               if r[k] is None or not base[k] or abs(r[k] / base[k] - 1) > 0.10]
        return "yes" if not off else "no: " + ", ".join(off)

    print("| attack | probes complete | test s | download Mbit/s | upload Mbit/s | idle RTT ms | UDP RTT ms / loss % | UDP | rating | within 10 % | serve RSS peak | serve CPU peak / mean (cores) | serve counted | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['ok']} | {fmt(r['seconds'])}{rel(r, 'seconds')} | {fmt(r['down'])}{rel(r, 'down')} | "
              f"{fmt(r['up'])}{rel(r, 'up')} | {fmt(r['idle'], 2)} | {fmt(r['udp_rtt'], 2)} / {fmt(r['udp_loss'])} | "
              f"{r['udp']} | {r['rating']} | {within(r)} | {r['rss']:.0f} MB | {r['cpu_peak']:.2f} / {r['cpu_mean']:.2f} | "
              f"{r['counted']} | {r['load']:.1f} |")


def lab_up(down, up, delay_ms, burst="64kbit"):
    env = dict(os.environ, BURST=burst,
               LINKDELAY=os.path.join(ROOT, "target/release/examples/linkdelay"))
    sh(TOPOLOGY, "down", LAB, check=False, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    sh(TOPOLOGY, "up", LAB, down, up, "0", str(delay_ms), "0", env=env)


SHARED_LINKS = [
    ("100/20", "100mbit", "20mbit", 0, "64kbit"),
    ("200/40 +100 ms", "200mbit", "40mbit", 50, "256kbit"),
]


def shared(runs):
    """Three tests at once from the client namespace's one address, beside one alone."""
    rows = []
    try:
        for link, down, up, delay, burst in SHARED_LINKS:
            lab_up(down, up, delay, burst)
            serve = subprocess.Popen(
                in_ns("srv", BIN, "serve", "--listen", f"0.0.0.0:{PORT}"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            try:
                for together in (1, 3):
                    results = []
                    for _ in range(runs):
                        threads, out = [], []
                        for _ in range(together):
                            t = threading.Thread(target=lambda: out.append(probe()))
                            t.start()
                            threads.append(t)
                        for t in threads:
                            t.join()
                        results.extend(out)
                        time.sleep(2.0)
                    ok = sum(1 for r in results if r["download"]["mbps"] and r["upload"]["mbps"])
                    rows.append({
                        "link": link, "together": together,
                        "ok": f"{ok}/{len(results)}",
                        "busy": sum(1 for r in results if busy(r)),
                        "seconds": median([r["_seconds"] for r in results]),
                        "down": median([r["download"]["mbps"] for r in results]),
                        "up": median([r["upload"]["mbps"] for r in results]),
                        "load": loadavg(),
                    })
                    print(json.dumps(rows[-1]), file=sys.stderr)
            finally:
                serve.terminate()
                serve.wait(timeout=15)
    finally:
        sh(TOPOLOGY, "down", LAB, check=False)
    print("| link | tests at once from one address | tests complete | told \"busy\" | test s (median) | download Mbit/s per test | upload Mbit/s per test | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['link']} | {r['together']} | {r['ok']} | {r['busy']} | {fmt(r['seconds'])} | "
              f"{fmt(r['down'])} | {fmt(r['up'])} | {r['load']:.1f} |")


if __name__ == "__main__":
    main()
