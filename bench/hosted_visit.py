#!/usr/bin/env python3
"""One hosted visit, as a client with a browser would make it (run by bench/hostedbench.py
inside the client namespace; usable alone against any `serve --clinic --inbox`):

    python3 bench/hosted_visit.py http://10.88.2.2:8080 /c/TOKEN examples/answers/video-suitable.json

It opens the invitation and answers the questions over plain HTTP (the forms, as without
JavaScript), passes the media step, then hands the session to headless Chromium (chromedriver),
which opens the waiting page: the page's own measure.js measures the connection against the
server and sends its samples. Back over HTTP it sends the full copy to the clinic. Prints one
JSON line: {"ok": true, "browser_s": seconds the page took} or {"error": "..."}.
"""
import http.client
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

COOKIE = "session-ready"


class Visit:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.origin = f"http://{url.netloc}"
        self.netloc = url.netloc
        self.cookie = None

    def request(self, method, path, fields=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Host": self.netloc}
        body = None
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if method == "POST":
            headers["Origin"] = self.origin
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(fields or [])
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        for name, value in r.getheaders():
            if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
                self.cookie = value.split(";")[0].split("=", 1)[1]
        conn.close()
        return r.status, (r.getheader("location") or ""), text

    def page(self, path):
        """GET `path`, following the visit's redirects."""
        status, to, body = self.request("GET", path)
        for _ in range(4):
            if status != 303:
                break
            status, to, body = self.request("GET", "/" + to.lstrip("/"))
        return body


def at_of(body):
    m = re.search(r'name="at" value="([^"]+)"', body)
    return m and m.group(1)


def choice(answers, at):
    """The form to send for screen `at`: as tests/integration/walk_support.rs's Answers::choice."""
    place = at.rsplit(".", 1)[0]
    if place.startswith("q-"):
        a = answers["answers"].get(place[2:])
        return ("answer", [("answer", a)]) if a and a != "skipped" else ("skip", [])
    if place.startswith("plan-"):
        text = (answers.get("session_plan") or {}).get(place[5:])
        return ("plan", [("text", text)]) if isinstance(text, str) else ("leave-out", [])
    if place == "region":
        return "answer", [("region", answers.get("region") or "elsewhere")]
    if place == "keep":
        return "keep-no", []
    if place == "plan" and not answers.get("session_plan"):
        return "skip-part", []
    return "continue", []


def walk(v, link, answers):
    status, to, _ = v.request("GET", link)
    if status != 303 or not v.cookie:
        raise SystemExit(json.dumps({"error": f"the link did not open a visit ({status})"}))
    for _ in range(300):
        body = v.page("/walk")
        at = at_of(body)
        if at:
            action, fields = choice(answers, at)
            v.request("POST", "/walk", [("at", at), ("do", action)] + fields)
        elif 'href="next"' in body:
            v.request("GET", "/next")
        elif 'id="browser-test"' in body:
            return
        else:
            raise SystemExit(json.dumps({"error": "an unexpected page: " + body[:300]}))
    raise SystemExit(json.dumps({"error": "the walk did not reach the waiting page"}))


def browser(base, cookie):
    """Chromium opens the waiting page with the visit's cookie; returns seconds until the report."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wd = f"http://127.0.0.1:{port}"

    def call(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(wd + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())["value"]

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(wd + "/status", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", f"--user-data-dir={tempfile.mkdtemp()}"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}}
        session = call("POST", "/session", caps)["sessionId"]
        try:
            call("POST", f"/session/{session}/url", {"url": base + "/"})
            call("POST", f"/session/{session}/cookie",
                 {"cookie": {"name": COOKIE, "value": cookie, "path": "/", "httpOnly": True}})
            started = time.monotonic()
            call("POST", f"/session/{session}/url", {"url": base + "/finish"})
            probe = ("return [!!document.getElementById('browser-test'), "
                     "!!document.querySelector('main form')]")
            while time.monotonic() - started < 120:
                measuring, report = call("POST", f"/session/{session}/execute/sync",
                                         {"script": probe, "args": []})
                if report and not measuring:
                    return time.monotonic() - started
                time.sleep(0.25)
            raise SystemExit(json.dumps({"error": "the page did not move on to the report"}))
        finally:
            call("DELETE", f"/session/{session}")
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def send_full_copy(v):
    for _ in range(20):
        body = v.page("/finish")
        at = at_of(body)
        if not at:
            return
        if 'id="choice-save-full"' in body:
            v.request("POST", "/walk", [("at", at), ("do", "save"), ("choice", "save-full")])
        elif 'value="back-to-choices"' in body:
            v.request("POST", "/walk", [("at", at), ("do", "back-to-choices")])
        else:
            raise SystemExit(json.dumps({"error": "an unexpected screen at the end"}))
    raise SystemExit(json.dumps({"error": "the end did not come within 20 screens"}))


def main():
    base, link, answers_file = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(answers_file) as f:
        answers = json.load(f)
    v = Visit(base)
    walk(v, link, answers)
    took = browser(base, v.cookie)
    send_full_copy(v)
    print(json.dumps({"ok": True, "browser_s": round(took, 2)}))


if __name__ == "__main__":
    main()
