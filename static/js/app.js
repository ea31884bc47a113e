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
    var origins = onlyTheParent((body.dataset.parentOrigins || "").split(",").filter(Boolean));
    try {
      sdk = window.WhopIframe.createSdk({ appId: appId, overrideParentOrigins: origins.length ? origins : undefined });
    } catch (err) {
      console.error("creditkit: iframe SDK did not start", err);
    }
  }

  // onlyTheParent narrows the origins the SDK may talk to down to the one
  // its parent has, when the browser tells which (ancestorOrigins, else
  // the referrer of the first page in the frame) and it is on the list.
  // The SDK posts every message once per origin on its list, and each post
  // to an origin that is not the parent's makes the browser log a warning;
  // the parent is one window with one origin, so nothing is lost. A parent
  // off the list leaves the list whole: the SDK then neither answers nor
  // sends anything to it, as before.
  function onlyTheParent(origins) {
    var parent = "";
    if (window.location.ancestorOrigins && window.location.ancestorOrigins.length) {
      parent = window.location.ancestorOrigins[0];
    } else if (document.referrer) {
      try { parent = new URL(document.referrer).origin; } catch (e) { parent = ""; }
    }
    return origins.indexOf(parent) >= 0 ? [parent] : origins;
  }

  // whopAnswers settles true once Whop answers a ping, so its purchase
  // modal can be used, and false when nothing answers within 1.5 s (the
  // page opened on its own, or a webview without the purchase bridge): the
  // SDK's own timeout is 15 s, too long to leave a member waiting.
  // A parent that answers late (a slow machine, a busy Whop tab) still
  // counts: the "creditkit:modal" event lets pages switch back to the modal.
  var whopAnswers = Promise.resolve(false);
  var modal = false;
  if (sdk) {
    var pong = sdk.ping("ping").then(function (r) { return r === "pong"; }, function () { return false; });
    pong.then(function (ok) {
      if (!ok) return;
      modal = true;
      document.dispatchEvent(new CustomEvent("creditkit:modal"));
    });
    whopAnswers = Promise.race([pong, new Promise(function (resolve) { setTimeout(resolve, 1500, false); })]);
  }

  // ui holds what every page script needs: one message area, busy buttons,
  // JSON calls, and refreshing the server-rendered live parts of the page.
  var ui = {
    say: function (kind, text) {
      var notice = document.getElementById("notice");
      if (!notice) return;
      notice.className = "notice " + kind;
      notice.textContent = text;
    },
    busy: function (button, on) {
      button.disabled = on;
      button.setAttribute("aria-busy", on ? "true" : "false");
    },
    newKey: function () {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
      var b = new Uint8Array(16);
      crypto.getRandomValues(b);
      return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    },
    // send calls one of our JSON APIs and never throws for an HTTP status:
    // the caller reads ok, status and data.
    send: function (method, path, body) {
      return fetch(path, {
        method: method,
        headers: body ? { "Content-Type": "application/json", "Accept": "application/json" } : { "Accept": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
        credentials: "same-origin",
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          return { ok: res.ok, status: res.status, data: data };
        });
      });
    },
    errorText: function (res, fallback) {
      return (res.data && res.data.error && res.data.error.message) || fallback;
    },
    // refresh re-reads this page and swaps in its data-live parts: the
    // server renders, the script only places. The marker header asks for
    // the premium state as premium decides it (after an upgrade, another
    // replica may still keep the member's earlier "no" for show).
    refresh: function () {
      return fetch(location.pathname + location.search, {
        headers: { "Accept": "text/html", "X-Creditkit-Refresh": "1" },
        credentials: "same-origin",
      })
        .then(function (res) {
          if (!res.ok) throw new Error("refresh failed: " + res.status);
          return res.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (el) {
            var fresh = doc.querySelector('[data-live="' + el.dataset.live + '"]');
            if (fresh) el.replaceWith(fresh);
          });
        });
    },
    httpURL: function (s) {
      try {
        var u = new URL(s);
        return u.protocol === "https:" || u.protocol === "http:";
      } catch (e) {
        return false;
      }
    },
    // navigateTop sends the whole window (not just this frame) to Whop's
    // checkout. From inside Whop's iframe that needs the click's user
    // activation, which the caller keeps by staying in the click's promise
    // chain; should the browser refuse anyway, a target=_top link the member
    // clicks (a fresh activation) does the same.
    navigateTop: function (url) {
      var fallback = document.querySelector("[data-continue-on-whop]");
      function offerLink() {
        ui.say("", "");
        if (fallback) {
          fallback.href = url;
          fallback.parentElement.hidden = false;
        }
      }
      try {
        (window.top || window).location.href = url;
        // Some browsers refuse without throwing; once the window navigates
        // this page and its timer are gone, so the link shows only if not.
        setTimeout(offerLink, 4000);
      } catch (err) {
        console.warn("creditkit: top navigation refused", err);
        offerLink();
      }
    },
  };

  window.creditkit = {
    sdk: sdk,
    inFrame: inFrame,
    whopAnswers: whopAnswers,
    // useModal settles true when Whop's purchase modal can take a purchase:
    // Whop answered within the wait, or has since, however late. Otherwise
    // inAppPurchase would hang, and pages use Whop's hosted checkout instead.
    useModal: function () {
      return whopAnswers.then(function (ok) { return ok || modal; });
    },
    ui: ui,
  };
})();
