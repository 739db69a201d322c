// Polls the progress of running jobs shown on the page; reloads once one of them finishes so the
// page shows its result and errors. The live-update issue replaces polling with a push channel.
(function () {
  "use strict";
  const INTERVAL_MS = 2000;

  function update(element, data) {
    const bar = element.querySelector("[style*='width']");
    if (bar) {
      bar.style.width = data.percent + "%";
      bar.title = data.percent + "%";
    }
    const label = element.querySelector("strong");
    if (label) label.textContent = data.percent + "%";
  }

  function poll(element) {
    const url = element.dataset.jobProgress;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => {
        update(element, data);
        if (data.active) {
          window.setTimeout(() => poll(element), INTERVAL_MS);
        } else {
          window.location.reload();
        }
      })
      .catch(() => window.setTimeout(() => poll(element), INTERVAL_MS * 5));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-job-progress]").forEach((element) => {
      window.setTimeout(() => poll(element), INTERVAL_MS);
    });
  });
})();
