/**
 * Which reading a node last sent for each device, so every msg can say whether its reading is
 * new since the previous msg for that device (`msg.fresh`). A reading is known by its time (a
 * latest reading served again keeps it) or, without one or for a series, by its content.
 */
import { readingFingerprint, readingTime, telemetryPoints } from './readings';

export class Freshness {
  private readonly sent = new Map<string, string>();

  /** True when `value` is not the reading last sent for `id`. */
  isFresh(id: string, value: unknown): boolean {
    return this.sent.get(id) !== identity(value);
  }

  /** `value` was sent for `id`. */
  sentFor(id: string, value: unknown): void {
    this.sent.set(id, identity(value));
  }

  forget(id: string): void {
    this.sent.delete(id);
  }
}

function identity(value: unknown): string {
  const time = telemetryPoints(value).length === 1 ? readingTime(value) : undefined;
  return time !== undefined ? `t${time}` : `c${readingFingerprint(value)}`;
}
