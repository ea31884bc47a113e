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
  // Whop's mobile apps bridge the SDK through the webview instead of a parent.
  var bridge = !!(window.ReactNativeWebView && window.ReactNativeWebView.postMessage) ||
    !!(window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.SwiftWebView);
  var appId = body.dataset.appId;
  if ((inFrame || bridge) && appId && window.WhopIframe) {
    var origins = (body.dataset.parentOrigins || "").split(",").filter(Boolean);
    try {
      sdk = window.WhopIframe.createSdk({ appId: appId, overrideParentOrigins: origins.length ? origins : undefined });
    } catch (err) {
      console.error("creditkit: iframe SDK did not start", err);
    }
  }

  // whopAnswers settles true once Whop answers a ping, so its purchase
  // modal can be used, and false when nothing answers within 1.5 s (the
  // page opened on its own, or a webview without the purchase bridge): the
  // SDK's own timeout is 15 s, too long to leave a member waiting.
  var whopAnswers = Promise.resolve(false);
  if (sdk) {
    whopAnswers = Promise.race([
      sdk.ping("ping").then(function (r) { return r === "pong"; }, function () { return false; }),
      new Promise(function (resolve) { setTimeout(resolve, 1500, false); }),
    ]);
  }
  window.creditkit = { sdk: sdk, inFrame: inFrame, whopAnswers: whopAnswers };
})();
