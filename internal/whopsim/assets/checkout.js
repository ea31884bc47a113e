// The hosted checkout page: follows the sandbox's theme (shared with the
// parent page through localStorage, else the OS), and sends the form once.
(() => {
  "use strict";
  const root = document.documentElement;
  let theme = localStorage.getItem("whopsim-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  root.dataset.theme = theme;

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("whopsim-theme").onclick = () => {
      theme = theme === "dark" ? "light" : "dark";
      localStorage.setItem("whopsim-theme", theme);
      root.dataset.theme = theme;
    };
    const form = document.getElementById("whopsim-hosted-form");
    if (!form) return;
    // Disabling the buttons would drop the clicked one's outcome from the
    // form, so a flag refuses the second submission instead.
    let sent = false;
    form.addEventListener("submit", (e) => {
      if (sent) {
        e.preventDefault();
        return;
      }
      sent = true;
      form.setAttribute("aria-busy", "true");
      if (e.submitter) e.submitter.textContent = e.submitter.value === "pay" ? "Processing…" : "Declining…";
    });
  });
})();
