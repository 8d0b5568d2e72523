// New-batch form: drop many images and/or one .zip on the drop zone; images join those already chosen in
// the images input, the .zip goes to the zip input. The inputs stay and work alone without JavaScript.
(function () {
  const form = document.getElementById("batch-form");
  const zone = document.getElementById("dropzone");
  const summary = document.getElementById("drop-summary");
  const images = form.querySelector("input[name=files]");
  const archive = form.querySelector("input[name=archive]");
  const isZip = (file) => /\.zip$/i.test(file.name) || /zip/.test(file.type);

  function megabytes(files) {
    return (files.reduce((total, file) => total + file.size, 0) / 2 ** 20).toFixed(1);
  }

  function showSummary(note) {
    const chosen = [...images.files, ...archive.files];
    const parts = [`${images.files.length} image${images.files.length === 1 ? "" : "s"}`];
    if (archive.files.length) parts.push(`the zip ${archive.files[0].name}`);
    const text = chosen.length ? `Chosen: ${parts.join(" and ")} (${megabytes(chosen)} MB).` : "";
    summary.textContent = `${text} ${note}`.trim();
  }

  function take(dropped) {
    const zips = dropped.filter(isZip);
    const kept = new DataTransfer();
    for (const file of [...images.files, ...dropped.filter((file) => !isZip(file))]) kept.items.add(file);
    images.files = kept.files;
    let note = "";
    if (zips.length) {
      const zip = new DataTransfer();
      zip.items.add(zips[0]);
      archive.files = zip.files;
      const others = zips.slice(1).map((file) => file.name);
      if (others.length) note = `A batch takes one .zip: ${others.join(", ")} left out.`;
    }
    showSummary(note);
  }

  zone.hidden = false;
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    take([...event.dataTransfer.files]);
  });
  images.addEventListener("change", () => showSummary(""));
  archive.addEventListener("change", () => showSummary(""));
})();
