// The hosted check's connection test, run by this browser against the same
// server while the page waits for the report (src/page/measure.rs). It
// only times and counts: idle delay pings, the data channel's stream
// (rtc.js), then download and upload with several streams and delay pings
// under load, for as long as the server's plan says. The raw samples go to
// the server, which works out the figures and the rating by the same rules
// as the command-line probe. Without this script the page's "Continue" goes
// on and the report says the connection was not measured in this browser.
"use strict";
(() => {
  const box = document.getElementById("browser-test");
  if (!box || typeof fetch !== "function") {
    return;
  }
  const words = document.getElementById("browser-test-words");
  const bar = document.getElementById("browser-test-bar");
  // The paragraph of the page's own "Continue" (the link's style would show it even when hidden).
  const continueLink = document.getElementById("continue");
  const onward = continueLink && continueLink.parentElement;
  const STEP = { delay: 3, download: 4, upload: 5, finished: 6 };
  // If anything goes wrong, the page offers to go on without the test this
  // long after its plan should have ended (before the plan is known: from the start).
  const GIVE_UP_MS = 30000;
  const TICK_MS = 50;

  const started = performance.now();
  let plannedMs = 12000;

  function say(step) {
    const text = words.getAttribute("data-step-" + step);
    if (text && text !== words.textContent) {
      words.textContent = text;
    }
  }

  function progress() {
    const percent = Math.min(99, Math.floor((100 * (performance.now() - started)) / plannedMs));
    bar.value = percent;
    bar.textContent = percent + "%";
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function r3(v) {
    return Math.round(v * 1000) / 1000;
  }

  function r2(v) {
    return Math.round(v * 100) / 100;
  }

  function problemOf(status) {
    return status === 429 || status === 503 ? "busy" : "failed";
  }

  // Each ping's own timing entry is read (and then cleared).
  if (performance.setResourceTimingBufferSize) {
    performance.setResourceTimingBufferSize(5000);
  }
  let pings = 0;

  // One delay ping: an empty download on a warm connection. Its round trip
  // is the network's part as the browser timed it (request sent to first
  // byte back, so this page's own busy moments do not count), less the time
  // the server says it spent, as the command-line probe does.
  async function ping() {
    pings += 1;
    const url = new URL("/__down?bytes=0&ping=" + pings, location.origin).href;
    const t0 = performance.now();
    const response = await fetch(url, { cache: "no-store" });
    await response.arrayBuffer();
    const wall = performance.now() - t0;
    if (!response.ok) {
      throw new Error("ping " + response.status);
    }
    const entry = performance.getEntriesByName(url).pop();
    performance.clearResourceTimings();
    let ms = wall;
    let server = null;
    if (entry && entry.requestStart > 0 && entry.responseStart >= entry.requestStart) {
      ms = entry.responseStart - entry.requestStart;
      const app = (entry.serverTiming || []).find((t) => t.name === "app");
      server = app ? app.duration : null;
    }
    return server !== null && server >= 0 && server < ms ? ms - server : ms;
  }

  async function idlePings(count, gapMs, into) {
    for (let i = 0; i < count; i += 1) {
      try {
        into.push(r2(await ping()));
      } catch (_) {
        // A lost ping is not a figure; the next one tries again.
      }
      await sleep(gapMs);
    }
  }

  function median(values) {
    if (values.length === 0) {
      return null;
    }
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  // Delay pings while a transfer runs: [seconds since its start when sent, ms].
  function loadedPings(t0, gapMs, into, running) {
    return (async () => {
      while (running()) {
        const sent = performance.now();
        try {
          const ms = await ping();
          into.push([r3((sent - t0) / 1000), r2(ms)]);
        } catch (_) {
          // Nothing to record.
        }
        await sleep(Math.max(0, gapMs - (performance.now() - sent)));
      }
    })();
  }

  async function download(plan) {
    const result = { streams: plan.streams, counter: [], loaded: [], bytes: 0, problem: null };
    const abort = new AbortController();
    const t0 = performance.now();
    const endAt = t0 + plan.download_s * 1000;
    let budget = plan.max_download_bytes;
    const size = Math.max(256 * 1024, Math.floor(plan.max_download_bytes / plan.streams));
    let running = true;
    const stream = async () => {
      while (running && budget > 0) {
        const want = Math.min(size, budget);
        budget -= want;
        let response;
        try {
          response = await fetch("/__down?bytes=" + want, {
            cache: "no-store",
            signal: abort.signal,
          });
        } catch (_) {
          if (running) {
            result.problem = result.problem || "failed";
          }
          return;
        }
        if (!response.ok) {
          result.problem = problemOf(response.status);
          return;
        }
        const reader = response.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              break;
            }
            result.bytes += value.length;
          }
        } catch (_) {
          if (running) {
            result.problem = result.problem || "failed";
          }
          return;
        }
      }
    };
    const streams = [];
    for (let i = 0; i < plan.streams; i += 1) {
      streams.push(stream());
    }
    const pings = loadedPings(t0, plan.loaded_ping_interval_s * 1000, result.loaded, () => running);
    while (performance.now() < endAt && (budget > 0 || result.bytes < plan.max_download_bytes)) {
      await sleep(TICK_MS);
      result.counter.push([r3((performance.now() - t0) / 1000), result.bytes]);
      progress();
      if (result.problem) {
        break;
      }
    }
    running = false;
    abort.abort();
    await Promise.allSettled(streams.concat([pings]));
    return result;
  }

  async function upload(plan) {
    const result = { streams: plan.streams, completions: [], loaded: [], bytes: 0, problem: null };
    const [smallest, largest, floor] = plan.upload_request_bytes;
    // One random buffer (incompressible), sliced for each request.
    const payload = new Uint8Array(Math.min(largest, 8 * 1024 * 1024));
    for (let i = 0; i < payload.length; i += 65536) {
      crypto.getRandomValues(payload.subarray(i, Math.min(i + 65536, payload.length)));
    }
    const t0 = performance.now();
    const endAt = t0 + plan.upload_s * 1000;
    let budget = plan.max_upload_bytes;
    let inFlight = 0;
    let running = true;
    // The next request carries `upload_request_s` of the rate seen lately
    // per stream, as the probe's requests do.
    function nextSize() {
      const now = (performance.now() - t0) / 1000;
      const since = Math.max(0, now - 0.5);
      const recent = result.completions.filter((c) => c[1] >= since);
      if (recent.length < 2) {
        return smallest;
      }
      const span = Math.max(now - Math.max(since, recent[0][1]), 0.05);
      const perStream = recent.reduce((sum, c) => sum + c[2], 0) / span / plan.streams;
      const wanted = Math.min(Math.max(perStream * plan.upload_request_s, smallest), largest);
      return Math.floor(Math.max(wanted, Math.min(floor, perStream * 2 * plan.upload_request_s)));
    }
    const stream = async (index) => {
      while (running && budget > 0) {
        const size = Math.min(nextSize(), budget, payload.length);
        budget -= size;
        let response;
        inFlight += 1;
        try {
          response = await fetch("/__up", {
            method: "POST",
            body: payload.subarray(0, size),
            cache: "no-store",
          });
          await response.arrayBuffer();
        } catch (_) {
          if (running) {
            result.problem = result.problem || "failed";
          }
          return;
        } finally {
          inFlight -= 1;
        }
        if (!response.ok) {
          result.problem = problemOf(response.status);
          return;
        }
        if (!running) {
          return;
        }
        result.completions.push([index, r3((performance.now() - t0) / 1000), size]);
        result.bytes += size;
      }
    };
    const streams = [];
    for (let i = 0; i < plan.streams; i += 1) {
      streams.push(stream(i));
    }
    const pings = loadedPings(t0, plan.loaded_ping_interval_s * 1000, result.loaded, () => running);
    // Until the plan's time is up, or the whole budget is confirmed.
    while (performance.now() < endAt && !result.problem && (budget > 0 || inFlight > 0)) {
      await sleep(TICK_MS);
      progress();
    }
    running = false;
    // Requests still in flight are not waited for (they would only count as
    // time); their bytes were never confirmed, so they are not counted.
    await Promise.race([Promise.allSettled(streams.concat([pings])), sleep(200)]);
    return result;
  }

  async function dataChannel() {
    if (typeof RTCPeerConnection === "undefined" || typeof sessionReadyRtc === "undefined") {
      return { failed: "unsupported" };
    }
    try {
      const measured = await sessionReadyRtc.measure(location.origin);
      const samples = measured.samples;
      return {
        samples: {
          sent: samples.sent,
          rtts_ms: samples.rtts_ms.map(r2),
          sent_ms: samples.sent_ms.map(r2),
          unanswered_ms: samples.unanswered_ms.map(r2),
          ended_ms: r2(samples.ended_ms),
          packets_per_s: r2(samples.packets_per_s),
          ignored_replies: samples.ignored_replies,
        },
        server_counts: measured.server_counts
          ? {
              received: measured.server_counts.received,
              answered: measured.server_counts.answered,
              refused: measured.server_counts.refused,
            }
          : null,
      };
    } catch (error) {
      return { failed: error && (error.status === 429 || error.status === 503) ? "refused" : "no-channel" };
    }
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    if (!response.ok) {
      throw new Error(path + " " + response.status);
    }
    return response.json();
  }

  function goOnWithout() {
    // The page's own "Continue" goes on without the test, as without scripts.
    if (onward) {
      onward.hidden = false;
    }
    box.hidden = true;
  }

  async function run() {
    box.hidden = false;
    if (onward) {
      onward.hidden = true;
    }
    say(STEP.delay);
    progress();
    const idle = [];
    // The first round trip opens the connection: not a delay figure.
    try {
      await ping();
    } catch (_) {
      // The pings below say what they can.
    }
    await idlePings(5, 100, idle);
    const plan = await post("api/network-plan", { rtt_ms: median(idle) });
    plannedMs = 1000 * (plan.idle_ping_interval_s * plan.idle_pings + 3.5 + plan.download_s + plan.upload_s);
    clearTimeout(giveUp);
    giveUp = setTimeout(goOnWithout, plannedMs + GIVE_UP_MS);
    await idlePings(Math.max(0, plan.idle_pings - idle.length), plan.idle_ping_interval_s * 1000, idle);
    progress();
    const udp = await dataChannel();
    progress();
    say(STEP.download);
    const down = await download(plan);
    say(STEP.upload);
    const up = await upload(plan);
    say(STEP.finished);
    bar.value = 100;
    bar.textContent = "100%";
    await post("api/network", {
      duration_s: r2((performance.now() - started) / 1000),
      idle_ms: idle,
      download: down,
      upload: up,
      udp,
    });
    location.replace("finish");
  }

  let giveUp = setTimeout(goOnWithout, GIVE_UP_MS);
  run()
    .catch(goOnWithout)
    .finally(() => clearTimeout(giveUp));
})();
