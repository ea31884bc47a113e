// Entry point of the browser bundle of Whop's official iframe SDK.
// esbuild turns it into static/dist/whop-iframe.js, an IIFE that exposes
// window.WhopIframe.createSdk; there is no CDN build of @whop/iframe.
import { createSdk } from "@whop/iframe";

window.WhopIframe = { createSdk };
