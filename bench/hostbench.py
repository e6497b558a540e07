#!/usr/bin/env python3
"""The hosted check under load (issue 23, "Measured"): many invited visits at once.

Runs `serve --clinic examples/clinic.toml --inbox DIR` on loopback and walks
`--visits` invitations at once, as browsers without JavaScript would, from
`--addresses` loopback addresses (127.0.0.2 and up), plus `--browsers` real
headless Chromium visits (fake camera and microphone) driven through
chromedriver. Every form is read generically: each form's hidden fields are
sent back as they are (the `at` of the screen, and any token a form carries),
radio buttons and text fields are filled from examples/answers/video-suitable.json
(with a canary typed into the plan's "place" field), and the button pressed is
the form's own Continue or, on a screen of buttons only, the one that goes on.

Then it checks that every visit reached "reached your clinic", that the inbox
holds one report per visit and that each decrypts with
`age -d -i examples/clinic-example-identity.txt` and with `session-ready report
--identity` (naming the visit's client reference, with the canary inside); it
reports page latency (p50/p95/max of every request the HTTP visits made) and
serve's peak RSS. Then a second round: `--kill-visits` visits at once, serve is
killed with SIGKILL once some have finished, and started again on the same
inbox and secret: every report finished before the kill must still be there and
decrypt, and each visit in progress must get a calm page on its next request.
Last, the canary is looked for in plain text in every file under the run's
folder (the inbox, serve's HOME and secret, serve's stdout and stderr; serve
keeps no access log, so its output is all there is) and in `--metrics`.

    cargo build --release
    bench/hostbench.py                      # 200 + 5 visits; prints a Markdown summary
    bench/hostbench.py --visits 20 --browsers 1 --kill-visits 10   # a quick look

Needs age, chromium and chromedriver on PATH for the full run (`--browsers 0`
without them). Records the 1-minute load average: the machine may be shared.
"""
import argparse
import base64
import hashlib
import html.parser
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLINIC = os.path.join(ROOT, "examples/clinic.toml")
IDENTITY = os.path.join(ROOT, "examples/clinic-example-identity.txt")
ANSWERS = os.path.join(ROOT, "examples/answers/video-suitable.json")
FINISHED = "reached your clinic"


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- forms

