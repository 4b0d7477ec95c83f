// Drag-and-drop onto the upload form: dropped files go into the form's file input, and are listed.
(function () {
  const zone = document.getElementById("dropzone");
  const input = zone && zone.querySelector("input[type=file]");
  const list = document.getElementById("chosen-files");
  if (!zone || !input) return;

  function showChosen() {
    list.replaceChildren(...Array.from(input.files).map((file) => {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;  // textContent: names are never HTML
      return item;
    }));
  }
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const transfer = new DataTransfer();
    Array.from(input.files).concat(Array.from(event.dataTransfer.files)).forEach((file) => transfer.items.add(file));
    input.files = transfer.files;
    showChosen();
  });
  input.addEventListener("change", showChosen);
  // Files chosen before this script ran (a fast user on a slow page, or the browser restoring the form on "back")
  // are listed too.
  if (input.files.length) showChosen();
})();
