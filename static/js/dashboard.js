// The dashboard's forms work without this script; it only shows progress
// and keeps a second click from sending the same form again while the
// first is on its way (the server would answer it with the first result).
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.closest || !form.closest('[data-testid="dashboard"], [data-testid="refund-confirm"]')) return;
    if (form.dataset.sending === "true") {
      e.preventDefault();
      return;
    }
    form.dataset.sending = "true";
    var button = form.querySelector('button[type="submit"]');
    if (button) button.setAttribute("aria-busy", "true");
  });
  // Coming back to a page from the history cache must not leave it busy.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll('form[data-sending="true"]').forEach(function (form) {
      delete form.dataset.sending;
      var button = form.querySelector('button[aria-busy="true"]');
      if (button) button.removeAttribute("aria-busy");
    });
  });
})();
