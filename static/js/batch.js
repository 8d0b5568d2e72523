// Batch page: every 2 s until every item has ended, fetch the counts, pace, time left and this page's
// items and update them in place (the state bar too). Without JavaScript the page shows them as they
// were when it was loaded.
(function () {
  const section = document.getElementById("batch-progress");
  if (!section || section.dataset.finished === "true") return;

  function show(progress) {
    document.getElementById("progress-bar").value = progress.ended;
    document.getElementById("progress-ended").textContent = progress.ended;
    document.getElementById("progress-pace").textContent = progress.pace_text;
    document.getElementById("progress-left").textContent = progress.time_left_text;
    document.getElementById("state-bar").setAttribute("aria-label", progress.summary);
    for (const segment of progress.segments) {
      const bar = section.querySelector(`[data-segment="${segment.state}"]`);
      bar.style.width = `${segment.percent}%`;
      bar.title = `${segment.label}: ${segment.count}`;
    }
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
