// The member's credits page: buy a package through Whop's purchase modal
// (or, where no Whop parent answers, on Whop's hosted checkout page), spend
// credits, and refresh the balance and receipts without a reload. Every
// button shows progress while it works and a message when it is done.
(function () {
  "use strict";
  var root = document.querySelector("[data-experience-id]");
  if (!root) return;
  var experienceId = root.dataset.experienceId;
  var ck = window.creditkit;
  // The stylesheet shows the buttons that fit: Buy (the modal) with a
  // secondary "pay on Whop", or "Pay on Whop" alone.
  ck.whopAnswers.then(function (modal) {
    if (root.dataset.checkout !== "modal") root.dataset.checkout = modal ? "modal" : "hosted";
  });
  document.addEventListener("creditkit:modal", function () { root.dataset.checkout = "modal"; });

  var ui = ck.ui;
  var say = ui.say, busy = ui.busy, newKey = ui.newKey, errorText = ui.errorText, refresh = ui.refresh;

  function post(path, body) { return ui.send("POST", path, body); }

  function waitForCredits(tries) {
    return new Promise(function (resolve) { setTimeout(resolve, 1500); })
      .then(refresh)
      .then(function () { if (tries > 1) return waitForCredits(tries - 1); });
  }

  // payOnWhop charges first (our purchase, with Whop's checkout page), then
  // navigates there; Whop sends the member back to the purchase's return page.
  async function payOnWhop(button, pkg) {
    busy(button, true);
    say("info", "Opening Whop's checkout…");
    try {
      var charge = await post("/api/charge", { experience_id: experienceId, package: pkg, idempotency_key: newKey() });
      if (!charge.ok) {
        say("error", errorText(charge, "Could not start the purchase. Please try again."));
        busy(button, false);
        return;
      }
      if (!ui.httpURL(charge.data.purchase_url)) {
        say("error", "Whop did not give a checkout page for this purchase. Please try again.");
        busy(button, false);
        return;
      }
      ui.navigateTop(charge.data.purchase_url);
    } catch (err) {
      console.error("creditkit: pay on Whop", err);
      say("error", "Could not reach the app. Please try again.");
      busy(button, false);
    }
  }

  async function buy(button) {
    if (!(await ck.useModal())) {
      return payOnWhop(button, button.dataset.buy); // no modal here: Whop's page instead
    }
    busy(button, true);
    say("info", "Opening Whop checkout…");
    try {
      var charge = await post("/api/charge", { experience_id: experienceId, package: button.dataset.buy, idempotency_key: newKey() });
      if (!charge.ok) {
        say("error", errorText(charge, "Could not start the purchase. Please try again."));
        return;
      }
      var result = await ck.sdk.inAppPurchase({ planId: charge.data.planId, id: charge.data.id });
      if (!result || result.status !== "ok") {
        await modalEnded(charge.data.purchase_id, result && result.error);
        return;
      }
      say("info", "Payment received. Adding your credits…");
      var confirm = await post("/api/purchases/" + encodeURIComponent(charge.data.purchase_id) + "/confirm", { receipt_id: result.data.receiptId });
      if (confirm.status === 202) {
        say("info", "Payment received. Whop is still processing it; your credits will appear in a moment.");
        await waitForCredits(4);
        return;
      }
      if (!confirm.ok) {
        say("error", errorText(confirm, "We could not confirm the payment yet. If you were charged, your credits will arrive shortly."));
        await refresh();
        return;
      }
      await refresh();
      say("ok", "Added " + confirm.data.purchase.credits + " credits. Your balance is " + confirm.data.balance + ".");
    } catch (err) {
      console.error("creditkit: purchase", err);
      say("error", "Something went wrong. If you were charged, your credits will arrive shortly.");
    } finally {
      busy(button, false);
    }
  }

  // modalEnded says what happened when Whop's modal ended without a
  // payment. The modal's error has one shape whether the member closed it
  // or their card was declined, and Whop does not document its strings, so
  // the server asks Whop's records; the modal's own words are the reason
  // shown for a decline only when Whop's payment carries none.
  async function modalEnded(purchaseId, modalError) {
    say("info", "Checkout closed. Checking with Whop…");
    var res = await post("/api/purchases/" + encodeURIComponent(purchaseId) + "/outcome", {});
    var d = res.data || {};
    if (!res.ok || d.outcome === "unknown") {
      say("error", "Checkout closed, and Whop could not be reached to confirm it. If you were charged, your credits will arrive shortly.");
      return;
    }
    switch (d.outcome) {
      case "paid":
        await refresh();
        say("ok", "Added " + d.credits + " credits. Your balance is " + d.balance + ".");
        return;
      case "declined":
        await refresh();
        say("error", "Your payment was declined: " + reasonText(d.reason || modalError) +
          " You were not charged; you can try again with another card.");
        return;
      case "refused":
        // Whop holds a paid payment the app refused: the server says what to do.
        await refresh();
        say("error", reasonText(d.reason) + " " + (d.advice || ""));
        return;
      case "processing":
        say("info", "Whop is still processing your payment. Your credits will appear once it clears.");
        await waitForCredits(4);
        return;
    }
    await refresh(); // the unpaid purchase is among the receipts, as it is
    say("info", "You closed the checkout. You were not charged and your balance is unchanged.");
  }

  function reasonText(reason) {
    reason = (reason || "").trim();
    if (!reason) return "Whop gave no reason.";
    return /[.!?]$/.test(reason) ? reason : reason + ".";
  }

  async function spend(button) {
    busy(button, true);
    // One key per click: a retried request is answered with its first result.
    var key = button.dataset.pendingKey || newKey();
    button.dataset.pendingKey = key;
    try {
      var res = await post("/api/spend", { experience_id: experienceId, item: button.dataset.spend, idempotency_key: key });
      if (res.ok) {
        delete button.dataset.pendingKey;
        await refresh();
        say("ok", "Spent " + res.data.cost + " credits. Your balance is " + res.data.balance + ".");
      } else {
        if (res.status < 500) delete button.dataset.pendingKey;
        say("error", errorText(res, "Could not spend credits. Please try again."));
      }
    } catch (err) {
      console.error("creditkit: spend", err);
      say("error", "Could not reach the app. Please try again.");
    } finally {
      busy(button, false);
    }
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-buy], button[data-pay-on-whop], button[data-spend]");
    if (!b || b.disabled) return;
    if (b.dataset.buy) buy(b);
    else if (b.dataset.payOnWhop) payOnWhop(b, b.dataset.payOnWhop);
    else spend(b);
  });
})();
