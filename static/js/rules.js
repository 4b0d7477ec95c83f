// Rule pages: confirmation for irreversible buttons, "select all" in the approval queue, and condition rows
// that offer only the operators of the chosen field. Every page works without this script.
(function () {
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    const boxes = () => Array.from(document.querySelectorAll("input.rule-check"));
    selectAll.addEventListener("change", () => boxes().forEach((box) => { box.checked = selectAll.checked; }));
    document.addEventListener("change", (event) => {
      if (!event.target.classList.contains("rule-check")) return;
      const all = boxes();
      selectAll.checked = all.every((box) => box.checked);
      selectAll.indeterminate = !selectAll.checked && all.some((box) => box.checked);
    });
  }

  const form = document.getElementById("rule-form");
  if (!form) return;
  const fieldOps = JSON.parse(form.dataset.fieldOps || "{}");
  const placeholders = {
    counterparty: "e.g. HAMILTON COFFEE", description: "e.g. PAYROLL", amount: "e.g. 12.50", bank_account: "e.g. 1000",
  };

  function refreshRow(row) {
    const field = row.querySelector("select.condition-field");
    const op = row.querySelector("select.condition-op");
    const value = row.querySelector("input.condition-value");
    const upper = row.querySelector("input.condition-to");
    if (!field || !op) return;
    const allowed = fieldOps[field.value];
    Array.from(op.options).forEach((option) => {
      option.disabled = Boolean(allowed) && !allowed.includes(option.value);
    });
    if (op.selectedOptions[0] && op.selectedOptions[0].disabled) op.value = allowed[0];
    const isDirection = field.value === "direction";
    value.disabled = isDirection;
    if (isDirection) value.placeholder = "(given by the operator)";
    else value.placeholder = op.value === "regex" ? "regular expression" : (placeholders[field.value] || "");
    upper.hidden = !(field.value === "amount" && op.value === "between");
  }

  const rows = document.getElementById("condition-rows");
  rows.addEventListener("change", (event) => {
    const row = event.target.closest("tr.condition-row");
    if (row) refreshRow(row);
  });
  rows.querySelectorAll("tr.condition-row").forEach(refreshRow);

  const add = document.getElementById("add-condition");
  const template = document.getElementById("condition-template");
  const total = form.querySelector("input[name$='-TOTAL_FORMS']");
  const maximum = Number(form.querySelector("input[name$='-MAX_NUM_FORMS']").value);
  function updateAdd() { add.hidden = Number(total.value) >= maximum; }
  add.addEventListener("click", () => {
    const holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replaceAll("__prefix__", total.value);  // our own server-rendered markup
    const row = holder.querySelector("tr.condition-row");
    rows.appendChild(row);
    total.value = String(Number(total.value) + 1);
    refreshRow(row);
    row.querySelector("select.condition-field").focus();
    updateAdd();
  });
  updateAdd();
})();
