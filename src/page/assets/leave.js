// "Leave quickly": Esc or the button replaces this page with an empty one
// (location.replace, so Back does not return here) after telling
// session-ready, which shows nothing of the check from then on. Without
// JavaScript the button is a plain form that does the same.
(function () {
  "use strict";
  // Tells tests (and styles) that scripts run here.
  document.documentElement.dataset.js = "on";
  // A hosted page names its form token: every post the page's scripts send
  // to the page itself carries it (forms carry it as a hidden field).
  const token = document.querySelector("meta[name='csrf-token']");
  if (token) {
    const send = window.fetch.bind(window);
    window.fetch = (input, init) => {
      const options = Object.assign({}, init);
      const own = typeof input === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(input);
      if (own && String(options.method || "GET").toUpperCase() === "POST") {
        const headers = new Headers(options.headers || {});
        headers.set("X-CSRF-Token", token.content);
        options.headers = headers;
      }
      return send(input, options);
    };
  }
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
  // A home that may be watched: each step replaces the last in the
  // browser's history, so Back and the history list show nothing of the
  // check from here on. Forms are sent by fetch, and session-ready says
  // where to go next (204 with Location) instead of redirecting.
  function watched() {
    return document.body && document.body.dataset.watched === "1";
  }
  document.addEventListener("submit", (event) => {
    const form = event.target;
    // The visit's forms, which always answer with where to go next.
    if (!watched() || form.getAttribute("action") !== "walk" || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form, event.submitter));
    fetch(form.action, {
      method: "POST",
      body,
      cache: "no-store",
      headers: { "X-History": "replace" },
    })
      .then((response) => {
        const to = response.headers.get("Location");
        location.replace(to ? new URL(to, location.href).href : response.url);
      })
      .catch(() => location.reload());
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (!watched() || !link || link.origin !== location.origin || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    location.replace(link.href);
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
