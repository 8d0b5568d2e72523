// Drawing pad: pointer events (mouse, touch, pen), undo, clear; sends the drawing as a PNG
// through the same upload form as any other image.
(function () {
  const canvas = document.getElementById("pad");
  const ctx = canvas.getContext("2d");
  const strokes = [];
  let current = null;

  // A square for one digit, a strip for a line of them; strokes as thick either way.
  const shapes = { digit: [560, 560], number: [1120, 280] };
  function lineWidth() { return Math.min(canvas.width, canvas.height) / 20; }

  function redraw() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#111";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = lineWidth();
    for (const stroke of strokes) {
      ctx.beginPath();
      ctx.moveTo(stroke[0].x, stroke[0].y);
      // A single tap still leaves a dot.
      for (const point of stroke.length > 1 ? stroke.slice(1) : stroke) ctx.lineTo(point.x, point.y);
      ctx.stroke();
    }
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height),
    };
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) current.push(point(e));
    redraw();
  });
  for (const type of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(type, () => { current = null; });
  }

  function shape(kind) {
    [canvas.width, canvas.height] = shapes[kind];
    document.getElementById("draw-card").classList.toggle("wide", kind === "number");
    strokes.length = 0;
    redraw();
  }
  for (const radio of document.querySelectorAll("input[name=kind]")) {
    radio.addEventListener("change", () => shape(radio.value));
  }

  document.getElementById("undo").addEventListener("click", () => { strokes.pop(); redraw(); });
  document.getElementById("clear").addEventListener("click", () => { strokes.length = 0; redraw(); });

  // "Read it": sent with fetch and answered in place, beside the drawing, as soon as the reading ends
  // (panel.js). Should that fail, the plain form is sent instead and its page says why.
  const form = document.getElementById("draw-form");
  const button = document.getElementById("submit-drawing");
  const answer = document.getElementById("draw-answer");
  function submitPlainly(file) {
    const files = new DataTransfer();
    files.items.add(file);
    document.getElementById("drawing-file").files = files.files;
    form.submit();
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    canvas.toBlob(async (blob) => {
      const file = new File([blob], "drawing.png", { type: "image/png" });
      const data = new FormData(form);
      data.set("images", file);
      let sent = null;
      try {
        const response = await fetch(form.action, {
          method: "POST", body: data, headers: { Accept: "application/json" },
        });
        if (response.ok) sent = (await response.json()).predictions[0];
      } catch (error) {
        // Sent plainly below.
      }
      if (!sent) {
        submitPlainly(file);
        return;
      }
      // A panel of its own for each drawing: a slower earlier reading cannot overwrite this one.
      const panel = document.createElement("div");
      panel.append(document.getElementById("pending-panel").content.cloneNode(true));
      document.getElementById("draw-panel").replaceChildren(panel);
      document.getElementById("draw-result-link").href = sent.url;
      answer.hidden = false;
      button.disabled = false;
      window.followPanel(panel, sent.panel_url);
    }, "image/png");
  });

  // The choice as the page came (a form sent back with an error, or restored by the back button).
  shape(document.querySelector("input[name=kind]:checked").value);
})();
