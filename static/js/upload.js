// Upload page: drag and drop onto the drop zone, and a preview of each chosen image.
(function () {
  const form = document.getElementById("upload-form");
  const input = form.querySelector("input[type=file]");
  const zone = document.getElementById("dropzone");
  const previews = document.getElementById("previews");

  function showPreviews() {
    previews.replaceChildren();
    for (const file of input.files) {
      const item = document.createElement("li");
      const caption = document.createElement("span");
      caption.textContent = file.name;
      caption.title = file.name;
      if (file.type.startsWith("image/")) {
        const img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "";
        img.onload = () => URL.revokeObjectURL(img.src);
        item.append(img);
      }
      item.append(caption);
      previews.append(item);
    }
  }

  input.addEventListener("change", showPreviews);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    input.files = event.dataTransfer.files;
    showPreviews();
  });
})();
