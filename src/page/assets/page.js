// The pages of the whole check (all of them work without this script): it
// tells session-ready the page is still open, keeps the connection test's
// line current, and moves on by itself once the report is ready. It sends
// nothing but its own requests; it reads only numbers back.
"use strict";
(() => {
  const HEARTBEAT_MS = 5000;
  const POLL_MS = 1000;

  function heartbeat() {
    fetch("api/alive", { method: "POST", body: "{}", cache: "no-store" }).catch(() => {});
  }
  heartbeat();
  setInterval(heartbeat, HEARTBEAT_MS);

  const line = document.getElementById("connection-words");
  const bar = document.getElementById("connection-bar");
  const waiting = document.querySelector("[data-waiting='report']");
  let lastWords = line ? line.textContent : "";

  async function poll() {
    let p;
    try {
      const response = await fetch("progress.json", { cache: "no-store" });
      if (!response.ok) {
        return;
      }
      p = await response.json();
    } catch (_) {
      return;
    }
    if (line && bar && p.tested) {
      // Each step's sentence is in the line itself (data-step-N), written by
      // session-ready; the numbers say which one applies now.
      const text = line.getAttribute("data-step-" + p.step) || lastWords;
      const percent = Math.min(Math.max(Math.floor(p.percent), 0), 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      // A live region repeats every change: only say it when the sentence changes.
      if (text !== lastWords) {
        line.textContent = text;
        lastWords = text;
      }
    }
    if (waiting && p.report_ready) {
      location.replace("finish");
      return;
    }
    if ((line && !p.done) || waiting) {
      setTimeout(poll, POLL_MS);
    }
  }
  if (line || waiting) {
    setTimeout(poll, POLL_MS);
  }
})();
