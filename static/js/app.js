// Creditkit's page script: connects to the Whop parent through the bundled
// iframe SDK, follows its theme, and exposes the SDK to the page's features.
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;

  function applyTheme(theme) {
    if (!theme || !theme.appearance) return;
    root.classList.toggle("dark", theme.appearance === "dark");
    root.classList.toggle("light", theme.appearance === "light");
  }
  // The SDK reports Whop's theme only as this event (meant for frosted-ui).
  root.addEventListener("frosted-ui:set-theme", function (e) { applyTheme(e.detail); });

  var sdk = null;
  var inFrame = window.parent && window.parent !== window;
  var appId = body.dataset.appId;
  if (inFrame && appId && window.WhopIframe) {
    var origins = (body.dataset.parentOrigins || "").split(",").filter(Boolean);
    try {
      sdk = window.WhopIframe.createSdk({ appId: appId, overrideParentOrigins: origins.length ? origins : undefined });
    } catch (err) {
      console.error("creditkit: iframe SDK did not start", err);
    }
  }
  window.creditkit = { sdk: sdk, inFrame: inFrame };
})();
