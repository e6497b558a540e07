#!/usr/bin/env python3
"""Call bench: real WebRTC video calls across the lab's shaped links, against the probe's rating.

Run as root on Linux from the repository root (bench/README.md says what it does and defines
the call-quality label):

    sudo bench/callbench.py --install                # every profile, 1 call each
    sudo bench/callbench.py --calls 3                # 3 calls per profile
    sudo bench/callbench.py --profile dsl-8-1 --calls 1 --seconds 60

`--install` installs what is missing with apt-get (chromium, chromium-driver, iproute2,
iptables) and builds the release binaries with cargo when they are missing.

Per call: bench/topology.sh builds the lab; `session-ready serve` runs in the server namespace
and `session-ready network --format json` measures the link from the client namespace (rating,
MOS). Then a signalling page is served in the server namespace, one headless Chromium per
namespace holds a call (fake 640x360 15 fps y4m camera and wav microphone, VP8), each side
reads getStats() every second, and the call is labelled as bench/README.md says. Raw
per-second statistics go to bench/results/ (not committed).
"""
import argparse
import json
import math
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import threading
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import netbench  # noqa: E402  (the lab's profiles and helpers)

LAB = "cb"
SERVER_IP = netbench.SERVER_IP
PROBE_PORT = 8080
PAGE_PORT = 8090
BANDS = ["good", "fair", "poor", "unusable"]
NICE = -10
WINDOW_START_S = 10  # the label's window: seconds 10..end (bench/README.md)

# The 8 profiles of netbench.py plus the 4 of issue 26.
PROFILES = {name: dict(p) for name, p in netbench.PROFILES.items()}
for p in PROFILES.values():
    # netbench's halving profile halves 0.4 s into the probe's download; a call halves mid-call.
    if "change_after_s" in p:
        p["call_change_after_s"] = 30
PROFILES.update({
    "lossy-5-1-150": dict(down="5mbit", up="1mbit", loss=0.02, delay_ms=75, jitter_ms=0,
                          about="5/1 Mbit/s, +150 ms RTT, 2% UDP loss each way"),
    "slow-3-0.5": dict(down="3mbit", up="512kbit", loss=0.0, delay_ms=15, jitter_ms=1,
                       about="3/0.5 Mbit/s, +30 ms RTT"),
    "drop-third-3-1.5": dict(down="3mbit", up="1536kbit", loss=0.0, delay_ms=15, jitter_ms=0,
                             down2="1mbit", up2="512kbit", call_change_after_s=30,
                             about="capacity drops to a third mid-call: 3/1.5 → 1/0.5 Mbit/s 30 s in, +30 ms RTT"),
    "bursts-50-10": dict(down="50mbit", up="10mbit", loss=0.0, delay_ms=10, jitter_ms=0,
                         burst_loss=0.03,
                         about="50/10 Mbit/s, +20 ms RTT, 3% UDP loss in bursts (60 ms outages, both ways, 2 s apart on average)"),
})


def set_lab(name):
    global LAB
    LAB = name
    netbench.set_lab(name)


def ns_cli():
    return f"{LAB}-cli"


def ns_srv():
    return f"{LAB}-srv"


# ---------------------------------------------------------------- media files