class Forms(html.parser.HTMLParser):
    """Every form of a page: its action, hidden fields, radio groups, text
    fields and submit buttons, whatever they are called."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(),
                         "hidden": [], "radios": {}, "texts": [], "buttons": []}
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
        if tag == "input" and kind == "hidden":
            self.form["hidden"].append((a.get("name", ""), a.get("value", "")))
        elif tag == "input" and kind in ("radio", "checkbox"):
            self.form["radios"].setdefault(a.get("name", ""), []).append(a.get("value", "on"))
        elif tag == "input" and kind in ("text", "email", "tel", "search", "url", "number"):
            self.form["texts"].append({"name": a.get("name", ""), "id": a.get("id", ""),
                                       "value": a.get("value", "")})
        elif tag == "textarea":
            self.textarea = {"name": a.get("name", ""), "id": a.get("id", ""), "value": ""}
            self.form["texts"].append(self.textarea)
        elif tag in ("button", "input") and kind == "submit":
            self.form["buttons"].append({"name": a.get("name", ""), "value": a.get("value", ""),
                                         "id": a.get("id", ""),
                                         "primary": "primary" in (a.get("class") or "")})

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea":
            self.textarea = None


def forms_of(page):
    p = Forms()
    p.feed(page)
    return p.forms


def screen_form(page):
    """The form that answers this screen: the one naming its screen in a
    hidden `at` (every page also carries the frame's own forms, such as
    "Leave this page", which a client walking the check does not press)."""
    posts = [f for f in forms_of(page) if f["method"] == "post"]
    named = [f for f in posts if any(n == "at" for n, _ in f["hidden"])]
    return (named or [None])[0]


class Answers:
    """What to choose on a screen, from an answers file (as a client who
    answers like examples/answers/video-suitable.json)."""

    # On a screen of buttons only, the first of these it offers goes on.
    GO_ON = ["continue", "answer", "back-to-choices", "keep-no", "save", "plan", "skip", "leave-out"]

    def __init__(self, path, canary):
        with open(path) as f:
            data = json.load(f)
        self.region = data.get("region") or "elsewhere"
        self.answers = data.get("answers", {})
        self.plan = dict(data.get("session_plan", {}))
        self.plan["place"] = canary

    def choose(self, form):
        """(fields to send, the button pressed) for `form`."""
        hidden = dict(form["hidden"])
        at = hidden.get("at", "")
        place = at.rsplit(".", 1)[0] if "." in at else at
        fields = list(form["hidden"])
        buttons = form["buttons"]
        by_value = {b["value"]: b for b in buttons}
        primary = next((b for b in buttons if b["primary"]), buttons[0] if buttons else None)
        for name, values in form["radios"].items():
            wanted = None
            if name == "answer" and place.startswith("q-"):
                wanted = self.answers.get(place[2:])
                if wanted not in values and "skip" in by_value:
                    return fields, by_value["skip"]
            elif name == "region":
                wanted = self.region
            elif name == "choice":
                wanted = "save-full"
            fields.append((name, wanted if wanted in values else values[0]))
        if form["radios"]:
            return fields, primary
        for text in form["texts"]:
            value = text["value"]
            if place.startswith("plan-"):
                value = self.plan.get(place[5:], "")
            fields.append((text["name"], value))
        if form["texts"]:
            return fields, primary
        for code in self.GO_ON:
            if code in by_value:
                return fields, by_value[code]
        return fields, primary


# ---------------------------------------------------------------- HTTP visits

class Visit:
    """One invited client over plain HTTP, from `source` (a loopback address),
    on one keep-alive connection as a browser would."""

    def __init__(self, port, link, source, answers, latencies, lock):
        self.port, self.link, self.source = port, link, source
        self.answers, self.latencies, self.lock = answers, latencies, lock
        self.cookies = {}
        self.conn = None
        self.requests = 0
        self.finished = False
        self.last = None  # (status, body) of the last reply
        self.error = None

    def connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                               source_address=(self.source, 0))

    def request(self, method, path, body=None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(40):
            if self.conn is None:
                self.connect()
            started = time.monotonic()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                res = self.conn.getresponse()
                data = res.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError):
                # The server closed the kept connection between requests: a browser
                # reconnects. While serve is down (the kill round), a person reloads a
                # little later.
                self.conn.close()
                self.conn = None
                if attempt == 39:
                    raise
                if attempt:
                    time.sleep(0.25)
                continue
            took = time.monotonic() - started
            with self.lock:
                self.latencies.append(took)
            self.requests += 1
            for k, v in res.getheaders():
                if k.lower() == "set-cookie":
                    name, _, value = v.split(";", 1)[0].partition("=")
                    self.cookies[name.strip()] = value.strip()
            if res.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            self.last = (res.status, data)
            return res.status, res.getheader("Location"), data
        raise RuntimeError("unreachable")

    def get_following(self, path):
        for _ in range(6):
            status, location, body = self.request("GET", path)
            if status not in (301, 302, 303, 307) or not location:
                return status, body
            path = urllib.parse.urljoin(f"http://127.0.0.1:{self.port}{path}", location)
            path = urllib.parse.urlsplit(path).path or "/"
        return status, body

    def walk(self, max_screens=200, stop=None):
        """Open the link and walk every screen until the last page."""
        try:
            status, body = self.get_following(self.link)
            for _ in range(max_screens):
                if stop is not None and stop.is_set():
                    return
                if FINISHED in body:
                    self.finished = True
                    return
                form = screen_form(body)
                # Without scripts the media test is passed by its link, and
                # the waiting page goes on by its "Continue" (not measured).
                if status == 200 and not form and 'href="next"' in body:
                    status, body = self.get_following("/next")
                    continue
                if status == 200 and not form and 'href="finish?wait=1"' in body:
                    status, body = self.get_following("/finish?wait=1")
                    continue
                if status != 200 or not form:
                    self.error = f"status {status} with no form: {first_heading(body)}"
                    return
                fields, button = self.answers.choose(form)
                if button and button["name"]:
                    fields = fields + [(button["name"], button["value"])]
                action = urllib.parse.urljoin("/walk", form["action"] or "walk")
                status, location, body = self.request("POST", action, urllib.parse.urlencode(fields))
                if status in (301, 302, 303, 307) and location:
                    target = urllib.parse.urlsplit(
                        urllib.parse.urljoin(f"http://127.0.0.1:{self.port}{action}", location)).path
                    status, body = self.get_following(target)
            self.error = f"no end within {max_screens} screens"
        except Exception as e:  # noqa: BLE001 - any failure is this visit's result
            self.error = f"{type(e).__name__}: {e}"
        finally:
            if self.conn:
                self.conn.close()


def first_heading(page):
    start = page.find("<h1")
    if start < 0:
        return page[:120].replace("\n", " ")
    start = page.find(">", start) + 1
    return page[start:page.find("</h1>", start)]


# ---------------------------------------------------------------- Chromium visits

class WebDriver:
    """The few W3C WebDriver commands a walk needs, over chromedriver's HTTP."""

    def __init__(self, base, profile):
        self.base = base
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": shutil.which("chromium") or "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--user-data-dir={profile}", "--window-size=390,844"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read())["value"]

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def find(self, css):
        found = self.s("POST", "/elements", {"using": "css selector", "value": css})
        return [next(iter(e.values())) for e in found]

    def click(self, element):
        try:
            self.s("POST", f"/element/{element}/click", {})
        except urllib.error.HTTPError:
            # A radio drawn under its label is not "interactable": click it as its label would.
            ref = {"element-6066-11e4-a52e-4f735466cecf": element}
            self.s("POST", "/execute/sync", {"script": "arguments[0].click()", "args": [ref]})

    def type(self, element, text):
        self.s("POST", f"/element/{element}/clear", {})
        self.s("POST", f"/element/{element}/value", {"text": text})

    def source(self):
        return self.s("GET", "/source")

    def quit(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        except OSError:
            pass


def css_string(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def browser_visit(driver_base, port, link, answers, profile, result):
    """One Chromium visit: every screen answered by clicking, as a person would."""
    driver = None
    try:
        driver = WebDriver(driver_base, profile)
        driver.s("POST", "/url", {"url": f"http://127.0.0.1:{port}{link}"})
        last_at = None
        # Time rather than pages: the waiting page measures the connection
        # from the browser (about 10 s, longer under load) and then moves on.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            page = driver.source()
            if FINISHED in page:
                result["finished"] = True
                return
            form = screen_form(page)
            if not form and driver.s("GET", "/url").rstrip("/").endswith("/media"):
                # The camera and microphone step is passed by, as without scripts.
                driver.s("POST", "/url", {"url": f"http://127.0.0.1:{port}/next"})
                continue
            if not form:
                time.sleep(0.1)
                continue
            at = dict(form["hidden"]).get("at")
            if at == last_at:
                time.sleep(0.05)  # the next page is not drawn yet
                continue
            fields, button = answers.choose(form)
            sent_hidden = {n for n, _ in form["hidden"]}
            for name, value in fields:
                if name in sent_hidden:
                    continue
                if name in form["radios"]:
                    el = driver.find(f"input[name={css_string(name)}][value={css_string(value)}]")
                    driver.click(el[0])
                else:
                    el = driver.find(f"[name={css_string(name)}]")
                    driver.type(el[0], value)
            el = driver.find(f"button[name={css_string(button['name'])}][value={css_string(button['value'])}]")
            driver.click(el[0])
            last_at = at
        result["error"] = "no end within 300 s"
    except Exception as e:  # noqa: BLE001
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        if driver:
            driver.quit()


# ---------------------------------------------------------------- serve

class Serve:
    def __init__(self, binary, folder, port, metrics_port, max_visits):
        self.binary, self.folder, self.port = binary, folder, port
        self.metrics_port, self.max_visits = metrics_port, max_visits
        self.home = os.path.join(folder, "serve-home")
        self.inbox = os.path.join(folder, "inbox")
        self.secret = os.path.join(self.home, "invitation-secret")
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        os.makedirs(self.inbox, mode=0o700, exist_ok=True)
        self.env = dict(os.environ, HOME=self.home, XDG_DATA_HOME=os.path.join(self.home, "data"),
                        XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                        XDG_STATE_HOME=os.path.join(self.home, "state"))
        self.proc = None
        self.starts = 0
        self.peak_rss_mb = 0.0

    def invite(self, ref):
        out = subprocess.run([self.binary, "invite", "--clinic", CLINIC, "--url",
                              f"http://127.0.0.1:{self.port}", "--secret", self.secret,
                              "--client-ref", ref, "--expires", "2h"],
                             capture_output=True, text=True, env=self.env, check=True).stdout
        link = out.strip().split()[-1] if out.strip() else ""
        return link[link.index("/c/"):]

    def start(self):
        self.starts += 1
        out = open(os.path.join(self.folder, f"serve-stdout-{self.starts}.log"), "w")
        err = open(os.path.join(self.folder, f"serve-stderr-{self.starts}.log"), "w")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--clinic", CLINIC,
             "--inbox", self.inbox, "--secret", self.secret, "--max-visits", str(self.max_visits),
             "--metrics", f"127.0.0.1:{self.metrics_port}"],
            stdout=out, stderr=err, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("serve did not start; see " + err.name)

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
                return r.read().decode()
        except OSError as e:
            return f"(metrics unreadable: {e})"

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class RssSampler(threading.Thread):
    def __init__(self, serve):
        super().__init__(daemon=True)
        self.serve, self.stop, self.peak = serve, False, 0.0

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, self.serve.rss_mb())
            time.sleep(0.2)


