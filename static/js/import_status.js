// Live progress of each import: poll the import API until its job is final, then show the summary.
(function () {
  const FINAL = ["finished", "finished_with_errors", "failed"];

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;  // server text is always shown as text, never HTML
    if (className) td.className = className;
    return td;
  }

  function render(section, data) {
    const job = data.job || {};
    const progress = job.progress || 0;
    section.querySelector(".bar").style.width = `${progress}%`;
    section.querySelector(".progress").setAttribute("aria-valuenow", progress);
    const state = section.querySelector(".state");
    if (!FINAL.includes(job.status)) {
      state.textContent = job.status === "started"
        ? `Importing… ${progress}% (${data.rows_done.toLocaleString()} rows)` : "Waiting for a worker…";
      return false;
    }
    if (job.status === "failed") {
      section.classList.add("failed");
      state.textContent = `Failed: ${job.error}`;
      return true;
    }
    const result = job.result || {};
    state.textContent = job.status === "finished" ? "Done." : "Done, with rejected rows.";
    section.querySelector(".imported").textContent = result.imported;
    section.querySelector(".duplicates").textContent = result.duplicates;
    section.querySelector(".rejected").textContent = result.rejected;
    section.querySelector(".summary").hidden = false;
    section.querySelector(".errors-link").hidden = !result.rejected;
    const duplicates = result.duplicate_rows || [];
    if (duplicates.length) {
      const details = section.querySelector("details.duplicate-rows");
      details.querySelector("tbody").replaceChildren(...duplicates.map((dup) => {
        const row = document.createElement("tr");
        row.append(cell(dup.line, "num"), cell(dup.date), cell(dup.description), cell(dup.amount, "num"));
        return row;
      }));
      details.hidden = false;
    }
    const errors = result.errors || [];
    if (errors.length) {
      const table = section.querySelector("table.errors");
      table.querySelector("tbody").replaceChildren(...errors.map((error) => {
        const row = document.createElement("tr");
        row.append(cell(error.line, "num"), cell(error.column), cell(error.message));
        return row;
      }));
      table.hidden = false;
    }
    return true;
  }

  async function poll(section) {
    try {
      const response = await fetch(section.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok && render(section, await response.json())) return;
    } catch (error) {
      section.querySelector(".state").textContent = "Connection lost; retrying…";
    }
    setTimeout(() => poll(section), 500);
  }

  document.querySelectorAll("section.import").forEach(poll);
})();
