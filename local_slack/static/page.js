// The local Slack's page script: keeps the conversation and the modal up to date (the app
// answers after it acknowledges, and syncs calls a second later), sends forms without a
// reload, opens link buttons, and ticks call durations. No build step, no network.
(function () {
  "use strict";

  const stateUrl = document.body.dataset.state;
  const POLL_MS = 1000;
  let pollTimer = null;

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function tick() {
    const now = Date.now() / 1000;
    for (const el of document.querySelectorAll(".ticker[data-since]")) {
      el.textContent = clock(now - Number(el.dataset.since));
    }
    for (const el of document.querySelectorAll("time[datetime]:not([data-local])")) {
      el.textContent = new Date(el.dateTime).toLocaleTimeString([], {
        hour: "2-digit",
        minute: "2-digit",
      });
      el.dataset.local = "1";
    }
  }

  function scrollToEnd(force) {
    const main = document.getElementById("main");
    const nearEnd = main.scrollHeight - main.scrollTop - main.clientHeight < 80;
    if (force || nearEnd) main.scrollTop = main.scrollHeight;
  }

  function focusModal() {
    const field = document.querySelector("#modal input:not([type=hidden]), #modal select");
    if (field) field.focus();
  }

  async function refresh() {
    clearTimeout(pollTimer);
    try {
      const response = await fetch(stateUrl, { cache: "no-store" });
      if (response.ok) {
        const regions = await response.json();
        for (const [name, region] of Object.entries(regions)) {
          const element = document.getElementById(name);
          if (!element || element.dataset.version === region.version) continue;
          const main = document.getElementById("main");
          const nearEnd = main.scrollHeight - main.scrollTop - main.clientHeight < 80;
          element.innerHTML = region.html;
          element.dataset.version = region.version;
          if (name === "main") scrollToEnd(nearEnd);
          if (name === "modal") focusModal();
        }
        tick();
      }
    } catch (error) {
      // the local Slack stopped or is restarting: try again at the next poll
    }
    pollTimer = setTimeout(refresh, POLL_MS);
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    if (form.dataset.busy) return;
    const button = event.submitter;
    if (button && button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
    const body = new URLSearchParams(new FormData(form));
    // a form of several buttons (the demo's meeting) says which one was pressed
    if (button && button.name) body.set(button.name, button.value);
    if (form.classList.contains("composer")) form.reset();
    form.dataset.busy = "1";
    try {
      await fetch(form.action, {
        method: "POST",
        body,
        headers: { "X-Local-Slack": "1" },
      });
    } finally {
      delete form.dataset.busy;
    }
    refresh();
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "you") event.target.form.submit();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const close = document.querySelector("#modal [form=close-modal]");
    if (close) close.click();
  });

  tick();
  scrollToEnd(true);
  pollTimer = setTimeout(refresh, POLL_MS);
})();
