// Entry point of the sandbox's bundle of the host side of Whop's iframe
// protocol, taken from the official @whop/iframe package's "./host" entry.
// esbuild turns it into dist/whop-host.js exposing window.WhopHost.
import { createSdkHost } from "@whop/iframe/host";

window.WhopHost = { createSdkHost };
