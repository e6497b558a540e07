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

  // The same sentences as `connection_words` in src/page/finish.rs.
  function words(p) {
    if (p.done) {
      return ["The connection test has finished.", 100];
    }
    const expected = Math.max(p.expected_ms / 1000, 1);
    const elapsed = p.elapsed_ms / 1000;
    const percent = Math.floor(Math.min(Math.max((elapsed / expected) * 100, 0), 95));
    const left = Math.ceil(expected - elapsed);
    if (left >= 2) {
      return [
        "The connection test is running in the background: about " + left + " seconds left.",
        percent,
      ];
    }
    return ["The connection test is nearly finished.", percent];
  }

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
      const [text, percent] = words(p);
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
