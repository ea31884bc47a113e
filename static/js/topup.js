// The member's auto top-up page: "Save a card" opens Whop's modal on a
// setup-mode checkout (nothing is charged), then hands the setup's id to
// the server, which reads the saved card from Whop. The rule and the
// notification choices are plain forms; while a top-up is under way the
// page re-reads its live parts until it lands.
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=autotopup]");
  if (!root) return;
  var experienceId = root.dataset.experienceId;
  var ck = window.creditkit;
  var ui = ck.ui;
  var say = ui.say, busy = ui.busy, errorText = ui.errorText;

  function post(path, body) { return ui.send("POST", path, body); }

  async function saveCard(button) {
    busy(button, true);
    say("info", "Opening Whop to save a card…");
    try {
      if (!(await ck.useModal())) {
        var hosted = await post("/api/topup/setup", { experience_id: experienceId });
        if (hosted.ok && ui.httpURL(hosted.data.purchase_url)) {
          ui.navigateTop(hosted.data.purchase_url);
          return;
        }
        say("error", errorText(hosted, "Whop's page could not be opened. Please try again."));
        return;
      }
      var setup = await post("/api/topup/setup", { experience_id: experienceId });
      if (!setup.ok) {
        say("error", errorText(setup, "Could not start saving a card. Please try again."));
        return;
      }
      var result = await ck.sdk.inAppPurchase({ id: setup.data.id, planId: "" });
      if (!result || result.status !== "ok") {
        say("error", "No card was saved: " + ((result && result.error) || "the checkout closed.") + "");
        return;
      }
      var saved = await post("/api/topup/method", { experience_id: experienceId, setup_intent_id: result.data.receiptId });
      if (!saved.ok) {
        say("error", errorText(saved, "Whop saved the card but the app could not record it. Please try again."));
        return;
      }
      location.reload();
    } catch (err) {
      console.error("creditkit: save card", err);
      say("error", "Something went wrong. Please try again.");
    } finally {
      busy(button, false);
    }
  }

  var button = root.querySelector("[data-save-card]");
  if (button) button.addEventListener("click", function () { saveCard(button); });

  // Back from Whop's hosted page: the card arrives with Whop's webhook.
  var waits = 0;
  function awaitCard() {
    if (!/[?&]setup=returned/.test(location.search) || !root.querySelector("[data-testid=no-card]") || waits++ > 20) return;
    setTimeout(function () { ui.refresh().then(awaitCard, awaitCard); }, 1000);
  }
  awaitCard();

  // A top-up under way: re-read the live parts until none is.
  function pending() { return root.querySelector("[data-testid=topups] .badge.accent") !== null; }
  function poll() {
    if (!pending()) return;
    setTimeout(function () { ui.refresh().then(poll, poll); }, 1500);
  }
  poll();
})();
