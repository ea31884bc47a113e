// Package whopsim is a local Whop: the sandbox that lets Creditkit (and any
// Whop app) run its whole purchase loop offline, in tests and in a real
// browser, the way stripe-mock and the Stripe CLI do for Stripe.
//
// A [Sim] holds seeded state (an app, two companies with an experience each,
// an admin, members, the premium product and plan, ledger accounts) and
// serves two handlers:
//
//   - [Sim.Handler]: the parent page with the host side of the iframe
//     protocol, the REST API (v1, plus v2 and v5 payment retrieval), the JWKS
//     of the user-token key and the control API under /_sim/.
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
package whopsim
