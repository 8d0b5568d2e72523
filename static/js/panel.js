// A result panel that follows its prediction: long-polls the panel URL (the server answers as soon as the
// reading ends, or with the panel still pending after WAIT_S) and swaps it in until the reading is done.
window.followPanel = async function (container, panelUrl, onUpdate) {
  const WAIT_S = 10;
  const pending = () => {
    const panel = container.querySelector(".panel");
    return panel && panel.dataset.status === "pending";
  };
  while (pending()) {
    const asked = Date.now();
    try {
      const response = await fetch(`${panelUrl}?wait=${WAIT_S}`,
                                   { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        container.innerHTML = await response.text();
        if (onUpdate) onUpdate();
      } else if (response.status >= 400 && response.status < 500) {
        return; // gone (deleted) or not ours
      }
    } catch (error) {
      // A dropped connection: asked again below.
    }
    // Still pending at once (an error, or a server that could not wait, e.g. without Redis): not a busy loop.
    if (pending() && Date.now() - asked < 1000) await new Promise((resolve) => setTimeout(resolve, 2000));
  }
};
