// The review screen, keyboard first: digits go to the value box, letters are shortcuts, Enter submits the
// form's first button (accept, or correct to the value typed). Everything also works as a plain form.
(function () {
  const form = document.getElementById("review-form");
  const box = document.getElementById("id_value");
  const figure = document.getElementById("review-image");
  if (!form || !box) return;
  let sent = false;  // one action per page: a second key press before the next page would act twice

  box.focus();
  box.select();  // typing replaces the reading
  form.addEventListener("submit", (event) => {
    if (sent) event.preventDefault();
    sent = true;
  });
  window.addEventListener("pageshow", (event) => { if (event.persisted) sent = false; });  // back button
  figure.addEventListener("click", () => { figure.classList.toggle("zoomed"); box.focus(); });

  const keys = { j: "j", arrowdown: "j", k: "k", arrowup: "k", r: "r", u: "u" };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    const key = event.key.toLowerCase();
    if (key === "z") {
      event.preventDefault();
      figure.classList.toggle("zoomed");
      return;
    }
    const button = keys[key] && form.querySelector(`button[data-key="${keys[key]}"]:not([disabled])`);
    if (button) {
      event.preventDefault();
      if (!sent) form.requestSubmit(button);
    } else if (event.target === box && key.length === 1 && !/[0-9]/.test(key)) {
      event.preventDefault();  // only digits belong in the box
    }
  });
  form.dataset.keys = "on";  // shortcuts work from here on (tests wait for it)
})();
