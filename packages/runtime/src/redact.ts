/**
 * Redacting a deployed server's secret values from the console output and error
 * messages the platform keeps (SPEC section 9). Best effort against accidents, not a
 * boundary: a server that wants to leak its own secret can (it could encode it). So
 * it replaces each value as written and as JSON escapes it (the harness logs objects
 * as JSON), longest first, and a tail that is the start of a value (a line cut at its
 * length limit in the middle of one).
 */

export interface NamedSecret {
  name: string;
  value: string;
}

/** Shorter tails than this are left alone: they would match ordinary text too often. */
const MIN_TAIL = 4;

export const redactionMark = (name: string) => `[secret ${name}]`;

export function redactSecrets(text: string, secrets: readonly NamedSecret[]): string {
  if (secrets.length === 0 || text === "") return text;
  const forms: { form: string; name: string }[] = [];
  for (const { name, value } of secrets) {
    if (value === "") continue;
    forms.push({ form: value, name });
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) forms.push({ form: escaped, name });
  }
  forms.sort((a, b) => b.form.length - a.form.length);
  let out = text;
  for (const { form, name } of forms) out = out.split(form).join(redactionMark(name));
  for (const { form, name } of forms) out = redactTail(out, form, name);
  return out;
}

/** Replaces the longest tail of `text` (at least MIN_TAIL long) that is a proper start of `form`. */
function redactTail(text: string, form: string, name: string): string {
  if (form.length <= MIN_TAIL) return text;
  const head = form.slice(0, MIN_TAIL);
  for (let at = text.indexOf(head, Math.max(0, text.length - form.length + 1)); at !== -1; at = text.indexOf(head, at + 1)) {
    if (text.length - at >= MIN_TAIL && form.startsWith(text.slice(at))) return text.slice(0, at) + redactionMark(name);
  }
  return text;
}
