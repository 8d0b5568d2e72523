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

  const form = document.getElementById("draw-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = document.getElementById("submit-drawing");
    button.disabled = true;
    button.textContent = "Sending…";
    canvas.toBlob((blob) => {
      const files = new DataTransfer();
      files.items.add(new File([blob], "drawing.png", { type: "image/png" }));
      document.getElementById("drawing-file").files = files.files;
      form.submit();
    }, "image/png");
  });

  // The choice as the page came (a form sent back with an error, or restored by the back button).
  shape(document.querySelector("input[name=kind]:checked").value);
})();
