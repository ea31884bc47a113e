// The member's upgrade to premium: create the premium checkout, open Whop's
// purchase modal, then wait for Whop to confirm the membership and unlock
// the premium section without a reload. Whop's webhook may land after the
// modal closes, so the page polls the status briefly and says so meanwhile.
(function () {
  "use strict";
  var root = document.querySelector("[data-experience-id]");
  if (!root) return;
  var experienceId = root.dataset.experienceId;
  var pollEveryMs = 1000;
  var pollTries = 20;

  var ck = window.creditkit;
  var ui = ck.ui;
  var say = ui.say, busy = ui.busy, send = ui.send, errorText = ui.errorText, refresh = ui.refresh;

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
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
    // Without a Whop parent answering, inAppPurchase would wait for a day:
    // pay on Whop's own checkout page instead, which brings the member back.
    if (!(await ck.useModal())) {
      return upgradeOnWhop(button);
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
        // The modal's error is Whop's own words (closed, or declined);
        // no membership was made, so nothing was charged.
        var why = ((result && result.error) || "").trim();
        say("error", "The upgrade did not go through" + (why ? " (Whop: " + why.replace(/[.!?]$/, "") + ")" : "") +
          ". You were not charged.");
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

  async function upgradeOnWhop(button) {
    busy(button, true);
    say("info", "Opening Whop's checkout…");
    try {
      var checkout = await send("POST", "/api/premium/checkout", { experience_id: experienceId });
      if (!checkout.ok || !ui.httpURL(checkout.data.purchase_url)) {
        say("error", errorText(checkout, "Whop did not give a checkout page for the upgrade. Please try again."));
        if (checkout.status === 409) await refresh();
        busy(button, false);
        return;
      }
      ui.navigateTop(checkout.data.purchase_url);
    } catch (err) {
      console.error("creditkit: upgrade on Whop", err);
      say("error", "Could not reach the app. Please try again.");
      busy(button, false);
    }
  }

  // Back from paying on Whop's own checkout page: wait for Whop to confirm
  // the membership as after the modal, then drop the marker from the address.
  if (new URLSearchParams(location.search).get("upgrade") === "returned") {
    history.replaceState(null, "", location.pathname);
    waitForPremium().then(function (ok) {
      if (ok) return refresh().then(function () { say("ok", "Premium unlocked. Welcome!"); });
      say("info", "Payment received. Whop is still confirming your membership; premium unlocks as soon as it does, so check back in a minute.");
    });
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-upgrade]");
    if (b && !b.disabled) upgrade(b);
  });
})();
