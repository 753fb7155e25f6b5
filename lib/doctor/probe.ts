/**
 * leapcraft-doctor: a first-contact check of a Leapcraft API server with a real key. The public
 * docs leave several points open (docs/API.md; lib/api/dialects.ts names every plausible reading,
 * and the simulator speaks each); this check sends at most DOCTOR_MAX_REQUESTS read-only requests
 * and says which reading the server speaks for each point, with the shapes of its answers (field
 * names and types, never values), timings and anything unexpected, in a report meant to be pasted
 * into a bug report.
 *
 * Read-only: GETs, the token exchange with the key (the only way to get a token) and one token
 * exchange with a made-up key (to see how a refused key is answered).
 *
 * Redaction: the report is built from field names, types, counts, statuses and timings only.
 * As a last guard every string in it (and the formatted text) has the key, every token and every
 * identifying value seen in an answer (physical ids, names, serials, gateway ids, messages)
 * replaced by `[redacted]`.
 */
import { packageInfo } from '../package';
import { DEFAULT_BASE_URL } from '../api/client';
import { invalid, validateBaseUrl } from '../api/validation';
import { notifications } from './probe-alerts';
import { expiredToken, liveTokens, refusedKey, tokenWithKey } from './probe-auth';
import { decideLists, devices, things, topologies } from './probe-lists';
import { telemetry } from './probe-telemetry';
import { DoctorSession } from './session';
import { DoctorOptions, DoctorReport } from './types';

async function check(s: DoctorSession): Promise<void> {
  const token = await tokenWithKey(s);
  await refusedKey(s);
  await expiredToken(s);
  if (token === undefined) {
    s.notProbed(s.outcome === 'key-refused' ? 'the API key was refused' : s.stopped ?? 'no token');
    return;
  }
  const device = await devices(s, token);
  await telemetry(s, token, device);
  await notifications(s, token);
  await topologies(s, token);
  await things(s, token);
  decideLists(s);
  await liveTokens(s, token);
  s.notProbed(s.stopped ?? 'not reached');
}

/**
 * Runs the check against `baseUrl` with `apiKey`: at most DOCTOR_MAX_REQUESTS read-only requests,
 * one at a time, none retried. Resolves with the report whatever the API did (a refused key, no
 * answer, a cancellation: the report says so in `outcome`); rejects only for a bad base URL or an
 * empty key (LEAPCRAFT_INVALID_INPUT), before anything is sent.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
  if (apiKey === '') throw invalid('apiKey', 'must not be empty');
  const session = new DoctorSession(baseUrl, apiKey, options);
  try {
    await check(session);
  } finally {
    session.close();
  }
  return session.report(`leapcraft-doctor ${packageInfo.version}`);
}
