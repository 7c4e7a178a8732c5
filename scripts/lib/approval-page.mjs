/**
 * The person at SMCP's /authorize page, for the scripts and tests that play one: the
 * page is read, and its form (the hidden fields SMCP put there, the key, "approve") is
 * posted back. Callers judge the answers their own way (a script throws, a test asserts).
 */

export const decodeEntities = (value) => value.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

/** GET of the approval page, not following redirects. */
export async function readApprovalPage(authorizationUrl) {
  const page = await fetch(authorizationUrl, { redirect: "manual" });
  return { page, html: await page.text() };
}

/** POSTs the page's form back with `key` and the decision to approve; the answer is not followed. */
export function submitApproval(authorizationUrl, html, key) {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1], decodeEntities(m[2]));
  form.set("api_key", key);
  form.set("decision", "approve");
  return fetch(new URL("/authorize", authorizationUrl), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
    redirect: "manual",
  });
}
