// Result page: while the reading is pending, fetch the result panel until it is done.
(function () {
  const container = document.getElementById("result-panel");
  const started = Date.now();

  function pending() {
    const panel = container.querySelector(".panel");
    return panel && panel.dataset.status === "pending";
  }

  async function poll() {
    if (!pending()) return;
    try {
      const response = await fetch(container.dataset.panelUrl, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) container.innerHTML = await response.text();
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
