// Drives Whop's official client (@whop/sdk, pinned in package.json) against
// a running sandbox, for every call Creditkit makes and for webhook and
// user-token verification the way Whop's Next.js template does them.
// Run by internal/whopsim/sdk_test.go, which starts the sandbox and passes
// its URLs, keys and seeded ids in the environment. Prints one "ok <check>"
// line per check and exits non-zero at the first failure.
import http from "node:http";
import assert from "node:assert/strict";
import { Whop, BadRequestError } from "@whop/sdk";

const env = process.env;
const sandbox = env.SANDBOX_URL;
const [owner, creator, exp, alice] = [env.OWNER_ID, env.CREATOR_ID, env.EXPERIENCE_ID, env.ALICE_ID];

// As the template constructs it: the SDK reads WHOP_BASE_URL, WHOP_API_KEY
// and WHOP_USER_TOKEN_JWKS_URL from the environment by itself, and the
// webhook key is the secret base64-encoded, because the Standard Webhooks
// library the SDK uses base64-decodes its key and Whop signs with the
// secret's raw bytes.
const whopsdk = new Whop({
  appID: env.WHOP_APP_ID,
  webhookKey: Buffer.from(env.WHOP_WEBHOOK_SECRET, "utf8").toString("base64"),
  maxRetries: 0,
});

function ok(name, detail = "") {
  console.log(`ok ${name}${detail ? " " + detail : ""}`);
}

async function control(path, body) {
  const res = await fetch(sandbox + "/_sim/" + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

// Checkout configuration with an inline plan, as Creditkit's charge makes
// it; the SDK pins a version where plans name their account.
const co = await whopsdk.checkoutConfigurations.create({
  plan: { account_id: owner, currency: "usd", initial_price: 4.99, plan_type: "one_time" },
  metadata: { creditkit_purchase_id: "pur_sdk", experience_id: exp },
});
assert.match(co.id, /^ch_/);
assert.match(co.plan.id, /^plan_/);
assert.equal(co.metadata.creditkit_purchase_id, "pur_sdk");
assert.ok(co.purchase_url.startsWith(sandbox + "/checkout/" + co.plan.id));
ok("checkoutConfigurations.create", co.id);

const paid = await control("checkout", { id: co.id, plan_id: co.plan.id, user_id: alice, outcome: "pay" });
const payment = await whopsdk.payments.retrieve(paid.receiptId);
assert.equal(payment.status, "paid");
assert.equal(payment.substatus, "succeeded");
assert.equal(payment.total, 4.99);
assert.equal(payment.user.id, alice);
assert.equal(payment.company.id, owner);
assert.equal(payment.checkout_configuration_id, co.id);
assert.equal(payment.metadata.creditkit_purchase_id, "pur_sdk");
ok("payments.retrieve", payment.id);

const listed = [];
for await (const p of whopsdk.payments.list({ company_id: owner, statuses: ["paid"], first: 1 })) listed.push(p.id);
assert.deepEqual(listed, [payment.id]);
ok("payments.list");

const refunded = await whopsdk.payments.refund(payment.id, { partial_amount: 1.5 });
assert.equal(refunded.refunded_amount, 1.5);
assert.equal(refunded.substatus, "partially_refunded");
assert.equal(refunded.refundable, false);
ok("payments.refund");

const transfer = await whopsdk.transfers.create({
  amount: 12.5, currency: "usd", origin_id: owner, destination_id: creator, idempotence_key: "sdk-payout-1", notes: "share",
});
assert.match(transfer.id, /^ctt_/);
assert.equal(transfer.amount, 12.5);
const again = await whopsdk.transfers.create({
  amount: 12.5, currency: "usd", origin_id: owner, destination_id: creator, idempotence_key: "sdk-payout-1", notes: "share",
});
assert.equal(again.id, transfer.id);
ok("transfers.create", "replayed by idempotence_key");

const ledger = await whopsdk.ledgerAccounts.retrieve(creator);
assert.equal(ledger.balances[0].balance, 250 + 12.5);
assert.equal(ledger.transfer_fee, 0.25);
ok("ledgerAccounts.retrieve");

const access = await whopsdk.users.checkAccess(exp, { id: alice });
assert.deepEqual(access, { has_access: true, access_level: "customer" });
const admin = await whopsdk.users.checkAccess(creator, { id: env.ADMIN_ID });
assert.equal(admin.access_level, "admin");
ok("users.checkAccess");

const memberships = [];
for await (const m of whopsdk.memberships.list({ company_id: owner, product_ids: [env.PREMIUM_PRODUCT_ID] })) memberships.push(m);
assert.equal(memberships.length, 1);
const membership = await whopsdk.memberships.retrieve(memberships[0].id);
assert.equal(membership.status, "active");
assert.equal(membership.plan.id, env.PREMIUM_PLAN_ID);
ok("memberships.list and retrieve");

const user = await whopsdk.users.retrieve(alice);
assert.equal(user.username, "alice");
const experience = await whopsdk.experiences.retrieve(exp);
assert.equal(experience.company.id, creator);
const company = await whopsdk.companies.retrieve(creator);
assert.equal(company.title, "Pixel Guild");
ok("users, experiences and companies.retrieve");

// User tokens, as the template's pages verify them: from the key set the
// environment names, and from the key itself.
const { token } = await control("token", { user_id: "@alice" });
const fromJWKS = await whopsdk.verifyUserToken(token);
assert.deepEqual(fromJWKS, { userId: alice, appId: env.WHOP_APP_ID });
const envInfo = await control("env");
const fromKey = await whopsdk.verifyUserToken(new Headers({ "x-whop-user-token": token }), {
  publicKey: JSON.stringify(envInfo.user_token_jwk),
});
assert.equal(fromKey.userId, alice);
const { token: expired } = await control("token", { user_id: "@alice", fault: "expired" });
assert.equal(await whopsdk.verifyUserToken(expired, { dontThrow: true }), null);
ok("verifyUserToken", "key set, static key, expired refused");

// Webhooks: receive a real delivery and unwrap it as the template's route
// does.
const got = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    got.push({ body, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
    res.end("ok");
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
await control("webhook", { url: `http://127.0.0.1:${server.address().port}/api/webhooks`, scheme: "standard" });
const triggered = await control("trigger", { event: "payment.succeeded", user: "@alice", amount: "9.99" });
for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
server.close();
assert.equal(got.length, 1, "no delivery arrived");
const event = whopsdk.webhooks.unwrap(got[0].body, { headers: got[0].headers });
assert.equal(event.type, "payment.succeeded");
assert.equal(event.id, triggered.events[0].id);
assert.equal(event.data.id, triggered.payment_id);
assert.equal(event.data.total, 9.99);
assert.throws(() => whopsdk.webhooks.unwrap(got[0].body.replace("9.99", "0.01"), { headers: got[0].headers }));
// The secret as Whop shows it, passed without the base64 step, is not the
// key the deliveries were signed with: the template's btoa() matters.
assert.throws(() => whopsdk.webhooks.unwrap(got[0].body, { headers: got[0].headers, key: env.WHOP_WEBHOOK_SECRET }));
ok("webhooks.unwrap", "signed delivery verified; tampered body and undecoded key refused");

// The pinned version is the SDK's own default; an unknown one is refused.
const bogus = new Whop({ version: "2026-13-01", maxRetries: 0 });
await assert.rejects(bogus.users.retrieve(alice), (err) => {
  assert.ok(err instanceof BadRequestError);
  assert.equal(err.status, 400);
  assert.match(err.message, /2026-07-20/);
  return true;
});
ok("unknown Api-Version-Date refused", whopsdk.version);
