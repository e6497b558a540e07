// "Leave quickly": Esc or the button replaces this page with an empty one
// (location.replace, so Back does not return here) after telling
// session-ready, which shows nothing of the check from then on. Without
// JavaScript the button is a plain form that does the same.
(function () {
  "use strict";
  // Tells tests (and styles) that scripts run here.
  document.documentElement.dataset.js = "on";
  let leaving = false;
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    if (leaving) {
      return;
    }
    leaving = true;
    const away = () => location.replace("away");
    fetch("leave", { method: "POST", keepalive: true, redirect: "manual" })
      .then(away, away);
    // Do not wait long for the answer: leaving comes first.
    setTimeout(away, 400);
  }
  // Back to this page after a while (a call, a locked phone): if
  // session-ready has closed meanwhile, say so calmly.
  function closed() {
    const note = document.getElementById("page-closed");
    if (note) {
      note.hidden = false;
    }
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || leaving) {
      return;
    }
    fetch("api/alive", { method: "POST", body: "{}", cache: "no-store" })
      .then((response) => {
        if (!response.ok) {
          closed();
        }
      }, closed);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "Esc") {
      leave(event);
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("leave");
    if (button) {
      button.addEventListener("click", leave);
    }
    // Esc works only where this script runs: only then is it promised.
    const esc = document.getElementById("leave-esc");
    if (esc) {
      esc.hidden = false;
    }
  });
})();
