// New-batch form: drop many images and/or one .zip on the drop zone; images join those already chosen in
// the images input, the .zip goes to the zip input. The inputs stay and work alone without JavaScript.
// Sentences come from Django's JavaScript catalog (gettext, ngettext, interpolate), whole, for translation.
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
    const count = images.files.length;
    const values = {
      images: interpolate(ngettext("%(count)s image", "%(count)s images", count), { count }, true),
      zip: archive.files.length ? archive.files[0].name : "",
      size: megabytes(chosen),
    };
    let text = "";
    if (count && values.zip) text = gettext("Chosen: %(images)s and the zip %(zip)s (%(size)s MB).");
    else if (values.zip) text = gettext("Chosen: the zip %(zip)s (%(size)s MB).");
    else if (count) text = gettext("Chosen: %(images)s (%(size)s MB).");
    summary.textContent = `${interpolate(text, values, true)} ${note}`.trim();
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
      if (others.length) {
        note = interpolate(gettext("A batch takes one .zip: %(names)s left out."), { names: others.join(", ") }, true);
      }
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
