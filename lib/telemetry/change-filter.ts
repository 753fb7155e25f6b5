/**
 * "Only on change": polls run every interval, but a sensor reports far less often, so most
 * polls bring back the reading already sent. Remembering one fingerprint per key (not the
 * reading) keeps memory flat however large the readings are.
 */
import { Outcome } from './messages';
import { readingFingerprint } from './readings';

/** The array round's place among the devices' keys (no physical id can contain NUL). */
const ROUND_KEY = '\u0000array';

export class ChangeFilter {
  private readonly last = new Map<string, string>();

  /** True when `reading` differs from what was last let through for `key`, and remembers it. */
  private changed(key: string, reading: unknown): boolean {
    const fp = readingFingerprint(reading);
    if (this.last.get(key) === fp) return false;
    this.last.set(key, fp);
    return true;
  }

  deviceChanged(id: string, reading: unknown): boolean {
    return this.changed(id, reading);
  }

  /**
   * An array round is a change when any device's reading changed, or a device went from
   * answering to failing or back (a failure counts as no reading, whatever its error).
   */
  roundChanged(outcomes: Outcome[]): boolean {
    return this.changed(ROUND_KEY, outcomes.map((o) => o.value ?? null));
  }
}