def write_y4m(path, width=640, height=360, fps=15, seconds=10):
    """A panning blocky texture with a moving square: real motion, so the encoder needs bitrate
    (a still picture would fit any link). Chromium loops the file."""
    rng = random.Random(26)
    bw, bh = 8, 8
    tw, th = width * 2, height * 2
    block_rows = []
    for _ in range(th // bh):
        vals = [40 + rng.randrange(176) for _ in range(tw // bw)]
        row = bytes(v for v in vals for _ in range(bw))
        row = row + row[:width]  # wrap-around without modulo per pixel
        block_rows.extend([row] * bh)
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    frames = fps * seconds
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            ox = (n * 6) % tw
            oy = (n * 2) % th
            sx = int((width - 80) * (0.5 + 0.5 * math.sin(2 * math.pi * n / frames)))
            sy = int((height - 80) * (0.5 + 0.5 * math.cos(2 * math.pi * n / frames)))
            f.write(b"FRAME\n")
            for y in range(height):
                row = block_rows[(y + oy) % th][ox:ox + width]
                if sy <= y < sy + 80:
                    row = row[:sx] + b"\xeb" * 80 + row[sx + 80:]
                f.write(row)
            f.write(chroma)
            f.write(chroma)
    os.replace(tmp, path)


def write_wav(path, rate=48000, seconds=10):
    """Speech-like sound: a gliding tone under a 4 Hz syllable envelope, so concealment has
    sound to conceal (Chromium loops the file)."""
    frames = bytearray()
    phase = 0.0
    for i in range(rate * seconds):
        t = i / rate
        freq = 220 + 180 * math.sin(2 * math.pi * 0.7 * t)
        phase += 2 * math.pi * freq / rate
        env = 0.25 + 0.75 * abs(math.sin(2 * math.pi * 2 * t))
        frames += struct.pack("<h", int(9000 * env * math.sin(phase)))
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    os.replace(tmp, path)


# ---------------------------------------------------------------- the call page

PAGE = r"""<!doctype html>
<meta charset="utf-8"><title>callbench</title>
<video id="local" autoplay muted playsinline width="320"></video>
<video id="remote" autoplay playsinline width="320"></video>
<script>
const IN = ['framesPerSecond','frameWidth','frameHeight','freezeCount','totalFreezesDuration',
  'pauseCount','totalPausesDuration','framesDecoded','framesDropped','framesReceived',
  'jitterBufferDelay','jitterBufferEmittedCount','packetsLost','packetsReceived','bytesReceived',
  'concealedSamples','silentConcealedSamples','concealmentEvents','totalSamplesReceived',
  'nackCount','pliCount','jitter','decoderImplementation','codecId'];
const OUT = ['qualityLimitationReason','qualityLimitationDurations','frameWidth','frameHeight',
  'framesPerSecond','targetBitrate','bytesSent','framesEncoded','totalEncodeTime','packetsSent',
  'retransmittedPacketsSent','encoderImplementation'];
function keep(s, names) { const o = {}; for (const n of names) if (s[n] !== undefined) o[n] = s[n]; return o; }
function pick(report, t) {
  const out = {t, in: {}, out: {}, remote: {}, pair: null, codecs: {}};
  let selected = null;
  report.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) selected = s.selectedCandidatePairId; });
  report.forEach(s => {
    if (s.type === 'inbound-rtp') out.in[s.kind] = keep(s, IN);
    else if (s.type === 'outbound-rtp') out.out[s.kind] = keep(s, OUT);
    else if (s.type === 'remote-inbound-rtp') out.remote[s.kind] = keep(s, ['roundTripTime', 'fractionLost', 'packetsLost', 'jitter']);
    else if (s.type === 'candidate-pair' && s.id === selected)
      out.pair = keep(s, ['currentRoundTripTime', 'availableOutgoingBitrate', 'availableIncomingBitrate', 'bytesSent', 'bytesReceived']);
    else if (s.type === 'codec') out.codecs[s.id] = s.mimeType;
  });
  return out;
}
async function post(path, body) {
  const r = await fetch(path, {method: 'POST', body: JSON.stringify(body)});
  if (!r.ok) throw new Error('signalling POST ' + r.status);
}
async function poll(path, until) {
  while (performance.now() < until) {
    const r = await fetch(path);
    if (r.status === 200) return await r.json();
  }
  throw new Error('no signalling message in time');
}
window.runCall = async function (role, room, seconds) {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 640, height: 360, frameRate: 15}, audio: true});
  document.getElementById('local').srcObject = stream;
  const pc = new RTCPeerConnection({iceServers: []});
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  for (const tr of pc.getTransceivers()) {
    if (tr.sender.track && tr.sender.track.kind === 'video') {
      const codecs = RTCRtpReceiver.getCapabilities('video').codecs;
      tr.setCodecPreferences(codecs.filter(c => c.mimeType === 'video/VP8')
        .concat(codecs.filter(c => /rtx|red|ulpfec/i.test(c.mimeType))));
    }
  }
  pc.ontrack = (e) => { const v = document.getElementById('remote'); v.srcObject = e.streams[0]; v.play().catch(() => {}); };
  const gathered = () => new Promise((res) => {
    if (pc.iceGatheringState === 'complete') return res();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') res(); });
  });
  const deadline = performance.now() + 60000;
  const started = performance.now();
  if (role === 'caller') {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    await post('/signal?to=callee&room=' + room, pc.localDescription);
    await pc.setRemoteDescription(await poll('/signal?for=caller&room=' + room, deadline));
  } else {
    await pc.setRemoteDescription(await poll('/signal?for=callee&room=' + room, deadline));
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    await post('/signal?to=caller&room=' + room, pc.localDescription);
  }
  const signalled = performance.now();
  const connected = await new Promise((res) => {
    const timer = setTimeout(() => res(false), 20000);
    const check = () => {
      if (pc.connectionState === 'connected') { clearTimeout(timer); res(true); }
      else if (pc.connectionState === 'failed') { clearTimeout(timer); res(false); }
    };
    pc.onconnectionstatechange = check; check();
  });
  if (!connected) { pc.close(); return {connected: false, state: pc.connectionState}; }
  if (role === 'caller') fetch('/signal?to=bench&room=' + room, {method: 'POST', body: '{"connected":true}'}).catch(() => {});
  const t0 = performance.now();
  const samples = [];
  for (let i = 1; i <= seconds; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * 1000 - performance.now())));
    samples.push(pick(await pc.getStats(), (performance.now() - t0) / 1000));
  }
  pc.close();
  for (const t of stream.getTracks()) t.stop();
  return {connected: true, setup_s: (t0 - started) / 1000, signalling_s: (signalled - started) / 1000, samples};
};
</script>
"""

PAGE_SERVER = r"""
import json, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs
page = open(sys.argv[3], 'rb').read()
boxes, cond = {}, threading.Condition()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=b'', ctype='application/json'):
        self.send_response(code); self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body))); self.send_header('Cache-Control', 'no-store')
        self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        u = urlparse(self.path); q = parse_qs(u.query)
        if u.path == '/':
            return self.reply(200, page, 'text/html; charset=utf-8')
        if u.path == '/signal':
            key = (q.get('room', [''])[0], q.get('for', [''])[0])
            end = time.monotonic() + 10
            with cond:
                while not boxes.get(key) and time.monotonic() < end:
                    cond.wait(end - time.monotonic())
                if boxes.get(key):
                    return self.reply(200, boxes[key].pop(0))
            return self.reply(204)
        self.reply(404)
    def do_POST(self):
        u = urlparse(self.path); q = parse_qs(u.query)
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        room, to = q.get('room', [''])[0], q.get('to', [''])[0]
        if to == 'bench':
            print(f'connected {room}', flush=True)
        with cond:
            boxes.setdefault((room, to), []).append(body); cond.notify_all()
        self.reply(204)
ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
"""

DRIVER = r"""
import json, subprocess, sys, tempfile, time, urllib.request, shutil
url, role, room, seconds, y4m, wav, origin, out_path = sys.argv[1:9]
seconds = int(seconds)
port = 9515
driver = subprocess.Popen(['chromedriver', f'--port={port}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f'http://127.0.0.1:{port}'
def call(method, path, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())['value']
profile = tempfile.mkdtemp(prefix='callbench-')
result = None
try:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + '/status', timeout=1); break
        except OSError:
            time.sleep(0.1)
    args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
            '--mute-audio', '--autoplay-policy=no-user-gesture-required',
            '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
            f'--use-file-for-fake-video-capture={y4m}', f'--use-file-for-fake-audio-capture={wav}',
            f'--unsafely-treat-insecure-origin-as-secure={origin}',
            '--disable-features=WebRtcHideLocalIpsWithMdns', f'--user-data-dir={profile}']
    caps = {'capabilities': {'alwaysMatch': {'goog:chromeOptions': {'args': args}}}}
    try:
        session = call('POST', '/session', caps, timeout=120)['sessionId']
    except Exception as e:
        result = {'bench_error': f'the browser did not start: {e}'}
        session = None
    try:
        if session is None:
            raise SystemExit
        call('POST', f'/session/{session}/timeouts', {'script': (seconds + 150) * 1000})
        call('POST', f'/session/{session}/url', {'url': url}, timeout=60)
        js = ('const done = arguments[arguments.length - 1];'
              'window.runCall(%s, %s, %d).then(done, (e) => done({connected: false, error: String(e)}));'
              % (json.dumps(role), json.dumps(room), seconds))
        result = call('POST', f'/session/{session}/execute/async', {'script': js, 'args': []}, timeout=seconds + 160)
    except SystemExit:
        pass
    except Exception as e:
        result = {'bench_error': f'the browser session failed: {e}'}
    finally:
        try:
            if session is not None:
                call('DELETE', f'/session/{session}')
        except Exception:
            pass
    # A file, not stdout: 60 s of statistics overflow a pipe nobody reads until the end.
    with open(out_path, 'w') as f:
        json.dump(result, f)
finally:
    driver.terminate()
    driver.wait(timeout=10)
    shutil.rmtree(profile, ignore_errors=True)
"""


# ---------------------------------------------------------------- loss bursts

class Bursts(threading.Thread):
    """UDP outages of 60 ms in both directions, exponentially distributed gaps with a mean that
    gives `share` of the time lost (3 %: 2 s mean gap). Each end namespace has one iptables rule
    that drops UDP from the far end while the far end's address is in an xt_recent list; the
    list is switched by writing to /proc (instant, where starting iptables under load took
    ~100 ms and made the outages three times too long). The time lost is measured."""

    NAME = "cbburst"

    def __init__(self, share, outage_s=0.06):
        super().__init__(daemon=True)
        self.mean_gap = outage_s / share
        self.outage = outage_s
        self.stop = threading.Event()
        self.lost_s = 0.0
        self.count = 0
        self.rng = random.Random()
        self.holders, self.files = [], []
        for ns, far in ((ns_cli(), SERVER_IP), (ns_srv(), "10.88.1.2")):
            netbench.in_ns(ns, "iptables", "-I", "INPUT", "-p", "udp", "-m", "recent", "--name", self.NAME,
                           "--rcheck", "--rsource", "-j", "DROP")
            # /proc/PID/net is the namespace of PID: a sleeping process holds each one open.
            holder = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "100000"])
            self.holders.append(holder)
            path = None
            for _ in range(100):
                kids = netbench.children(holder.pid)
                candidate = f"/proc/{kids[0] if kids else holder.pid}/net/xt_recent/{self.NAME}"
                if os.path.exists(candidate):
                    path = candidate
                    break
                time.sleep(0.05)
            if path is None:
                raise SystemExit("callbench: the xt_recent list for the loss bursts did not appear.")
            self.files.append((path, far))

    def switch(self, on):
        for path, far in self.files:
            # A fresh open each time: the list refuses a second write at a later offset.
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, (("+" if on else "-") + far + "\n").encode())
            finally:
                os.close(fd)

    def run(self):
        while not self.stop.wait(self.rng.expovariate(1 / self.mean_gap)):
            start = time.monotonic()
            self.switch(True)
            time.sleep(self.outage)
            self.switch(False)
            self.lost_s += time.monotonic() - start
            self.count += 1

    def close(self):
        self.stop.set()
        self.join(timeout=5)
        for h in self.holders:
            h.terminate()
            h.wait(timeout=5)


