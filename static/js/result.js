// Result page: while the reading is pending, fetch the result panel until it is done; then put the
// boxes of a number's digits, which the panel brings, over the image.
(function () {
  const container = document.getElementById("result-panel");
  const frame = document.getElementById("image-frame");

  function showBoxes() {
    const overlay = container.querySelector("#boxes-overlay");
    if (overlay && !frame.querySelector(".boxes")) frame.append(overlay.content.cloneNode(true));
  }
  const started = Date.now();

  function pending() {
    const panel = container.querySelector(".panel");
    return panel && panel.dataset.status === "pending";
  }

  async function poll() {
    if (!pending()) return;
    try {
      const response = await fetch(container.dataset.panelUrl, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        container.innerHTML = await response.text();
        showBoxes();
      }
    } catch (error) {
      // A dropped connection is retried on the next tick.
    }
    if (pending()) {
      const waited = Date.now() - started;
      setTimeout(poll, waited < 5000 ? 200 : waited < 60000 ? 1000 : 5000);
    }
  }

  setTimeout(poll, 150);
})();
