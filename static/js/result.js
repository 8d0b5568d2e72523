// Result page: follow the pending panel (panel.js); then put the boxes of a number's digits, which the
// panel brings, over the image. Without JavaScript the page reloads itself instead.
(function () {
  const container = document.getElementById("result-panel");
  const frame = document.getElementById("image-frame");

  function showBoxes() {
    const overlay = container.querySelector("#boxes-overlay");
    if (overlay && !frame.querySelector(".boxes")) frame.append(overlay.content.cloneNode(true));
  }

  window.followPanel(container, container.dataset.panelUrl, showBoxes);
})();