# ---------------------------------------------------------------- checks

def reports(inbox):
    return sorted(os.path.join(inbox, f) for f in os.listdir(inbox) if f.endswith(".age"))


def decrypts(binary, path, canary):
    """(age opens it, report --identity opens it, client_ref, canary inside)."""
    age = subprocess.run(["age", "-d", "-i", IDENTITY, path], capture_output=True)
    opened = subprocess.run([binary, "report", path, "--identity", IDENTITY, "--format", "json",
                             "--output", "-"], capture_output=True, text=True)
    ref = None
    if opened.returncode == 0:
        try:
            ref = json.loads(opened.stdout).get("client_ref")
        except ValueError:
            pass
    inside = canary.encode() in age.stdout or canary in opened.stdout
    return age.returncode == 0, opened.returncode == 0, ref, inside


def canary_hits(folder, canary, extra_texts):
    hits = []
    needle = canary.encode()
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            try:
                with open(path, "rb") as f:
                    if needle in f.read():
                        hits.append(os.path.relpath(path, folder))
            except OSError:
                pass
    for label, text in extra_texts:
        if canary in text:
            hits.append(label)
    return hits


def quantile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# ---------------------------------------------------------------- rounds

def http_round(serve, answers, count, addresses, prefix, kill_after=None):
    """`count` visits at once; with `kill_after`, serve is SIGKILLed once that
    many have finished and started again. Returns the visits and what the kill left."""
    links = [(f"{prefix}-{i}", serve.invite(f"{prefix}-{i}")) for i in range(count)]
    latencies, lock = [], threading.Lock()
    visits = [Visit(serve.port, link, f"127.0.0.{2 + i % addresses}", answers, latencies, lock)
              for i, (_, link) in enumerate(links)]
    for v, (ref, _) in zip(visits, links):
        v.ref = ref
    threads = [threading.Thread(target=v.walk) for v in visits]
    started = time.monotonic()
    for t in threads:
        t.start()
    killed = None
    if kill_after is not None:
        while sum(v.finished for v in visits) < kill_after and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        serve.stop(signal.SIGKILL)
        before = {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in reports(serve.inbox)}
        done_before = [v for v in visits if v.finished]
        serve.start()
        killed = {"reports_before": before, "finished_before": len(done_before)}
    for t in threads:
        t.join()
    return visits, latencies, time.monotonic() - started, links, killed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.path.join(ROOT, "target/release/session-ready"))
    p.add_argument("--visits", type=int, default=200)
    p.add_argument("--addresses", type=int, default=20, help="loopback addresses the HTTP visits come from")
    p.add_argument("--browsers", type=int, default=5)
    p.add_argument("--kill-visits", type=int, default=40)
    p.add_argument("--max-visits", type=int, default=256, help="serve's --max-visits")
    p.add_argument("--keep", action="store_true", help="keep the run's folder")
    a = p.parse_args()

    folder = tempfile.mkdtemp(prefix="hostbench-")
    canary = "canary-" + base64.b32encode(os.urandom(10)).decode().lower()
    answers = Answers(ANSWERS, canary)
    serve = Serve(a.binary, folder, free_port(), free_port(), a.max_visits)
    serve.invite("warm-up")  # makes the secret
    serve.start()
    sampler = RssSampler(serve)
    sampler.start()
    rss_idle = serve.rss_mb()
    load_before = loadavg()
    summary = {"folder": folder, "load_before": load_before, "rss_idle_mb": rss_idle}
    driver = None
    try:
        # Round 1: the HTTP visits and the Chromium visits at once.
        browser_results = []
        browser_threads = []
        if a.browsers:
            driver_port = free_port()
            driver = subprocess.Popen(["chromedriver", f"--port={driver_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            for i in range(a.browsers):
                link = serve.invite(f"browser-{i}")
                result = {"ref": f"browser-{i}", "finished": False, "error": None}
                browser_results.append(result)
                profile = os.path.join(folder, f"chromium-{i}")
                browser_threads.append(threading.Thread(
                    target=browser_visit,
                    args=(f"http://127.0.0.1:{driver_port}", serve.port, link, answers, profile, result)))
        for t in browser_threads:
            t.start()
        visits, latencies, took, links, _ = http_round(serve, answers, a.visits, a.addresses, "visit")
        for t in browser_threads:
            t.join()
        load_after = loadavg()
        rss_peak = sampler.peak
        inbox_files = reports(serve.inbox)
        checked = [decrypts(a.binary, path, canary) for path in inbox_files]
        refs = {c[2] for c in checked}
        wanted = {f"visit-{i}" for i in range(a.visits)} | {r["ref"] for r in browser_results}
        errors = [v.error for v in visits if v.error] + [r["error"] for r in browser_results if r["error"]]
        summary.update({
            "http_visits_finished": f"{sum(v.finished for v in visits)}/{a.visits}",
            "browser_visits_finished": f"{sum(r['finished'] for r in browser_results)}/{a.browsers}",
            "errors": errors[:10],
            "round_seconds": round(took, 1),
            "requests": len(latencies),
            "latency_ms": {"p50": round(1000 * quantile(latencies, 0.5), 1),
                           "p95": round(1000 * quantile(latencies, 0.95), 1),
                           "max": round(1000 * max(latencies), 1)} if latencies else None,
            "serve_rss_peak_mb": round(rss_peak, 1),
            "reports_in_inbox": len(inbox_files),
            "age_decrypts": sum(c[0] for c in checked),
            "report_identity_decrypts": sum(c[1] for c in checked),
            "every_visit_has_its_report": wanted <= refs,
            "canary_inside_each_report": sum(c[3] for c in checked),
            "load_during": [load_before, load_after],
        })
        print(json.dumps(summary, indent=1), file=sys.stderr)

        # Round 2: SIGKILL mid-run, then start again on the same inbox and secret.
        if a.kill_visits:
            sampler.peak = 0.0
            visits2, lat2, took2, _, killed = http_round(
                serve, answers, a.kill_visits, a.addresses, "kill", kill_after=max(1, a.kill_visits // 4))
            after = {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in reports(serve.inbox)}
            kept = all(after.get(p) == h for p, h in killed["reports_before"].items())
            interrupted = [v for v in visits2 if not v.finished]
            told = {}
            for v in interrupted:
                status, body = v.last if v.last else (None, "")
                told.setdefault(f"{status} {first_heading(body)}", 0)
                told[f"{status} {first_heading(body)}"] += 1
            rechecked = [decrypts(a.binary, p, canary) for p in killed["reports_before"]]
            summary.update({
                "kill": {
                    "reports_before_kill": len(killed["reports_before"]),
                    "visits_finished_before_kill": killed["finished_before"],
                    "every_report_kept_unchanged": kept,
                    "kept_reports_decrypt_age_and_identity": sum(c[0] and c[1] for c in rechecked),
                    "visits_in_progress_at_kill": len(interrupted),
                    "what_they_were_told_next": told,
                    "finished_after_restart": sum(v.finished for v in visits2) - killed["finished_before"],
                },
            })
        # The canary: nowhere in plain text under the run's folder (inbox, serve's
        # HOME and secret, its logs), nor in its metrics.
        serve_metrics = serve.metrics()
        hits = canary_hits(folder, canary, [("--metrics", serve_metrics)])
        # Chromium's own profile is the client's device, not the server's.
        summary["canary_plain_text_hits"] = [h for h in hits if not h.startswith("chromium-")]
        summary["canary_in_client_profiles"] = len([h for h in hits if h.startswith("chromium-")])
        summary["load_after"] = loadavg()
    finally:
        sampler.stop = True
        serve.stop()
        if driver:
            driver.terminate()
            driver.wait(timeout=10)
        if not a.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
