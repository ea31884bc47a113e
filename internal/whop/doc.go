// Package whop talks to Whop for a Go app that runs inside Whop's iframe: an
// API client, a webhook verifier and a user-token verifier.
//
// Whop ships no Go verifier for its webhooks or its user tokens, so this
// package is written to stand alone, with the protocol details pinned by
// tests against the public test vectors.
//
// # Client
//
// [New] returns a [Client] for Whop's REST API (v1, plus the legacy v2 and v5
// payment endpoints). Money crosses the boundary as exact integer minor units
// (see package money); Whop's JSON numbers in major units are decoded through
// their digits, never through float64. Calls are retried with backoff only
// when repeating them is safe: GETs and POSTs that carry an idempotency key.
// Failures are *[APIError] values that match sentinels such as [ErrNotFound]
// with errors.Is.
//
// # Webhooks
//
// A [WebhookVerifier] checks both of Whop's signing schemes, Standard
// Webhooks (webhook-id, webhook-timestamp, webhook-signature) and the legacy
// x-whop-signature, with the secret's raw bytes as the HMAC key, a ±5 minute
// window and constant-time comparison. Only after the signature holds does it
// decode the body into an [Event]. [SignStandard] and [SignLegacy] produce
// deliveries for a sandbox or tests.
//
// # User tokens
//
// A [TokenVerifier] checks the x-whop-user-token JWT that Whop's proxy adds
// to every request: ES256 only, issuer urn:whopcom:exp-proxy, audience equal
// to the app id (never optional), subject and expiry required. Keys come from
// Whop's JWKS, cached and refetched sparingly, or from a static key. Verified
// tokens are cached until they expire.
package whop