# ---------------------------------------------------------------- one call

def load():
    return round(os.getloadavg()[0], 2)


def probe(binary):
    out = subprocess.run(["ip", "netns", "exec", ns_cli(), binary, "network", "--server",
                          f"http://{SERVER_IP}:{PROBE_PORT}", "--format", "json", "--max-seconds", "20"],
                         capture_output=True, text=True)
    try:
        rep = json.loads(out.stdout)
    except ValueError:
        return dict(error=f"the probe printed no JSON (exit {out.returncode}): {out.stderr[-300:]}")
    v = rep["video"]
    return dict(rating=v["rating"], mos=v.get("mos"), conclusive=v.get("conclusive"),
                borderline=v.get("borderline"), duration_s=rep.get("duration_s"),
                metrics={m["metric"]: m["value"] for m in v.get("metrics", [])},
                bands={m["metric"]: m["band"] for m in v.get("metrics", [])}, report=rep)


def one_call(name, profile, binary, seconds, media, outdir, index):
    y4m, wav = media
    netbench.topology("down")
    netbench.topology("up", profile)
    # The delay line is the link: starved of CPU by compilers it would add its own delay
    # (added after the runs of 2026-12-08, where one 100 ms link showed round trips of 800 ms).
    pid_file = f"/tmp/{LAB}-linkdelay.pid"
    if os.path.exists(pid_file):
        with open(pid_file) as f:
            pid = f.read().strip()
        # Per thread: Linux keeps a nice value for each of the delay line's threads.
        tasks = os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []
        for tid in tasks:
            subprocess.run(["renice", "-n", str(NICE), "-p", tid], capture_output=True)
    serve = subprocess.Popen(["ip", "netns", "exec", ns_srv(), binary, "serve", "--listen",
                              f"{SERVER_IP}:{PROBE_PORT}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bursts = None
    drivers = {}
    page_file = os.path.join(outdir, "page.html")
    with open(page_file, "w") as f:
        f.write(PAGE)
    record = dict(profile=name, about=profile["about"], index=index, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  load_before=load())
    try:
        time.sleep(0.5)
        if profile.get("burst_loss"):
            bursts = Bursts(profile["burst_loss"])
            bursts.start()
        record["probe"] = probe(binary)
        record["load_after_probe"] = load()
        serve.terminate()
        serve.wait(timeout=10)
        page = subprocess.Popen(["ip", "netns", "exec", ns_srv(), sys.executable, "-u", "-c", PAGE_SERVER,
                                 SERVER_IP, str(PAGE_PORT), page_file], stdout=subprocess.PIPE, text=True)
        connected_at = []

        def watch():
            for line in page.stdout:
                if line.startswith("connected"):
                    connected_at.append(time.monotonic())
        threading.Thread(target=watch, daemon=True).start()
        time.sleep(0.5)
        room = f"{name}-{index}-{random.randrange(1 << 30)}"
        origin = f"http://{SERVER_IP}:{PAGE_PORT}"
        url = origin + "/"
        results = {}
        for role, ns in (("callee", ns_srv()), ("caller", ns_cli())):
            results[role] = os.path.join(outdir, f".{role}.json")
            if os.path.exists(results[role]):
                os.remove(results[role])
            # The browsers run at nice -10 (NICE): on a machine shared with compilers, frames
            # rendered late would read as freezes of the link (bench/README.md).
            drivers[role] = subprocess.Popen(["nice", "-n", str(NICE), "ip", "netns", "exec", ns, sys.executable, "-c", DRIVER, url, role, room,
                                              str(seconds), y4m, wav, origin, results[role]],
                                             stdout=subprocess.DEVNULL, stderr=open(results[role] + ".err", "w"),
                                             start_new_session=True)
        changed = "call_change_after_s" not in profile or "down2" not in profile
        loads = []
        while any(d.poll() is None for d in drivers.values()):
            if not changed and connected_at and time.monotonic() - connected_at[0] >= profile["call_change_after_s"]:
                netbench.topology("rate", profile, (profile["down2"], profile["up2"]))
                record["rate_changed_after_s"] = round(time.monotonic() - connected_at[0], 2)
                changed = True
            loads.append(os.getloadavg()[0])
            time.sleep(0.25)
        for role, d in drivers.items():
            d.wait()
            with open(results[role] + ".err") as f:
                err = f.read()
            os.remove(results[role] + ".err")
            try:
                with open(results[role]) as f:
                    record[role] = json.load(f)
                os.remove(results[role])
            except (OSError, ValueError):
                record[role] = {"bench_error": f"the driver printed no result: {err[-400:]}"}
        record["load_during_max"] = round(max(loads), 2) if loads else None
        record["load_after"] = load()
        page.terminate()
        page.wait(timeout=10)
    finally:
        for d in drivers.values():
            if d.poll() is None:  # interrupted: the browsers and their drivers go with it
                os.killpg(d.pid, 15)
                d.wait(timeout=10)
        if bursts:
            bursts.close()
            record["bursts"] = dict(count=bursts.count, lost_s=round(bursts.lost_s, 2))
        if serve.poll() is None:
            serve.terminate()
            serve.wait(timeout=10)
        netbench.topology("down")
    record["label"] = label(record)
    path = os.path.join(outdir, f"{name}-{index}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
    return record


# ---------------------------------------------------------------- the label (bench/README.md)

def window(samples):
    return [s for s in samples if s["t"] >= WINDOW_START_S - 0.5]


def delta(first, last, kind, field):
    a = (first["in"].get(kind) or {}).get(field)
    b = (last["in"].get(kind) or {}).get(field)
    if a is None or b is None:
        return None
    return b - a


def r_factor(concealed_pct, one_way_ms):
    """G.107 simplified, as data/network_thresholds.json's e_model (Ie 0, Bpl 25.1)."""
    d = one_way_ms
    i_d = 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0)
    ie_eff = 95 * concealed_pct / (concealed_pct + 25.1)
    return 93.2 - i_d - ie_eff


def r_to_mos(r):
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def side_figures(result):
    """What one side received over the window."""
    samples = window(result.get("samples") or [])
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    span = last["t"] - first["t"]
    fig = dict(seconds=round(span, 1))
    vid = [s["in"].get("video") or {} for s in samples]
    fps = [v.get("framesPerSecond", 0) for v in vid]
    heights = [v.get("frameHeight", 0) for v in vid]
    freezes = delta(first, last, "video", "totalFreezesDuration")
    fig["fps"] = statistics.median(fps)
    fig["height"] = statistics.median(heights)
    fig["freeze_share_pct"] = None if freezes is None else round(100 * freezes / span, 2)
    fig["freezes"] = delta(first, last, "video", "freezeCount")
    conc = delta(first, last, "audio", "concealedSamples")
    total = delta(first, last, "audio", "totalSamplesReceived")
    fig["concealed_pct"] = None if not total else round(100 * conc / total, 3)
    rtts = [s["remote"].get("audio", {}).get("roundTripTime") for s in samples]
    rtts = [r for r in rtts if r is not None] or [
        (s.get("pair") or {}).get("currentRoundTripTime") for s in samples
        if (s.get("pair") or {}).get("currentRoundTripTime") is not None]
    fig["rtt_ms"] = round(1000 * statistics.median(rtts), 1) if rtts else None
    jb = delta(first, last, "audio", "jitterBufferDelay")
    jn = delta(first, last, "audio", "jitterBufferEmittedCount")
    fig["audio_jb_ms"] = round(1000 * jb / jn, 1) if jn else None
    vjb = delta(first, last, "video", "jitterBufferDelay")
    vjn = delta(first, last, "video", "jitterBufferEmittedCount")
    fig["video_jb_ms"] = round(1000 * vjb / vjn, 1) if vjn else None
    reasons = [(s["out"].get("video") or {}).get("qualityLimitationReason", "none") for s in samples]
    fig["limited_by"] = {r: reasons.count(r) for r in sorted(set(reasons))}
    fig["cpu_share"] = reasons.count("cpu") / len(reasons)
    sent_h = [(s["out"].get("video") or {}).get("frameHeight", 0) for s in samples]
    fig["sent_height"] = statistics.median(sent_h)
    if fig["concealed_pct"] is not None and fig["rtt_ms"] is not None:
        one_way = fig["rtt_ms"] / 2 + (fig["audio_jb_ms"] or 0)
        fig["audio_r"] = round(r_factor(fig["concealed_pct"], one_way), 1)
        fig["audio_mos"] = round(r_to_mos(fig["audio_r"]), 2)
    return fig


def video_band(fig):
    f, fps, h = fig["freeze_share_pct"], fig["fps"], fig["height"]
    if f is None or fps is None or not h:
        return "unusable"
    if f < 1 and fps >= 12 and h >= 270:
        return "good"
    if f < 5 and fps >= 7 and h >= 180:
        return "fair"
    if f < 20 and fps >= 3:
        return "poor"
    return "unusable"


def audio_band(fig):
    r = fig.get("audio_r")
    if r is None:
        return "unusable"
    return "good" if r >= 80 else "fair" if r >= 70 else "poor" if r >= 50 else "unusable"


def label(record):
    """good/fair/poor/unusable, or `cpu-limited` / `bench-failure` (never labelled)."""
    sides = {}
    for role in ("caller", "callee"):
        res = record.get(role) or {}
        if res.get("bench_error"):
            return dict(label="bench-failure", why=f"{role}: {res['bench_error']}")
        if not res.get("connected"):
            return dict(label="unusable", why=f"{role}: the call did not connect ({res.get('error') or res.get('state')})")
        fig = side_figures(res)
        if fig is None:
            return dict(label="bench-failure", why=f"{role}: too few samples")
        sides[role] = fig
    cpu = max(f["cpu_share"] for f in sides.values())
    if cpu >= 0.10:
        return dict(label="cpu-limited", cpu_share=round(cpu, 2), sides=sides)
    parts = {}
    for role, fig in sides.items():
        # The caller (client namespace) receives the download; the callee receives the upload.
        direction = "download" if role == "caller" else "upload"
        parts[f"video_{direction}"] = video_band(fig)
        parts[f"audio_{direction}"] = audio_band(fig)
    worst = max(parts.values(), key=BANDS.index)
    return dict(label=worst, parts=parts, cpu_share=round(cpu, 2), sides=sides)


# ---------------------------------------------------------------- the tables

def summarise(records):
    lines = []
    counted = [r for r in records if r["label"]["label"] in BANDS and "rating" in r.get("probe", {})]
    cpu = [r for r in records if r["label"]["label"] == "cpu-limited"]
    failed = [r for r in records if r["label"]["label"] == "bench-failure" or "rating" not in r.get("probe", {})]
    lines.append(f"{len(records)} calls: {len(counted)} labelled, {len(cpu)} CPU-limited (excluded), "
                 f"{len(failed)} bench failures.")
    lines.append("")
    lines.append("| probe rating \\ call label | " + " | ".join(BANDS) + " |")
    lines.append("|---|" + "---|" * len(BANDS))
    for pr in BANDS:
        row = [sum(1 for r in counted if r["probe"]["rating"] == pr and r["label"]["label"] == cl) for cl in BANDS]
        lines.append(f"| {pr} | " + " | ".join(str(n) for n in row) + " |")
    within = [r for r in counted if abs(BANDS.index(r["probe"]["rating"]) - BANDS.index(r["label"]["label"])) <= 1]
    exact = [r for r in counted if r["probe"]["rating"] == r["label"]["label"]]
    good_unusable = [r for r in counted if r["probe"]["rating"] == "good" and r["label"]["label"] == "unusable"]
    if counted:
        lines.append("")
        lines.append(f"Exact: {len(exact)}/{len(counted)}; within one step: {len(within)}/{len(counted)} "
                     f"({100 * len(within) / len(counted):.0f} %); rated good but unusable: {len(good_unusable)}.")
    lines.append("")
    lines.append("| profile | call | load (before / max during) | probe rating (MOS) | call label (video ↓ / ↑, audio ↓ / ↑) "
                 "| fps ↓/↑ | height ↓/↑ | freeze % ↓/↑ | concealed % ↓/↑ | call audio MOS ↓/↑ | RTT ms | limited by (↓ sender / ↑ sender) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        lab = r["label"]
        p = r.get("probe", {})
        s = lab.get("sides") or {}
        c, e = s.get("caller") or {}, s.get("callee") or {}

        def two(key, nd=1):
            def f(v):
                return "–" if v is None else f"{v:.{nd}f}"
            return f"{f(c.get(key))} / {f(e.get(key))}"
        parts = lab.get("parts") or {}
        detail = (f" ({parts.get('video_download')} / {parts.get('video_upload')}, "
                  f"{parts.get('audio_download')} / {parts.get('audio_upload')})") if parts else ""
        why = f" ({lab.get('why')})" if lab.get("why") else ""
        cpu = f" cpu {lab['cpu_share']:.0%}" if "cpu_share" in lab else ""
        mos = p.get("mos")
        lines.append(f"| {r['profile']} | {r['index']} | {r['load_before']:.1f} / {r.get('load_during_max') or 0:.1f} "
                     f"| {p.get('rating', 'error')} ({'–' if mos is None else f'{mos:.2f}'}) "
                     f"| **{lab['label']}**{detail}{why} | {two('fps')} | {two('height', 0)} | {two('freeze_share_pct')} "
                     f"| {two('concealed_pct', 2)} | {two('audio_mos', 2)} | {two('rtt_ms', 0)} "
                     f"| {e.get('limited_by', '–')} / {c.get('limited_by', '–')}{cpu} |")
    lines.append("")
    lines.append("| profile | call | probe MOS | probe loss % (round trip) | call audio concealed % ↓/↑ "
                 "| call audio jitter buffer ms ↓/↑ | call audio MOS ↓/↑ (same E-model) |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in records:
        p = r.get("probe", {})
        s = r["label"].get("sides") or {}
        c, e = s.get("caller") or {}, s.get("callee") or {}

        def pair(key, nd):
            def f(v):
                return "–" if v is None else f"{v:.{nd}f}"
            return f"{f(c.get(key))} / {f(e.get(key))}"
        loss = (p.get("metrics") or {}).get("loss_pct")
        mos = p.get("mos")
        lines.append(f"| {r['profile']} | {r['index']} | {'–' if mos is None else f'{mos:.2f}'} "
                     f"| {'–' if loss is None else f'{loss:.2f}'} | {pair('concealed_pct', 2)} "
                     f"| {pair('audio_jb_ms', 0)} | {pair('audio_mos', 2)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- setup

def ensure_tools(install, binary):
    missing = [t for t in ("chromium", "chromedriver", "ip", "iptables", "tc")
               if shutil.which(t) is None]
    if missing:
        packages = {"chromium": "chromium", "chromedriver": "chromium-driver", "ip": "iproute2",
                    "tc": "iproute2", "iptables": "iptables"}
        wanted = sorted({packages[t] for t in missing})
        if not install:
            raise SystemExit(f"callbench needs {', '.join(missing)}. Run it with --install, or: "
                             f"apt-get install {' '.join(wanted)}")
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y"] + wanted, check=True)
    needed = [binary, os.environ.get("LINKDELAY", os.path.join(ROOT, "target/release/examples/linkdelay"))]
    if not all(os.path.exists(p) for p in needed):
        if not install:
            raise SystemExit(f"{needed[0]} or the linkdelay example is missing: run "
                             "`cargo build --release --bins --examples`, or run callbench with --install.")
        cmd = ["cargo", "build", "--release", "--bins", "--examples"]
        user = os.environ.get("SUDO_USER")
        if user and user != "root":
            cmd = ["sudo", "-u", user, "-H", "--preserve-env=PATH"] + cmd
        subprocess.run(cmd, cwd=ROOT, check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=1, help="calls per profile (default 1)")
    p.add_argument("--seconds", type=int, default=60, help="length of each call (default 60)")
    p.add_argument("--profile", action="append", help=f"one of {', '.join(PROFILES)}")
    p.add_argument("--binary", default=os.path.join(ROOT, "target/release/session-ready"))
    p.add_argument("--lab", default=LAB, help="prefix of the namespaces and links (default cb)")
    p.add_argument("--out", default=os.path.join(HERE, "results", time.strftime("callbench-%Y%m%d-%H%M%S")),
                   help="folder for the raw per-second statistics (default bench/results/callbench-DATE)")
    p.add_argument("--install", action="store_true", help="install missing tools (apt-get) and build missing binaries")
    p.add_argument("--summary", metavar="DIR", nargs="+",
                   help="only print the tables of the calls already in these folders (one folder per round)")
    a = p.parse_args()
    if a.summary:
        records = []
        for n, folder in enumerate(a.summary, 1):
            for f in sorted(os.listdir(folder)):
                if f.endswith(".json") and f != "summary.json":
                    with open(os.path.join(folder, f)) as fh:
                        rec = json.load(fh)
                    rec["label"] = label(rec)  # the label's rule as it is now
                    rec["index"] = n if len(a.summary) > 1 else rec["index"]
                    records.append(rec)
        order = list(PROFILES)
        records.sort(key=lambda r: (order.index(r["profile"]) if r["profile"] in order else 99, r["index"]))
        print(summarise(records))
        return
    if os.geteuid() != 0:
        raise SystemExit("callbench needs root (network namespaces, tc, iptables): run it with sudo.")
    unknown = [n for n in a.profile or [] if n not in PROFILES]
    if unknown:
        raise SystemExit(f"unknown profile {unknown[0]!r}: choose from {', '.join(PROFILES)}.")
    ensure_tools(a.install, a.binary)
    set_lab(a.lab)
    os.makedirs(a.out, exist_ok=True)
    media_dir = os.path.join(HERE, "results", "media")
    os.makedirs(media_dir, exist_ok=True)
    y4m, wav = os.path.join(media_dir, "call-640x360-15.y4m"), os.path.join(media_dir, "call-48k.wav")
    if not os.path.exists(y4m):
        write_y4m(y4m)
    if not os.path.exists(wav):
        write_wav(wav)
    names = a.profile or list(PROFILES)
    records = []
    # Calls one at a time, rounds over the profiles, so a short run still covers every profile.
    for index in range(1, a.calls + 1):
        for name in names:
            rec = one_call(name, PROFILES[name], a.binary, a.seconds, (y4m, wav), a.out, index)
            records.append(rec)
            lab = rec["label"]
            print(f"{name} #{index}: probe {rec.get('probe', {}).get('rating', 'error')} "
                  f"(MOS {rec.get('probe', {}).get('mos')}), call {lab['label']} {lab.get('parts') or lab.get('why') or ''} "
                  f"load {rec['load_before']} → {rec.get('load_during_max')}", flush=True)
    print()
    print(summarise(records))
    # Every call's figures and label without the per-second samples: small enough to keep.
    brief = [{k: v for k, v in r.items() if k not in ("caller", "callee")} for r in records]
    for b in brief:
        b.get("probe", {}).pop("report", None)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(brief, f, indent=1)
    print(f"\nRaw per-second statistics: {a.out}")


if __name__ == "__main__":
    main()
