// The camera, microphone and speaker test. Pictures and sound are measured
// here, in the page, and never stored or sent: only the numbers below go to
// session-ready on this computer, which answers with its rating in words
// (the rules live in src/device/media.rs).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const CAMERA_SECONDS = 3;
  const QUIET_SECONDS = 3;
  const SPEAK_SECONDS = 4;
  const WINDOW_MS = 50;
  const HEARTBEAT_MS = 5000;

  // --- talking to session-ready ------------------------------------------

  async function post(path, body) {
    const response = await fetch("api/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
      cache: "no-store",
    });
    if (!response.ok) {
      throw new Error("session-ready answered " + response.status);
    }
    return response.status === 204 ? null : response.json();
  }

  function heartbeat() {
    post("alive").catch(() => {});
  }
  setInterval(heartbeat, HEARTBEAT_MS);

  function show(step) {
    for (const section of document.querySelectorAll(".step")) {
      section.hidden = section.id !== "step-" + step;
    }
    const heading = document.querySelector("#step-" + step + " h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function showItem(box, item) {
    box.replaceChildren();
    box.dataset.rating = item.rating;
    box.dataset.result = item.result || "";
    const found = document.createElement("p");
    const strong = document.createElement("strong");
    strong.textContent = item.label + ": ";
    found.append(strong, item.found);
    const advice = document.createElement("p");
    advice.textContent = item.advice;
    box.append(found, advice);
    box.hidden = false;
  }

  function showLost(box) {
    box.replaceChildren();
    const p = document.createElement("p");
    p.textContent =
      "session-ready on this computer did not answer. It may have been closed; you can close this page.";
    box.append(p);
    box.dataset.result = "no-answer";
    box.hidden = false;
  }

  // --- permission help, per browser and system ----------------------------

  function browserName() {
    const ua = navigator.userAgent;
    if (/Edg\//.test(ua)) return "edge";
    if (/Firefox\//.test(ua)) return "firefox";
    if (/Chrome\//.test(ua) || /Chromium\//.test(ua)) return "chrome";
    if (/Safari\//.test(ua)) return "safari";
    return "other";
  }

  function systemName() {
    const ua = navigator.userAgent;
    if (/iPhone|iPad|iPod/.test(ua)) return "ios";
    if (/Android/.test(ua)) return "android";
    if (/Windows/.test(ua)) return "windows";
    if (/Mac OS X|Macintosh/.test(ua)) return "macos";
    return "linux";
  }

  const BROWSER_STEPS = {
    chrome:
      "Click the small icon at the left of the address bar (a camera, or sliders), set Camera and Microphone to Allow, then press Try again.",
    edge: "Click the lock or camera icon at the left of the address bar, set Camera and Microphone to Allow, then press Try again.",
    firefox:
      "Click the camera or microphone icon with a line through it in the address bar, clear the Blocked setting, then press Try again.",
    safari:
      "In the Safari menu choose Settings for This Website (or Settings, then Websites), set Camera and Microphone to Allow, then press Try again.",
    other:
      "Look for a camera icon in or next to the address bar, allow the camera and microphone for this page, then press Try again.",
  };

  const SYSTEM_STEPS = {
    windows:
      "If it is still blocked: open Start, then Settings, Privacy & security, Camera (and Microphone), and turn on access for desktop apps and for your browser.",
    macos:
      "If it is still blocked: open the Apple menu, System Settings, Privacy & Security, Camera (and Microphone), and turn on your browser. You may need to quit and reopen the browser.",
    linux:
      "If it is still blocked: check the camera or headset is plugged in, and that no other program is using it.",
    ios: "If it is still blocked: open Settings, find your browser, and turn on Camera and Microphone.",
    android:
      "If it is still blocked: open Settings, Apps, your browser, Permissions, and allow Camera and Microphone.",
  };

  function accessOf(error) {
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "denied";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "no-device";
    return "unavailable";
  }

  function showHelp(box, access, what) {
    box.replaceChildren();
    const intro = document.createElement("p");
    const list = document.createElement("ol");
    const add = (text) => {
      const li = document.createElement("li");
      li.textContent = text;
      list.append(li);
    };
    if (access === "denied") {
      intro.textContent =
        "The browser did not let this page use the " + what + ". That is all right. If you would like to try it:";
      add(BROWSER_STEPS[browserName()]);
      add(SYSTEM_STEPS[systemName()]);
    } else if (access === "no-device") {
      intro.textContent = "The browser found no " + what + " on this computer. If you have one:";
      add("Plug it in (or turn it on), wait a few seconds, then press Try again.");
      add(SYSTEM_STEPS[systemName()]);
    } else {
      intro.textContent = "The browser could not open the " + what + ". This often helps:";
      add("Close other programs that may be using it (video calls, recording apps), then press Try again.");
      add(SYSTEM_STEPS[systemName()]);
    }
    box.append(intro, list);
    box.hidden = false;
  }

  // --- camera -------------------------------------------------------------

  let cameraStream = null;

  function stopCamera() {
    if (cameraStream) {
      for (const track of cameraStream.getTracks()) track.stop();
      cameraStream = null;
    }
    $("selfview").srcObject = null;
  }

  // Brightness (Rec. 601 luma) of a small copy of the picture: whole, centre, rest.
  function lumaStats(video, canvas) {
    const w = canvas.width;
    const h = canvas.height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    let sum = 0;
    let sumSq = 0;
    let centre = 0;
    let centreN = 0;
    let rest = 0;
    let restN = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        const l = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        sum += l;
        sumSq += l * l;
        const inCentre = x >= w / 4 && x < (3 * w) / 4 && y >= h / 5 && y < (4 * h) / 5;
        if (inCentre) {
          centre += l;
          centreN++;
        } else {
          rest += l;
          restN++;
        }
      }
    }
    const n = w * h;
    const mean = sum / n;
    return {
      mean: mean,
      stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
      centre: centre / centreN,
      surround: rest / restN,
    };
  }

  function median(values) {
    if (values.length === 0) return 0;
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  function clamp(v, lo, hi) {
    return Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo));
  }

  function countFrames(video, seconds) {
    // Frames that really arrive, not page repaints.
    return new Promise((resolve) => {
      let frames = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      if (typeof video.requestVideoFrameCallback === "function") {
        const onFrame = (now) => {
          frames++;
          if (now < end) video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
        setTimeout(() => resolve({ frames, seconds: (performance.now() - start) / 1000 }), seconds * 1000);
      } else {
        let last = -1;
        const tick = () => {
          if (video.currentTime !== last) {
            last = video.currentTime;
            frames++;
          }
          if (performance.now() < end) requestAnimationFrame(tick);
          else resolve({ frames, seconds: (performance.now() - start) / 1000 });
        };
        requestAnimationFrame(tick);
      }
    });
  }

  async function cameraTest() {
    show("camera");
    const status = $("camera-status");
    const result = $("camera-result");
    const help = $("camera-help");
    result.hidden = true;
    help.hidden = true;
    $("camera-again").hidden = true;
    $("to-microphone").hidden = true;
    status.textContent = "Opening the camera…";
    stopCamera();
    $("selfview").hidden = false;
    const empty = {
      frames: 0, width: 0, height: 0, fps: 0,
      luma_mean: 0, luma_stddev: 0, centre_luma: 0, surround_luma: 0,
    };
    let measure;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw Object.assign(new Error("no media devices"), { name: "NotSupportedError" });
      }
      cameraStream = await navigator.mediaDevices.getUserMedia({
        // The front camera on a phone, the one a call uses.
        video: { facingMode: "user" },
        audio: false,
      });
      const video = $("selfview");
      video.srcObject = cameraStream;
      await video.play().catch(() => {});
      status.textContent = "Looking at the picture for a few seconds. This is only on your screen.";
      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 48;
      const samples = [];
      const sampler = setInterval(() => {
        if (video.videoWidth > 0) samples.push(lumaStats(video, canvas));
      }, 250);
      const counted = await countFrames(video, CAMERA_SECONDS);
      clearInterval(sampler);
      if (video.videoWidth > 0) samples.push(lumaStats(video, canvas));
      measure = {
        access: "granted",
        frames: counted.frames,
        width: video.videoWidth,
        height: video.videoHeight,
        fps: clamp(counted.frames / counted.seconds, 0, 1000),
        luma_mean: clamp(median(samples.map((s) => s.mean)), 0, 255),
        luma_stddev: clamp(median(samples.map((s) => s.stddev)), 0, 255),
        centre_luma: clamp(median(samples.map((s) => s.centre)), 0, 255),
        surround_luma: clamp(median(samples.map((s) => s.surround)), 0, 255),
      };
      status.textContent = "Camera test finished.";
    } catch (error) {
      const access = accessOf(error);
      measure = Object.assign({ access }, empty);
      status.textContent = "The camera could not be tested just now.";
      $("selfview").hidden = true;
      showHelp(help, access, "camera");
    }
    try {
      showItem(result, await post("camera", measure));
    } catch (_) {
      showLost(result);
    }
    $("camera-again").hidden = false;
    $("to-microphone").hidden = false;
    result.focus();
  }

  // --- microphone -----------------------------------------------------------

  function percentile(values, p) {
    if (values.length === 0) return -100;
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function microphoneTest() {
    const status = $("microphone-status");
    const result = $("microphone-result");
    const help = $("microphone-help");
    const meter = $("level");
    result.hidden = true;
    help.hidden = true;
    $("start-microphone").disabled = true;
    $("to-speakers").hidden = true;
    let measure;
    let stream = null;
    let context = null;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw Object.assign(new Error("no media devices"), { name: "NotSupportedError" });
      }
      // The raw microphone, so the levels are the microphone's own.
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        video: false,
      });
      context = new AudioContext();
      await context.resume();
      const source = context.createMediaStreamSource(stream);
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      const levels = { quiet: [], speak: [] };
      let clipped = 0;
      let samples = 0;
      let phase = "quiet";
      const timer = setInterval(() => {
        analyser.getFloatTimeDomainData(buffer);
        let sumSq = 0;
        let clips = 0;
        for (const v of buffer) {
          sumSq += v * v;
          if (Math.abs(v) >= 0.99) clips++;
        }
        const rms = Math.sqrt(sumSq / buffer.length);
        const db = rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
        if (phase === "pause") return;
        levels[phase].push(db);
        if (phase === "speak") {
          clipped += clips;
          samples += buffer.length;
        }
        meter.value = Math.round(Math.max(0, Math.min(100, (db + 60) * (100 / 60))));
        meter.textContent = meter.value;
      }, WINDOW_MS);
      // Each window starts only when the person presses its button, never
      // while a screen reader is still reading: what the status says during
      // a window is shown, not announced (it would be heard as sound).
      status.setAttribute("aria-live", "off");
      status.textContent = "Listening to the quiet for " + QUIET_SECONDS + " seconds…";
      await sleep(QUIET_SECONDS * 1000);
      phase = "pause";
      status.setAttribute("aria-live", "polite");
      status.textContent =
        "The quiet part is done. When you are ready, press “Start speaking”, then say a sentence aloud, for example “I am getting ready for my session.”";
      const speak = $("speak-now");
      speak.hidden = false;
      speak.focus();
      await new Promise((resolve) => speak.addEventListener("click", resolve, { once: true }));
      speak.hidden = true;
      status.setAttribute("aria-live", "off");
      status.textContent = "Listening while you speak, for " + SPEAK_SECONDS + " seconds…";
      phase = "speak";
      await sleep(SPEAK_SECONDS * 1000);
      status.setAttribute("aria-live", "polite");
      clearInterval(timer);
      meter.value = 0;
      measure = {
        access: "granted",
        noise_floor_dbfs: clamp(percentile(levels.quiet, 20), -100, 0),
        speech_dbfs: clamp(percentile(levels.speak, 90), -100, 0),
        clipped_pct: clamp(samples > 0 ? (100 * clipped) / samples : 0, 0, 100),
      };
      status.textContent = "Microphone test finished.";
    } catch (error) {
      $("speak-now").hidden = true;
      status.setAttribute("aria-live", "polite");
      const access = accessOf(error);
      measure = { access, noise_floor_dbfs: -100, speech_dbfs: -100, clipped_pct: 0 };
      status.textContent = "The microphone could not be tested just now.";
      showHelp(help, access, "microphone");
    } finally {
      if (stream) for (const track of stream.getTracks()) track.stop();
      if (context) context.close().catch(() => {});
    }
    try {
      showItem(result, await post("microphone", measure));
    } catch (_) {
      showLost(result);
    }
    $("start-microphone").disabled = false;
    $("start-microphone").textContent = "Listen again";
    $("to-speakers").hidden = false;
    result.focus();
  }

  // --- speakers -------------------------------------------------------------

  function playChime() {
    const context = new AudioContext();
    const start = context.currentTime + 0.05;
    // Two soft bell-like notes (E5, then A5), each fading out.
    [
      [659.25, 0],
      [880, 0.35],
    ].forEach(([freq, offset]) => {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.35, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.9);
      osc.connect(gain).connect(context.destination);
      osc.start(start + offset);
      osc.stop(start + offset + 1);
    });
    setTimeout(() => context.close().catch(() => {}), 1600);
    $("heard").disabled = false;
  }

  async function answerHeard(heard) {
    const result = $("speakers-result");
    for (const button of document.querySelectorAll("#heard button")) {
      button.setAttribute("aria-pressed", String(button.dataset.heard === heard));
    }
    try {
      showItem(result, await post("speakers", { heard }));
    } catch (_) {
      showLost(result);
    }
    $("play-chime").textContent = "Play the chime again";
    $("finish").hidden = false;
    result.focus();
  }

  async function finish() {
    stopCamera();
    const summary = $("summary");
    summary.replaceChildren();
    for (const id of ["camera-result", "microphone-result", "speakers-result"]) {
      const box = $(id);
      if (!box.hidden && box.firstChild) {
        const li = document.createElement("li");
        li.textContent = box.firstChild.textContent;
        summary.append(li);
      }
    }
    let next = null;
    try {
      const answer = await post("finish");
      next = answer && answer.next;
    } catch (_) {
      // session-ready may already have closed; the page still says goodbye.
    }
    // In the whole check, the check goes on (only a page name of ours is followed).
    if (typeof next === "string" && /^[a-z][a-z-]*$/.test(next)) {
      // In a home that may be watched, the history keeps nothing of the check.
      if (document.body.dataset.watched === "1") {
        location.replace(next);
      } else {
        location.assign(next);
      }
      return;
    }
    show("done");
  }

  // --- wiring -----------------------------------------------------------------

  $("start-camera").addEventListener("click", cameraTest);
  $("camera-again").addEventListener("click", cameraTest);
  $("to-microphone").addEventListener("click", () => {
    stopCamera();
    show("microphone");
  });
  $("start-microphone").addEventListener("click", microphoneTest);
  $("to-speakers").addEventListener("click", () => show("speakers"));
  $("play-chime").addEventListener("click", playChime);
  for (const button of document.querySelectorAll("#heard button")) {
    button.addEventListener("click", () => answerHeard(button.dataset.heard));
  }
  $("finish").addEventListener("click", finish);
  document.documentElement.dataset.ready = "true";
})();
