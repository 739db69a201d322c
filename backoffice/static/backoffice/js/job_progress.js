// Progress of the running jobs shown on the page (the job page, the jobs list). Pushed over the
// live socket (live.js, "live:event" of type "job") while it is up; polled every 2 s while it is
// down. Reloads once a job finishes so the page shows its result and errors.
(function () {
  "use strict";
  const INTERVAL_MS = 2000;
  const BACKGROUND = { "X-Background-Request": "1", Accept: "application/json" };

  function isLive() {
    return Boolean(window.BackofficeLive && window.BackofficeLive.mode === "live");
  }

  function update(element, data) {
    const bar = element.querySelector("[style*='width']");
    if (bar) {
      bar.style.width = data.percent + "%";
      bar.title = data.percent + "%";
    }
    const label = element.querySelector("strong");
    if (label) label.textContent = data.percent + "%";
    element.dataset.jobStatus = data.status;
    element.dataset.jobPercent = String(data.percent);
    if (!data.active && !element.dataset.jobDone) {
      element.dataset.jobDone = "1";
      window.location.reload();
    }
  }

  function fetchOnce(element) {
    return fetch(element.dataset.jobProgress, { headers: BACKGROUND, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => update(element, data));
  }

  function poll(element) {
    if (element.dataset.jobDone) return;
    if (isLive()) {
      window.setTimeout(() => poll(element), INTERVAL_MS); // the socket brings it; check again later
      return;
    }
    fetchOnce(element)
      .then(() => window.setTimeout(() => poll(element), INTERVAL_MS))
      .catch(() => window.setTimeout(() => poll(element), INTERVAL_MS * 5));
  }

  document.addEventListener("live:event", (event) => {
    const data = event.detail;
    if (!data || data.type !== "job") return;
    document.querySelectorAll(`[data-job-id="${CSS.escape(data.id)}"][data-job-progress]`).forEach((element) => {
      update(element, data);
    });
  });

  // Events sent before the socket opened are caught up with one request.
  document.addEventListener("live:mode", (event) => {
    if (event.detail !== "live") return;
    document.querySelectorAll("[data-job-progress]").forEach((element) => fetchOnce(element).catch(() => {}));
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-job-progress]").forEach((element) => {
      window.setTimeout(() => poll(element), INTERVAL_MS);
    });
  });
})();
