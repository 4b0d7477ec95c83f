// A reconciliation that is still running: show its job's progress, and reload the page once the job is final.
(function () {
  const FINAL = ["finished", "finished_with_errors", "failed"];
  const panel = document.querySelector(".recon-running[data-job-url]");
  if (!panel) return;
  const state = panel.querySelector(".state");

  async function poll() {
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
        state.textContent = job.status === "started" ? `Comparing… ${progress}%` : "Waiting for a worker…";
      }
    } catch (error) {
      state.textContent = "Connection lost; retrying…";
    }
    setTimeout(poll, 700);
  }

  poll();
})();
