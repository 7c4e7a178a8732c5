/**
 * How the dashboard tests start Chromium: the build shipped inside the npm package
 * `@sparticuz/chromium` (unpacked on first use), headless, with nothing of its own
 * phoning home, so every request the tests see is the page's.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
