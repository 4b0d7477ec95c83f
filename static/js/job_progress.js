// A page waiting for jobs (a reconciliation, the undo of an import): show each job's progress, and reload the
// page once one is final. Each panel names its job's API URL and what to call the work while it runs.
(function () {
  const FINAL = ["finished", "finished_with_errors", "failed"];

  async function poll(panel) {
    const state = panel.querySelector(".state");
    try {
      const response = await fetch(panel.dataset.jobUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        const progress = job.progress || 0;
        panel.querySelector(".bar").style.width = `${progress}%`;
        panel.querySelector(".progress").setAttribute("aria-valuenow", progress);
        if (FINAL.includes(job.status)) {
          window.location.reload();
          return;
        }
        const label = panel.dataset.runningLabel || "Working…";
        state.textContent = job.status === "started" ? `${label} ${progress}%` : "Waiting for a worker…";
      }
    } catch (error) {
      state.textContent = "Connection lost; retrying…";
    }
    setTimeout(() => poll(panel), 700);
  }

  document.querySelectorAll(".job-running[data-job-url]").forEach(poll);
})();
