// The sandbox's parent page: the host side of Whop's iframe protocol (the
// official createSdkHost, answering every method), the checkout modal that
// inAppPurchase opens, the user switcher and the sandbox controls.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("whopsim-config").textContent);
  const $ = (sel) => document.querySelector(sel);
  const frame = $("#whopsim-frame");
  const messages = [];
  let view = cfg.views.find((v) => v.path === cfg.path.split("?")[0]) || cfg.views[0];
  let pending = null; // the open checkout: {req, resolve}
  let lastPayment = null;

  // Theme: the page's own, sent to the app as Whop sends frosted-ui themes.
  let theme = localStorage.getItem("whopsim-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const applyTheme = () => { document.documentElement.dataset.theme = theme; };
  applyTheme();

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    return data;
  }

  function toast(text) {
    const t = $("#whopsim-toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 3500);
  }

  function banner(text) {
    const b = $("#whopsim-banner");
    b.textContent = text;
    b.hidden = false;
  }

  const initials = (s) => s.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();

  // On a narrow screen the sidebar is a menu the ☰ button opens.
  function setMenu(open) {
    document.body.classList.toggle("menu-open", open);
    $("#whopsim-menu").setAttribute("aria-expanded", String(open));
  }
  $("#whopsim-menu").onclick = () => setMenu(!document.body.classList.contains("menu-open"));

  // Navigation: the rail lists companies, the sidebar their views.
  function showView(v, path) {
    setMenu(false);
    view = v;
    frame.src = cfg.relayOrigin + (path || v.path);
    $("#whopsim-crumb-group").textContent = v.group;
    $("#whopsim-crumb-view").textContent = v.label;
    $(".company-name").textContent = v.group;
    document.querySelectorAll(".views button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.path === v.path)));
    document.querySelectorAll(".rail button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.group === v.group)));
    const url = new URL(location.href);
    url.searchParams.set("path", path || v.path);
    url.searchParams.delete("user");
    history.replaceState(null, "", url);
  }

  function renderNav() {
    const groups = [...new Set(cfg.views.map((v) => v.group))];
    const rail = $(".rail"), list = $(".views");
    for (const g of groups) {
      const b = document.createElement("button");
      b.textContent = initials(g);
      b.title = g;
      b.dataset.group = g;
      b.onclick = () => showView(cfg.views.find((v) => v.group === g));
      rail.append(b);
      const head = document.createElement("li");
      head.className = "group";
      head.textContent = g;
      list.append(head);
      for (const v of cfg.views.filter((v) => v.group === g)) {
        const li = document.createElement("li"), btn = document.createElement("button");
        btn.innerHTML = `<span class="ico">${v.viewType === "admin" ? "▦" : v.viewType === "app" ? "◆" : "✦"}</span>`;
        btn.append(v.label);
        btn.dataset.path = v.path;
        btn.dataset.testid = "whopsim-view";
        btn.onclick = () => showView(v);
        li.append(btn);
        list.append(li);
      }
    }
  }

  function renderUsers() {
    const sel = $("#whopsim-user");
    for (const u of cfg.users) {
      const o = document.createElement("option");
      o.value = u.id;
      o.textContent = `@${u.username} · ${u.role}`;
      o.selected = u.id === cfg.selectedUser;
      sel.append(o);
    }
    const setAvatar = () => {
      const u = cfg.users.find((u) => u.id === sel.value);
      $("#whopsim-user-avatar").textContent = u ? initials(u.name) : "?";
    };
    setAvatar();
    sel.onchange = async () => {
      await api("POST", "/_sim/user", { user_id: sel.value });
      setAvatar();
      setMenu(false);
      frame.src = frame.src; // reload: the relay now vouches for the new user
    };
  }

  // The checkout modal that inAppPurchase opens.
  async function checkout(req) {
    if (pending) return { status: "error", error: "Another checkout is already open." };
    let d;
    try {
      d = await api("GET", `/_sim/checkout?${new URLSearchParams({ id: req.id || "", plan_id: req.planId })}`);
    } catch (e) {
      return { status: "error", error: e.message };
    }
    const setup = d.mode === "setup";
    $("#whopsim-co-card").hidden = !setup;
    $("#whopsim-co-card-fixed").hidden = setup;
    $("[data-testid=whopsim-decline]").hidden = setup; // a setup declines by its card
    $("#whopsim-co-company").textContent = d.company;
    $("#whopsim-co-logo").textContent = initials(d.company);
    $("#whopsim-co-title").textContent = d.title;
    const money = new Intl.NumberFormat(undefined, { style: "currency", currency: d.plan.currency.replace("whop_", "") });
    $("#whopsim-co-price").textContent = money.format(Number(d.charge));
    $("#whopsim-co-period").textContent = d.billing_period ? ` / ${d.billing_period} days` : " one-time";
    $("#whopsim-co-user").textContent = `${d.user.name} · @${d.user.username} · ${d.user.email}`;
    $("#whopsim-co-pay").textContent = setup ? "Save card" : `Pay ${money.format(Number(d.charge))}`;
    if (setup) {
      $("#whopsim-co-price").textContent = "No charge now";
      $("#whopsim-co-period").textContent = " · saves a card for later charges";
    }
    $("#whopsim-co-error").hidden = true;
    $("#whopsim-checkout").hidden = false;
    $("#whopsim-co-pay").focus();
    return new Promise((resolve) => { pending = { req, resolve, setup }; });
  }

  // saveCard answers a setup-mode checkout with the chosen test card.
  async function saveCard() {
    const card = $("#whopsim-co-card").value;
    document.querySelectorAll(".modal button").forEach((b) => { b.disabled = true; });
    const res = await fetch("/_sim/setup", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: pending.req.id || "", card }) });
    const data = await res.json().catch(() => ({}));
    if (res.ok && data.declined) {
      toast("Card declined");
      finish({ status: "error", error: data.error || "Your card was declined." });
    } else if (res.ok) {
      toast(`Card saved · ${data.receiptId}`);
      finish({ status: "ok", data: { sessionId: data.sessionId, receiptId: data.receiptId } });
    } else {
      $("#whopsim-co-error").textContent = (data.error && data.error.message) || res.statusText;
      $("#whopsim-co-error").hidden = false;
      document.querySelectorAll(".modal button").forEach((b) => { b.disabled = false; });
    }
  }

  function finish(reply) {
    const p = pending;
    pending = null;
    $("#whopsim-checkout").hidden = true;
    document.querySelectorAll(".modal button").forEach((b) => { b.disabled = false; });
    p.resolve(reply);
  }

  async function answer(outcome) {
    if (!pending) return;
    if (pending.setup) return saveCard();
    const body = { id: pending.req.id || "", plan_id: pending.req.planId, outcome };
    document.querySelectorAll(".modal button").forEach((b) => { b.disabled = true; });
    try {
      const res = await api("POST", "/_sim/checkout", body);
      if (outcome === "pay") {
        lastPayment = res.receiptId; // what the refund and dispute buttons act on
        $("#whopsim-last-payment").textContent = lastPayment;
        toast(`Payment succeeded · ${res.receiptId}`);
        finish({ status: "ok", data: { sessionId: res.sessionId, receiptId: res.receiptId } });
      } else {
        toast("Payment declined");
        finish({ status: "error", error: res.error });
      }
    } catch (e) {
      $("#whopsim-co-error").textContent = e.message;
      $("#whopsim-co-error").hidden = false;
      document.querySelectorAll(".modal button").forEach((b) => { b.disabled = false; });
    }
  }

  $("[data-testid=whopsim-pay]").onclick = () => answer("pay");
  $("[data-testid=whopsim-decline]").onclick = () => answer("decline");
  $("[data-testid=whopsim-close]").onclick = () => pending && finish({ status: "error", error: "The buyer closed the checkout." });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && pending) finish({ status: "error", error: "The buyer closed the checkout." });
  });

  // The bell: the notifications the app sent the signed-in user through
  // POST /api/v1/notifications, newest first; each opens its deep link.
  let bellSeen = 0;
  let bellShown = null; // what the list shows, so an unchanged poll leaves its nodes alone
  async function pollBell() {
    let d;
    try {
      d = await api("GET", "/_sim/notifications");
    } catch (e) {
      return;
    }
    updateBellCount(d.data.length);
    // Rebuilt only when the notifications changed: a list replaced every
    // poll would swallow a click that lands while it is replaced.
    const shown = JSON.stringify(d.data);
    if (shown === bellShown) return;
    bellShown = shown;
    const list = $("#whopsim-bell-list");
    list.replaceChildren(...d.data.map((n) => {
      const li = document.createElement("li");
      li.dataset.testid = "whopsim-notification";
      const title = document.createElement("strong");
      title.textContent = n.title;
      const body = document.createElement("div");
      body.textContent = n.content;
      const when = document.createElement("div");
      when.className = "muted small";
      when.textContent = new Date(n.created_at).toLocaleString() + " · " + n.deep_link;
      li.append(title, body, when);
      li.onclick = () => { $("#whopsim-bell-panel").hidden = true; frame.src = cfg.relayOrigin + n.deep_link; };
      return li;
    }));
    if (!d.data.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No notifications yet.";
      list.append(li);
    }
  }
  function updateBellCount(n) {
    const count = $("#whopsim-bell-count");
    const unseen = $("#whopsim-bell-panel").hidden ? n - bellSeen : 0;
    count.textContent = String(n);
    count.hidden = n === 0;
    count.classList.toggle("unseen", unseen > 0);
  }
  $("#whopsim-bell").onclick = () => {
    const panel = $("#whopsim-bell-panel");
    panel.hidden = !panel.hidden;
    $("#whopsim-bell").setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) bellSeen = Number($("#whopsim-bell-count").textContent || 0);
    pollBell();
  };
  pollBell();
  setInterval(pollBell, 1500);

  // Every method of the protocol, answered with values the SDK's schema
  // accepts, and logged here and in the sandbox (GET /_sim/messages).
  const handlers = {
    ping: () => "pong",
    getTopLevelUrlData: () => ({
      companyRoute: view.companyRoute || "", experienceRoute: view.experienceId || "",
      experienceId: view.experienceId || "", viewType: view.viewType,
      baseHref: location.origin + "/", fullHref: location.href,
    }),
    openExternalUrl: ({ url, newTab }) => {
      if (newTab) window.open(url, "_blank", "noopener"); else location.assign(url);
      return "ok";
    },
    onHrefChange: ({ href }) => { $("#whopsim-address").textContent = href; return "ok"; },
    inAppPurchase: (req) => checkout(req),
    closeApp: () => { toast("The app asked Whop to close it"); return "ok"; },
    openHelpChat: () => { toast("Whop would open the help chat here"); return "ok"; },
    getColorTheme: () => ({ appearance: theme }),
    earliestUnreadNotification: () => null,
    markExperienceRead: () => "ok",
    performHaptic: () => "ok",
    onNavigationStackChange: () => "ok",
  };
  const logged = Object.fromEntries(Object.entries(handlers).map(([method, fn]) => [method, async (req) => {
    const reply = await fn(req);
    messages.push({ method, data: req, reply });
    renderMessages();
    fetch("/_sim/messages", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method, data: req === undefined ? null : req, reply: reply === undefined ? null : reply }) }).catch(() => {});
    return reply;
  }]));

  function renderMessages() {
    const ol = $(".messages");
    ol.replaceChildren(...messages.slice(-40).reverse().map((m) => {
      const li = document.createElement("li");
      li.textContent = `${m.method} ${JSON.stringify(m.data) || ""} → ${JSON.stringify(m.reply)}`;
      return li;
    }));
  }

  let host = null;
  if (!window.WhopHost) {
    banner(window.WhopHostMissing || "The iframe host script did not load; the app cannot talk to this page.");
  } else {
    host = window.WhopHost.createSdkHost({
      appId: cfg.appId, remoteWindow: frame.contentWindow, remoteOrigin: cfg.relayOrigin, onMessage: logged,
    });
  }

  $("#whopsim-theme").onclick = () => {
    theme = theme === "dark" ? "light" : "dark";
    localStorage.setItem("whopsim-theme", theme);
    applyTheme();
    if (host) host.onColorThemeChange({ appearance: theme });
  };

  // Sandbox controls.
  async function lastEvent() {
    const { data } = await api("GET", "/_sim/events");
    if (!data.length) throw new Error("no events yet");
    return data[data.length - 1];
  }
  async function latestMembership() {
    const st = await api("GET", "/_sim/state");
    const ms = Object.values(st.memberships).filter((m) => m.user_id === $("#whopsim-user").value && ["active", "trialing", "canceling"].includes(m.status));
    ms.sort((a, b) => b.created_at.localeCompare(a.created_at));
    if (!ms.length) throw new Error("the signed-in user has no valid membership");
    return ms[0].id;
  }
  const needPayment = () => { if (!lastPayment) throw new Error("no payment yet: buy something first"); return lastPayment; };
  const actions = {
    redeliver: async () => api("POST", `/_sim/events/${(await lastEvent()).id}/redeliver`, {}),
    twice: async () => api("POST", `/_sim/events/${(await lastEvent()).id}/redeliver`, { times: 2 }),
    hold: () => api("POST", "/_sim/faults", { hold_next: 3 }),
    drop: () => api("POST", "/_sim/faults", { drop_next: 1 }),
    badsig: () => api("POST", "/_sim/faults", { bad_signature_next: 1 }),
    stale: async () => {
      const f = await api("GET", "/_sim/faults");
      return api("POST", "/_sim/faults", { timestamp_skew_seconds: f.timestamp_skew_seconds ? 0 : -400 });
    },
    refund: () => api("POST", `/_sim/payments/${needPayment()}/refund`, {}),
    "refund-half": () => api("POST", `/_sim/payments/${needPayment()}/refund`, { percent: 50 }),
    dispute: () => api("POST", `/_sim/payments/${needPayment()}/dispute`, {}),
    "end-membership": async () => api("POST", `/_sim/memberships/${await latestMembership()}/deactivate`, {}),
    reset: async () => { if (confirm("Forget every payment and delivery?")) { await api("POST", "/_sim/reset"); location.reload(); } },
  };
  document.querySelectorAll("[data-action]").forEach((b) => {
    b.onclick = async () => {
      b.disabled = true;
      try { await actions[b.dataset.action](); toast(`${b.textContent}: done`); refreshDeliveries(); } catch (e) { toast(e.message); }
      b.disabled = false;
    };
  });
  document.querySelectorAll("[data-fault]").forEach((sel) => {
    sel.onchange = async () => {
      const v = sel.value;
      const patch = sel.dataset.fault === "api_failure"
        ? { api_failure_rate: Number(v.split(":")[0]), api_failure_status: Number(v.split(":")[1] || 0) }
        : sel.dataset.fault === "token" ? { token: v } : { [sel.dataset.fault]: Number(v) };
      await api("POST", "/_sim/faults", patch).catch((e) => toast(e.message));
      if (sel.dataset.fault === "token") frame.src = frame.src;
    };
  });

  async function refreshDeliveries() {
    if ($("#whopsim-drawer").hidden) return;
    const { data } = await api("GET", "/_sim/deliveries").catch(() => ({ data: [] }));
    $(".log tbody").replaceChildren(...data.slice(-30).reverse().map((a) => {
      const tr = document.createElement("tr");
      const good = a.outcome === "delivered";
      tr.innerHTML = `<td>${new Date(a.at).toLocaleTimeString()}</td><td></td><td>#${a.attempt}</td>` +
        `<td class="${good ? "good" : "bad"}">${a.status || "—"} ${a.outcome}</td>`;
      tr.children[1].textContent = a.type + (a.faults ? ` (${a.faults.join(", ")})` : "");
      tr.title = a.error || "";
      return tr;
    }));
  }
  $("#whopsim-drawer-toggle").onclick = () => {
    $("#whopsim-drawer").hidden = !$("#whopsim-drawer").hidden;
    refreshDeliveries();
  };
  setInterval(refreshDeliveries, 2000);

  $("#whopsim-webhook").textContent = cfg.webhookUrl
    ? `${cfg.webhookScheme} → ${cfg.webhookUrl}` : "No webhook URL configured: events are recorded, not sent.";
  renderNav();
  renderUsers();
  showView(view, cfg.path);
})();
