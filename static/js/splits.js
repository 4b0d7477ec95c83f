// Split forms (ledger/views/splits.py): rows are added and removed, and each row's share and what is left are
// computed live exactly as ledger/services/splits.py will (integer cents as BigInt; fixed amounts first,
// percentages of what they leave, one row may take the remainder; leftover cents by the largest fraction, ties to
// the earliest row). In the review queue the form opens inline under an item ("Split…" or the p key, see
// review.js) and saves without a page of its own; a refused split shows its problems next to the rows. Without
// this script the "Split…" link opens the same form on its own page, with four rows.
(function () {
  const MAX_ROWS = 50;
  const template = document.getElementById("split-form-template");

  // "12.50" -> 1250n (digits = 2); null for blank, undefined for anything that is not such a number.
  function scaled(text, digits) {
    const value = text.trim();
    if (!value) return null;
    const match = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(value);
    if (!match || (!match[2] && !match[3]) || (match[3] || "").length > digits) return undefined;
    const number = BigInt((match[2] || "0") + (match[3] || "").padEnd(digits, "0"));
    return match[1] === "-" ? -number : number;
  }

  function money(cents, negative) {
    const magnitude = cents < 0n ? -cents : cents;
    const text = (magnitude / 100n).toString() + "." + (magnitude % 100n).toString().padStart(2, "0");
    return (negative && magnitude > 0n ? "-" : "") + text;
  }

  // The rows' shares in cents (magnitudes) for a transaction of `total` cents; null where a row cannot be read.
  function allocate(total, rows) {
    const shares = rows.map(() => null);
    let fixed = 0n;
    rows.forEach((row, index) => {
      if (row.amount !== null && row.amount !== undefined && row.percent === null) {
        shares[index] = row.amount < 0n ? -row.amount : row.amount;
        fixed += shares[index];
      }
    });
    const rest = total - fixed;
    const percentRows = rows.map((row, index) => index)
      .filter((index) => rows[index].amount === null && typeof rows[index].percent === "bigint" && rows[index].percent > 0n);
    const remainderAt = rows.findIndex((row) => row.amount === null && row.percent === null && !row.blank);
    const percentSum = percentRows.reduce((sum, index) => sum + rows[index].percent, 0n);  // in 1/10000 %
    // Without a remainder row, percentages within rounding of 100 are shares of 100 exactly (3 x 33.33).
    const normalized = remainderAt < 0 && percentRows.length > 0 && rest > 0n
      && (percentSum - 1000000n < 0n ? 1000000n - percentSum : percentSum - 1000000n) <= BigInt(50 * percentRows.length);
    const denominator = normalized ? percentSum : 1000000n;
    const numerators = percentRows.map((index) => rows[index].percent * (rest > 0n ? rest : 0n));
    const floors = numerators.map((numerator) => numerator / denominator);
    let target = floors.reduce((sum, value) => sum + value, 0n);
    if (normalized) target = rest;
    else if (remainderAt >= 0) {
      const exact = numerators.reduce((sum, value) => sum + value, 0n);
      target = (2n * exact + denominator) / (2n * denominator);  // the group's total, rounded half up
    }
    let leftover = target - floors.reduce((sum, value) => sum + value, 0n);
    const order = floors.map((_, position) => position).sort((a, b) => {
      const fa = numerators[a] % denominator, fb = numerators[b] % denominator;
      return fa === fb ? a - b : (fb > fa ? 1 : -1);
    });
    for (const position of order) {
      if (leftover <= 0n) break;
      floors[position] += 1n;
      leftover -= 1n;
    }
    percentRows.forEach((index, position) => { shares[index] = floors[position]; });
    const allocated = shares.reduce((sum, value) => sum + (value || 0n), 0n);
    if (remainderAt >= 0) shares[remainderAt] = total - allocated;
    return { shares, remainderAt, left: total - shares.reduce((sum, value) => sum + (value || 0n), 0n) };
  }

  function readRow(row) {
    const amount = scaled(row.querySelector("input.split-amount").value, 2);
    const percent = scaled(row.querySelector("input.split-percent").value, 4);
    const account = row.querySelector("select.split-account").value;
    const memo = row.querySelector("input.split-memo").value.trim();
    const blank = !account && amount === null && percent === null && !memo;
    return { amount: amount, percent: percent, blank: blank, both: amount !== null && percent !== null };
  }

  function refresh(form) {
    const amount = scaled(form.dataset.amount || "", 2);
    const remaining = form.querySelector("output.split-remaining");
    const rows = Array.from(form.querySelectorAll(".split-row"));
    rows.forEach((row) => {
      const remove = row.querySelector("button.split-remove");
      remove.hidden = rows.length <= 2;
    });
    const add = form.querySelector("button.split-add");
    add.hidden = rows.length >= MAX_ROWS;
    if (typeof amount !== "bigint" || amount === 0n) { remaining.textContent = ""; return; }
    const negative = amount < 0n;
    const total = negative ? -amount : amount;
    // Money in takes positive amounts only (money out either sign): as the server reads them.
    const read = rows.map(readRow).map((row) => (!negative && typeof row.amount === "bigint" && row.amount < 0n
      ? { ...row, amount: undefined, wrongSign: true } : row));
    const result = allocate(total, read.map((row) => (row.both || row.amount === undefined || row.percent === undefined)
      ? { amount: undefined, percent: undefined, blank: row.blank } : row));
    rows.forEach((row, index) => {
      const share = row.querySelector("output.split-share");
      const value = result.shares[index];
      const unreadable = read[index].both || read[index].amount === undefined || read[index].percent === undefined;
      share.textContent = unreadable ? "?" : (value === null || read[index].blank ? "" : money(value, negative));
      share.classList.toggle("bad", unreadable || (value !== null && !read[index].blank && value <= 0n));
      share.title = read[index].both ? "An amount or a percent, not both"
        : (read[index].wrongSign ? "Money in: give a positive amount" : (unreadable ? "Not a number" : ""));
    });
    remaining.classList.remove("ok", "warn", "bad");
    if (result.remainderAt >= 0) {
      const rest = result.shares[result.remainderAt];
      remaining.textContent = rest > 0n ? "The remainder row gets " + money(rest, negative)
        : "Nothing is left for the remainder row";
      remaining.classList.add(rest > 0n ? "ok" : "bad");
    } else if (result.left === 0n) {
      remaining.textContent = "Adds up to " + money(total, negative) + " ✓";
      remaining.classList.add("ok");
    } else if (result.left > 0n) {
      remaining.textContent = "Remaining: " + money(result.left, negative) + " of " + money(total, negative);
      remaining.classList.add("warn");
    } else {
      remaining.textContent = "Over by " + money(-result.left, false);
      remaining.classList.add("bad");
    }
  }

  function showErrors(form, answer) {
    const box = form.querySelector(".split-errors");
    box.replaceChildren();
    const message = document.createElement("p");
    message.className = "message error split-message";
    message.textContent = answer.message || "The split could not be saved.";
    box.appendChild(message);
    if (answer.general && answer.general.length) {
      const list = document.createElement("ul");
      list.className = "errorlist";
      answer.general.forEach((problem) => {
        const item = document.createElement("li");
        item.textContent = problem;
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    Array.from(form.querySelectorAll(".split-row")).forEach((row, index) => {
      const problems = (answer.rows || {})[String(index)] || [];
      const list = row.querySelector("ul.split-row-errors");
      list.replaceChildren(...problems.map((problem) => {
        const item = document.createElement("li");
        item.textContent = problem;
        return item;
      }));
      list.hidden = problems.length === 0;
      row.classList.toggle("has-errors", problems.length > 0);
    });
  }

  function addRow(form) {
    const rows = form.querySelector(".split-rows");
    const row = rows.querySelector(".split-row").cloneNode(true);
    row.querySelectorAll("input").forEach((input) => { input.value = ""; });
    row.querySelector("select").value = "";
    row.querySelector("ul.split-row-errors").replaceChildren();
    row.querySelector("ul.split-row-errors").hidden = true;
    row.classList.remove("has-errors");
    rows.appendChild(row);
    refresh(form);
    row.querySelector("select").focus();
  }

  async function save(form) {
    const button = form.querySelector("button.split-save");
    button.disabled = true;
    button.textContent = "Saving…";
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      let answer = {};
      try { answer = await response.json(); } catch (error) {
        answer = { message: "The server answered " + response.status + ": nothing was saved." };
      }
      if (response.ok && answer.redirect) { window.location.assign(answer.redirect); return; }
      showErrors(form, answer);
    } catch (error) {
      showErrors(form, { message: "The split could not be sent (" + error.message + "): nothing was saved." });
    }
    button.disabled = false;
    button.textContent = "Save split";
  }

  function enhance(form) {
    form.addEventListener("input", () => refresh(form));
    form.addEventListener("change", () => refresh(form));
    form.addEventListener("click", (event) => {
      if (event.target.closest("button.split-add")) { event.preventDefault(); addRow(form); }
      const remove = event.target.closest("button.split-remove");
      if (remove) {
        event.preventDefault();
        const row = remove.closest(".split-row");
        const next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        refresh(form);
        if (next) next.querySelector("select").focus();
      }
    });
    refresh(form);
  }

  // ------------------------------------------------------------------- the review queue: inline, under an item

  function close(panel) {
    const item = panel.closest("li.review-item");
    panel.remove();
    if (item) { item.classList.remove("is-splitting"); item.focus({ preventScroll: true }); }
  }

  function open(item, link) {
    const existing = item.querySelector(".split-panel");
    if (existing) { existing.querySelector("select").focus(); return; }
    const panel = document.createElement("div");
    panel.className = "split-panel";
    panel.appendChild(template.content.cloneNode(true));
    const form = panel.querySelector("form.split-form");
    form.action = link.pathname;
    form.dataset.amount = link.dataset.amount;
    form.querySelector(".split-total").textContent = link.dataset.amount;
    form.querySelector("input[name=expected_decision]").value = item.dataset.decisionId;
    form.querySelector("input[name=next]").value = window.location.pathname + window.location.search;
    const first = form.querySelector("select.split-account");
    first.value = link.dataset.account || "";
    form.querySelector("a.split-cancel").addEventListener("click", (event) => { event.preventDefault(); close(panel); });
    form.addEventListener("submit", (event) => { event.preventDefault(); save(form); });
    // Keys typed in the form are the form's: the queue's shortcuts (a, g, x...) must not fire from its buttons.
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); close(panel); }
      event.stopPropagation();
    });
    item.appendChild(panel);
    item.classList.add("is-splitting");
    enhance(form);
    (first.value ? form.querySelector("input.split-amount") : first).focus();
  }

  if (template) {
    document.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a.split-link");
      const item = link && link.closest("li.review-item");
      if (!item) return;
      event.preventDefault();
      open(item, link);
    });
  }
  // The form on a page of its own: rows and live shares; it posts normally.
  document.querySelectorAll("main form.split-form").forEach((form) => {
    if (!form.closest("template")) enhance(form);
  });
})();
