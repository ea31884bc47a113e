// The page a buyer lands on back from Whop's hosted checkout. While Whop is
// still confirming the payment it re-reads itself every 1.5 s, showing its
// progress, and swaps in the server's answer once there is one; after its
// last try it shows the server's latest word on why it is still waiting,
// title and all. The server renders, the script only places.
(function () {
  "use strict";
  var card = document.querySelector('[data-live="return"]');
  if (!card || card.dataset.returnStatus !== "processing") return;
  var limit = parseInt(card.dataset.polls, 10) || 0;
  if (limit <= 0) return;
  var progress = card.querySelector("progress");
  var tries = 0;

  function settled(fresh) {
    return fresh && fresh.dataset.returnStatus && fresh.dataset.returnStatus !== "processing";
  }

  // When the checks run out the page stops updating, so its title and the
  // message saying it updates itself give way to the server's latest word.
  function giveUp() {
    card.dataset.slow = "true";
    if (progress) progress.hidden = true;
    var slow = card.querySelector('[data-testid="return-slow"]');
    if (!slow) return;
    slow.hidden = false;
    // Set again once shown, so a screen reader announces it (the line it
    // replaces was the page's live region).
    slow.textContent = slow.textContent;
    var title = card.querySelector('[data-testid="return-title"]');
    if (title && slow.dataset.title) title.textContent = slow.dataset.title;
    var message = card.querySelector('[data-testid="return-message"]');
    if (message) message.hidden = true;
  }

  function next() {
    if (progress) progress.value = tries;
    if (tries >= limit) {
      giveUp();
      return;
    }
    setTimeout(check, 1500);
  }

  function check() {
    tries++;
    fetch(location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) throw new Error("return page answered " + res.status);
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector('[data-live="return"]');
        if (settled(fresh)) {
          card.replaceWith(fresh);
          return;
        }
        // Still confirming: keep the server's latest word for when the
        // checks run out (it differs once Whop shows a payment of theirs).
        var said = fresh && fresh.querySelector('[data-testid="return-slow"]');
        var slow = card.querySelector('[data-testid="return-slow"]');
        if (said && slow) {
          slow.textContent = said.textContent;
          slow.dataset.title = said.dataset.title || "";
        }
        next();
      })
      .catch(function (err) {
        console.warn("creditkit: re-checking the payment", err);
        next();
      });
  }

  next();
})();
