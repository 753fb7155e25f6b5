/**
 * Which polls are failing, for the node's status. The scheduler owns each key's failure
 * (when it started, whether a listener already heard of it); what is left for the node is
 * the count it shows, "3 of 10 devices failing".
 */

export type PollState =
  | { state: 'failing'; failed: number }
  /** Devices answer, but the device list could not be refreshed: names or new devices may be missing. */
  | { state: 'listStale' }
  | { state: 'ok' };

export class PollHealth {
  private readonly failingDevices = new Set<string>();
  private listFailing = false;

  deviceFailed(id: string): void {
    this.failingDevices.add(id);
  }

  deviceRecovered(id: string): void {
    this.failingDevices.delete(id);
  }

  listFailed(): void {
    this.listFailing = true;
  }

  listRecovered(): void {
    this.listFailing = false;
  }

  /** A failing device outweighs a stale list: the list only brings names and new devices. */
  state(): PollState {
    if (this.failingDevices.size > 0) return { state: 'failing', failed: this.failingDevices.size };
    return this.listFailing ? { state: 'listStale' } : { state: 'ok' };
  }
}

/** The status a poll answer leaves: its colour, and the catalog key and parameters of its text. */
export interface PollStatusView {
  kind: 'failing' | 'degraded' | 'ok';
  key: 'failing' | 'emittedListStale' | 'emitted' | 'emittedArray';
  params: Record<string, string | number>;
}

/**
 * `sent`: the msgs just sent and the readings they carry (the same but in array mode, where
 * one msg carries a round's readings: "1 msg, 12 readings").
 */
export function pollStatusView(state: PollState, sent: { msgs: number; readings: number }, polled: number, time: string): PollStatusView {
  if (state.state === 'failing') return { kind: 'failing', key: 'failing', params: { failed: state.failed, count: polled } };
  if (state.state === 'listStale') return { kind: 'degraded', key: 'emittedListStale', params: { count: sent.msgs, time } };
  if (sent.msgs === 1 && sent.readings !== 1) return { kind: 'ok', key: 'emittedArray', params: { count: sent.readings, time } };
  return { kind: 'ok', key: 'emitted', params: { count: sent.msgs, time } };
}
