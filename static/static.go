// Package static embeds the files the browser loads: the stylesheet, our page
// script and the bundle of Whop's @whop/iframe SDK that `make assets` builds
// into dist/ (a build output, never committed; dist/.gitkeep keeps the embed
// pattern valid on a fresh clone).
package static

import "embed"

// FS holds css/, js/ and dist/. Serve it under /static/.
//
//go:embed css js all:dist
var FS embed.FS

// SDKBundle is the path, inside FS, of the built iframe SDK bundle. It is
// absent until `make assets` has run; the server reports that plainly.
const SDKBundle = "dist/whop-iframe.js"
