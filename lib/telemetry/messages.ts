/**
 * The msgs of leapcraft-telemetry's three output modes: one per device, one array per
 * round, or one per metric for charts and gauges. Node-RED stays out of here: the node
 * hands in its clone function (RED.util.cloneMessage), so these stay testable on their own.
 */
import { Device, TelemetryResponse } from '../api/types';
import { extractMetrics } from './readings';

/** `history`: points for a database, shaped in lib/history/. */
export const OUTPUT_MODES = ['device', 'array', 'metric', 'history'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** A device's answer to one read: its reading, or why there is none. */
export interface Outcome {
  id: string;
  value?: TelemetryResponse;
  error?: unknown;
}

export type MsgLike = Record<string, unknown>;

export interface Shaping<M extends MsgLike> {
  /** Each msg sent for one input msg is its own copy, since the next node may change it. */
  clone: (msg: M) => M;
  /** The device list's entry, when the list is known. */
  deviceOf: (id: string) => Device | undefined;
}

/** An entry of `msg.errors` in array mode. */
export interface DeviceFailure {
  physical_id: string;
  code: string | undefined;
  message: string;
}

export function deviceMsg<M extends MsgLike>(base: M | undefined, id: string, value: TelemetryResponse, shaping: Shaping<M>): M {
  const msg: MsgLike = base ? shaping.clone(base) : {};
  msg.topic = id;
  msg.payload = value;
  msg.physical_id = id;
  const device = shaping.deviceOf(id);
  // A msg.device the input msg brought along would describe another device.
  if (device) msg.device = device;
  else delete msg.device;
  return msg as M;
}

/** Topics are `<name>/<metric>`, the device's name being what a dashboard shows; its id without one. */
export function metricMsgs<M extends MsgLike>(base: M | undefined, id: string, value: TelemetryResponse, shaping: Shaping<M>): M[] {
  const device = shaping.deviceOf(id);
  const name = typeof device?.name === 'string' && device.name.trim() !== '' ? device.name : id;
  return extractMetrics(value).map((m) => {
    const msg: MsgLike = base ? shaping.clone(base) : {};
    msg.topic = `${name}/${m.metric}`;
    msg.payload = m.value;
    msg.timestamp = m.timestamp;
    msg.metric = m.metric;
    msg.physical_id = id;
    if (m.unit) msg.unit = m.unit;
    if (device) msg.device = device;
    return msg as M;
  });
}

function describeFailure(id: string, error: unknown): DeviceFailure {
  if (error instanceof Error) return { physical_id: id, code: (error as { code?: string }).code, message: error.message };
  return { physical_id: id, code: undefined, message: String(error) };
}

/**
 * One msg for the whole round: the readings that came, in device order, and the devices
 * that failed in `msg.errors`, so one failing sensor does not cost the others' readings.
 * The input msg itself is sent on (there is only one msg, so nothing to copy).
 */
export function arrayMsg<M extends MsgLike>(base: M | undefined, outcomes: Outcome[]): M {
  const msg: MsgLike = base ?? {};
  msg.topic = 'leapcraft/telemetry';
  msg.payload = outcomes.filter((o) => o.value !== undefined).map((o) => o.value);
  const errors = outcomes.filter((o) => o.error !== undefined).map((o) => describeFailure(o.id, o.error));
  if (errors.length) msg.errors = errors;
  else delete msg.errors;
  return msg as M;
}

/** The msgs for `outcomes` in `mode`. Outside array mode failed devices give no msg: they go to Catch. */
export function messagesFor<M extends MsgLike>(mode: OutputMode, base: M | undefined, outcomes: Outcome[], shaping: Shaping<M>): M[] {
  if (mode === 'array') return [arrayMsg(base, outcomes)];
  const answered = outcomes.filter((o): o is Outcome & { value: TelemetryResponse } => o.value !== undefined);
  return answered.flatMap((o) => (mode === 'metric' ? metricMsgs(base, o.id, o.value, shaping) : [deviceMsg(base, o.id, o.value, shaping)]));
}
