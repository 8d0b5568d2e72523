// Result page: while the reading is pending, long-poll the result panel (the server answers as soon as
// the reading ends, or with the panel still pending after WAIT_S); then put the boxes of a number's
// digits, which the panel brings, over the image. Without JavaScript the page reloads itself instead.
(function () {
  const WAIT_S = 10;
  const container = document.getElementById("result-panel");
  const frame = document.getElementById("image-frame");

  function showBoxes() {
    const overlay = container.querySelector("#boxes-overlay");
    if (overlay && !frame.querySelector(".boxes")) frame.append(overlay.content.cloneNode(true));
  }

  function pending() {
    const panel = container.querySelector(".panel");
    return panel && panel.dataset.status === "pending";
  }

  async function poll() {
    while (pending()) {
      try {
        const response = await fetch(`${container.dataset.panelUrl}?wait=${WAIT_S}`,
                                     { headers: { "X-Requested-With": "fetch" } });
        if (response.ok) {
          container.innerHTML = await response.text();
          showBoxes();
          continue;
        }
        if (response.status >= 400 && response.status < 500) return; // gone (deleted) or not ours
      } catch (error) {
        // A dropped connection: tried again below.
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  poll();
})();
