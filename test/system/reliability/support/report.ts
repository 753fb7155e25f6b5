/**
 * How the reliability suite reports: the English status texts a user sees (to check that a
 * red status names the fault), and the measured figures written to
 * .artifacts/reliability/<suite>.json, from which docs/RELIABILITY.md's table is filled.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, 'locales', 'en-US', 'leapcraft-config.json'), 'utf8')) as {
  common: { error: Record<string, string>; status: Record<string, string> };
};

/** The status text Node-RED shows (en-US) for an error code, e.g. "API unavailable". */
export function codeText(code: string): string {
  const text = catalog.common.error[code];
  if (text === undefined) throw new Error(`no status text for ${code}`);
  return text;
}

/**
 * What a node shows while its account's key is refused (the account pushes it to every node,
 * nodes/common/status.ts), in place of the node's own status.
 */
export const KEY_REFUSED_TEXT = catalog.common.status.keyRefused!;

/** The telemetry node's "3 of 12 failing" status. */
export const TELEMETRY_FAILING = /^\d+ of \d+ failing$/;

export function artifactsDir(): string {
  return path.join(process.env.ARTIFACTS_DIR ?? path.join(ROOT, '.artifacts'), 'reliability');
}

const written = new Map<string, unknown[]>();

/** Adds one scenario's figures to `<suite>.json` (rewritten whole; a new test run starts it afresh). */
export function recordFigures(suite: string, figures: Record<string, unknown>): void {
  const rows = written.get(suite) ?? [];
  rows.push({ ...figures, form: process.env.LEAPCRAFT_RELIABILITY === 'full' ? 'full' : 'short', at: new Date().toISOString() });
  written.set(suite, rows);
  const dir = artifactsDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${suite}.json`), `${JSON.stringify(rows, null, 2)}\n`);
}
