/** Secrets (an API key, tokens) this short or shorter are too likely to match ordinary text. */
const MIN_SECRET_LENGTH = 4;

/** `text` with every occurrence of each secret replaced, so no key or token leaves in an error or answer. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join('[redacted]');
  return out;
}
