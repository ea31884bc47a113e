// Package whopsim is a local Whop: the sandbox that lets Creditkit (and any
// Whop app) run its whole purchase loop offline, in tests and in a real
// browser, the way stripe-mock and the Stripe CLI do for Stripe.
//
// A [Sim] holds seeded state (an app, two companies with an experience each,
// an admin, members, the premium product and plan, ledger accounts; see
// [Seed]) and serves two handlers:
//
//   - [Sim.Handler]: the parent page with the host side of the iframe
//     protocol, the hosted checkout a configuration's purchase_url opens
//     (/checkout/{plan}?session=ch_…: Pay and Decline act as the modal's
//     buttons, then send the buyer to the configuration's redirect_url), the
//     REST API (v1, plus v2 and v5 payment retrieval), the JWKS of the
//     user-token key and the control API under /_sim/.
//   - [Sim.Relay]: a reverse proxy in front of the app that adds a freshly
//     signed x-whop-user-token to every request and strips X-Frame-Options,
//     served on another origin so the browser sees a cross-origin iframe as
//     it does on whop.com.
//
// Webhooks go to a configured URL, signed in the Standard Webhooks scheme or
// the legacy one, retried on Whop's schedule by a sender whose clock and
// randomness are injectable, so tests assert the schedule without sleeping.
//
// The JSON it writes is built here from the protocol notes, not shared with
// the app's client, so that client tests against the sandbox check something.
//
// # Tests
//
// Package whopsimtest starts a Sim on httptest servers (parent on
// 127.0.0.1, relay on localhost, so they are different sites). The iframe
// SDK trusts only http://localhost:8003 as a parent by default, so an app
// page under test must pass overrideParentOrigins with Env.URL. Tests drive
// the Sim with its methods ([Sim.Pay], [Sim.Refund], [Sim.UpdateFaults], …)
// and wait with [Sim.WaitIdle] or [Sim.AwaitAttempts]; with a [ManualClock],
// Advance moves retries along.
//
// The v1 API honours Api-Version-Date as Whop does (versions.go): no header
// is the original 2025-01-01, a later date renames company_id to
// account_id where Whop did, and an unknown date is a 400.
//
// # Control API
//
// JSON in and out, for the parent page's buttons and for scripts:
//
//	GET    /_sim/seed                          seeded ids and keys
//	GET    /_sim/env                           what an app needs (EnvInfo)
//	GET    /_sim/state                         everything, as saved
//	POST   /_sim/reset                         back to the seed
//	GET    /_sim/user, POST {user_id}          the signed-in user
//	POST   /_sim/token {user_id?, fault?, ttl_seconds?, experience_id?}
//	                                           mint a user token (user_id or @username)
//	GET    /_sim/faults, POST {…}, DELETE      fault switches (see Faults)
//	GET    /_sim/webhook, POST {url, scheme}   where deliveries go
//	GET    /_sim/events                        every event, oldest first
//	GET    /_sim/deliveries?event_id=&delivery=&since=&wait=
//	                                           attempts, with status; wait long-polls
//	POST   /_sim/deliveries/{n}/resend {new_id} deliver a delivery again
//	GET    /_sim/trigger, POST {event, user, …} make an event happen (Trigger)
//	POST   /_sim/listen {forward_to, …}        forward new events while the
//	                                           request lasts; streams JSON lines
//	GET    /_sim/endpoints                     the listeners' endpoints
//	POST   /_sim/events/{id}/redeliver {times} deliver again
//	POST   /_sim/events/deliver {event_ids, shuffle}
//	POST   /_sim/webhooks/release {shuffle}    let go of held events
//	POST   /_sim/payments/{id}/refund {amount? | percent?}
//	POST   /_sim/payments/{id}/dispute {reason?}
//	POST   /_sim/payments/{id}/settle {outcome: pay|fail}   a pending payment
//	POST   /_sim/disputes/{id} {status}
//	POST   /_sim/memberships/{id}/deactivate
//	GET    /_sim/checkout?id=&plan_id=         what the modal shows
//	POST   /_sim/checkout {id, plan_id, user_id?, outcome: pay|decline|pending}
//	POST   /_sim/setup {id, user_id?, card}    answer a setup-mode checkout with a test card
//	GET    /_sim/notifications?user_id=        the notifications a user received (the bell)
//	GET    /_sim/messages, POST                the iframe message log
package whopsim
