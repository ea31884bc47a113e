// The member's upgrade to premium: create the premium checkout, open Whop's
// purchase modal, then wait for Whop to confirm the membership and unlock
// the premium section without a reload. Whop's webhook may land after the
// modal closes, so the page polls the status briefly and says so meanwhile.
(function () {
  "use strict";
  var root = document.querySelector("[data-experience-id]");
  if (!root) return;
  var experienceId = root.dataset.experienceId;
  var notice = document.getElementById("notice");
  var pollEveryMs = 1000;
  var pollTries = 20;

  function say(kind, text) {
    notice.className = "notice " + kind;
    notice.textContent = text;
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function send(method, path, body) {
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
  }

  function errorText(res, fallback) {
    return (res.data && res.data.error && res.data.error.message) || fallback;
  }

  // refresh re-reads this page and swaps in its live parts: the server
  // decides what a premium member sees, the script only places it.
  function refresh() {
    return fetch(location.pathname + location.search, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
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
  }

  async function waitForPremium() {
    var path = "/api/premium/status?experience_id=" + encodeURIComponent(experienceId);
    for (var i = 1; i <= pollTries; i++) {
      say("info", "Payment received. Waiting for Whop to confirm your membership" + ".".repeat(1 + (i % 3)));
      var res = await send("GET", path);
      if (res.ok && res.data.premium === true) return true;
      await sleep(pollEveryMs);
    }
    return false;
  }

  async function upgrade(button) {
    var ck = window.creditkit || {};
    // Without a Whop parent answering, inAppPurchase would wait for a day.
    if (!ck.sdk || !(await ck.whopAnswers)) {
      say("error", "Upgrading uses Whop's purchase modal: open Creditkit from Whop to upgrade.");
      return;
    }
    busy(button, true);
    say("info", "Opening Whop checkout…");
    try {
      var checkout = await send("POST", "/api/premium/checkout", { experience_id: experienceId });
      if (!checkout.ok) {
        say("error", errorText(checkout, "Could not start the upgrade. Please try again."));
        if (checkout.status === 409) await refresh(); // already premium: show it
        return;
      }
      var result = await ck.sdk.inAppPurchase({ planId: checkout.data.planId, id: checkout.data.id });
      if (!result || result.status !== "ok") {
        say("error", "Upgrade cancelled. You were not charged.");
        return;
      }
      if (await waitForPremium()) {
        await refresh();
        say("ok", "Premium unlocked. Welcome!");
      } else {
        say("info", "Payment received. Whop is still confirming your membership; premium unlocks as soon as it does, so check back in a minute.");
      }
    } catch (err) {
      console.error("creditkit: upgrade", err);
      say("error", "Something went wrong. If you were charged, premium unlocks shortly.");
    } finally {
      busy(button, false);
    }
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-upgrade]");
    if (b && !b.disabled) upgrade(b);
  });
})();
