// Review queue from the keyboard: j/k or ↓/↑ next/previous item, a approve it, g approve its group, c or / type
// another account (Enter saves, Esc returns), s skip, x select it for "Approve selected", p split it across accounts
// (the form is static/js/splits.js's).
// Every action is a plain form, so the page works without this script; the script only presses its buttons.
(function () {
  const items = Array.from(document.querySelectorAll("li.review-item"));
  const approveSelected = document.getElementById("approve-selected");
  const positionKey = "review-position:" + window.location.pathname;
  let current = -1;

  function focusItem(index, options) {
    if (!items.length) return;
    const next = Math.max(0, Math.min(items.length - 1, index));
    if (current >= 0 && items[current]) items[current].classList.remove("is-focused");
    current = next;
    const item = items[current];
    item.classList.add("is-focused");
    if (!options || options.focus !== false) item.focus({ preventScroll: true });
    if (!options || options.scroll !== false) item.scrollIntoView({ block: "nearest" });
  }

  function focused() { return current >= 0 ? items[current] : null; }

  function clickIn(root, selector) {
    const button = root && root.querySelector(selector);
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  function typeAccount(item) {
    const input = item && item.querySelector("input.account-input");
    if (input) { input.focus(); input.select(); }
  }

  function updateSelection() {
    if (!approveSelected) return;
    const count = document.querySelectorAll("input.item-check:checked").length;
    approveSelected.disabled = count === 0;
    approveSelected.textContent = count ? "Approve selected (" + count + ")" : "Approve selected";
    approveSelected.title = count ? "" : "Tick items (or press x) to approve several at once";
  }

  // After a POST the page reloads with the decided items gone: keep the reviewer's place in the list.
  document.addEventListener("submit", (event) => {
    const origin = (event.submitter || event.target).closest("li.review-item, section.review-group");
    let index = current;
    if (origin && origin.matches("li.review-item")) index = items.indexOf(origin);
    else if (origin) index = items.indexOf(origin.querySelector("li.review-item"));
    try {
      window.sessionStorage.setItem(positionKey, JSON.stringify({ index: index, at: Date.now() }));
    } catch (error) { /* storage may be disabled: the first item is focused instead */ }
  });

  document.addEventListener("change", (event) => {
    if (event.target.classList && event.target.classList.contains("item-check")) updateSelection();
  });

  // Clicking or tabbing into an item makes it the keyboard's current item.
  document.addEventListener("focusin", (event) => {
    const item = event.target.closest && event.target.closest("li.review-item");
    if (item && items.indexOf(item) !== current) focusItem(items.indexOf(item), { focus: false, scroll: false });
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !items.length) return;
    const target = event.target;
    const typing = target.matches && target.matches("input, select, textarea, button");
    if (typing && target.matches("input.account-input")) {
      if (event.key === "Escape") { event.preventDefault(); target.blur(); focusItem(current, { scroll: false }); }
      else if (event.key === "Enter") { event.preventDefault(); if (target.value.trim()) target.form.requestSubmit(); }
      return;
    }
    if (typing && target.matches("input[type=text], input[type=number], select, textarea")) return;
    const item = focused();
    switch (event.key) {
      case "j": case "ArrowDown": case "s":
        focusItem(current + 1); break;
      case "k": case "ArrowUp":
        focusItem(current - 1); break;
      case "a":
        if (!clickIn(item, "button.approve")) typeAccount(item);  // nothing to approve: pick an account
        break;
      case "g":
        clickIn(item && item.closest("section.review-group"), "button.approve-group"); break;
      case "c": case "/":
        typeAccount(item); break;
      case "p":
        clickIn(item, "a.split-link"); break;
      case "x": {
        const box = item && item.querySelector("input.item-check");
        if (box && !box.disabled) { box.checked = !box.checked; updateSelection(); }
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });

  let start = 0;
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(positionKey) || "null");
    window.sessionStorage.removeItem(positionKey);
    if (saved && Date.now() - saved.at < 60000 && saved.index >= 0) start = saved.index;
  } catch (error) { /* no saved place */ }
  updateSelection();
  if (items.length) focusItem(start, { scroll: start > 0 });
})();
