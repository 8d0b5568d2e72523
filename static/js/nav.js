// Phone menu: at 600 px and below the links fold behind the Menu button (a real button with
// aria-expanded, so keyboards and screen readers can use it). Without JavaScript the links stay open.
(function () {
  const nav = document.querySelector(".nav");
  const button = nav && nav.querySelector(".nav-toggle");
  if (!button) return;
  nav.classList.add("folding");

  function open(expanded) { button.setAttribute("aria-expanded", String(expanded)); }
  button.addEventListener("click", () => open(button.getAttribute("aria-expanded") !== "true"));
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      open(false);
      button.focus();
    }
  });
})();
