// Batch page: every 2 s until every item has ended, fetch the counts and this page's items and update
// them in place. Without JavaScript the page shows the counts as they were when it was loaded.
(function () {
  const section = document.getElementById("batch-progress");
  if (!section || section.dataset.finished === "true") return;

  function show(progress) {
    document.getElementById("progress-bar").value = progress.ended;
    document.getElementById("progress-ended").textContent = progress.ended;
    for (const [state, count] of Object.entries(progress.counts)) {
      const cell = section.querySelector(`[data-count="${state}"]`);
      if (cell) cell.textContent = count;
    }
    for (const item of progress.items) {
      const row = document.querySelector(`tr[data-item="${item.id}"]`);
      if (!row) continue;
      row.querySelector('[data-field="reading"]').textContent = item.reading;
      row.querySelector('[data-field="confidence"]').textContent =
        item.confidence_percent === null ? "" : `${item.confidence_percent}%`;
      row.querySelector('[data-field="state"]').textContent = item.state_label;
    }
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const progress = await response.json();
        show(progress);
        if (progress.finished) return;
      }
    } catch (error) {
      // A dropped connection is retried on the next tick.
    }
    setTimeout(poll, 2000);
  }

  setTimeout(poll, 2000);
})();
