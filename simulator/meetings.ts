/**
 * Meetings: a lively building at any hour, for demos. Every `everyMs` from `origin` one room
 * fills up (the rooms take turns): its CO2 climbs from where it is towards a full room's level,
 * stays there for a few minutes, then airs out. The readings carry it (latest readings, averages,
 * and so the alerts raised from them), as a pure function of (room, time), like the rest of the
 * model. Off unless the simulator is given `meetingEveryMs`.
 */
import { hashInts } from './random';
import { SECOND } from './time';

export interface MeetingPlan {
  /** A meeting starts every this many ms. */
  everyMs: number;
  /** When meeting 0 starts (epoch ms). */
  origin: number;
  /** How many rooms take turns (the estate's device count). */
  rooms: number;
  seed: number;
}

/** CO2 of a full meeting room: above the usual 1,000 ppm alert threshold. */
const FULL_CO2 = 1370;
/** Where the rise starts from (outdoor-like air). */
const EMPTY_CO2 = 420;
/** How fast the room fills (time constant) and how long the meeting lasts. */
const FILL_MS = 30 * SECOND;
const MEETING_MS = 150 * SECOND;
/** How fast it airs out afterwards (time constant); after 6 of them nothing is left to see. */
const AIR_OUT_MS = 30 * SECOND;
const SPAN_MS = MEETING_MS + 6 * AIR_OUT_MS;

/** The meeting share of a full room at `sinceStart` ms into a meeting (0..1). */
function fill(sinceStart: number): number {
  if (sinceStart < 0 || sinceStart >= SPAN_MS) return 0;
  if (sinceStart <= MEETING_MS) return 1 - Math.exp(-sinceStart / FILL_MS);
  return (1 - Math.exp(-MEETING_MS / FILL_MS)) * Math.exp(-(sinceStart - MEETING_MS) / AIR_OUT_MS);
}

/** The room (device index) of meeting k: the rooms take turns, from a seed-chosen first one. */
function roomOf(plan: MeetingPlan, k: number): number {
  return (hashInts(plan.seed, 0x3ee7) + k) % plan.rooms;
}

/**
 * The CO2 a meeting gives room `index` at `t`, or undefined when it has none then; the model
 * takes the higher of this and the room's own.
 */
export function meetingCo2(plan: MeetingPlan | undefined, index: number, t: number): number | undefined {
  if (!plan || plan.everyMs <= 0 || plan.rooms <= 0 || t < plan.origin) return undefined;
  let highest: number | undefined;
  const last = Math.floor((t - plan.origin) / plan.everyMs);
  const first = Math.max(0, Math.floor((t - plan.origin - SPAN_MS) / plan.everyMs));
  for (let k = first; k <= last; k++) {
    if (roomOf(plan, k) !== index) continue;
    const share = fill(t - (plan.origin + k * plan.everyMs));
    if (share > 0) highest = Math.max(highest ?? 0, EMPTY_CO2 + (FULL_CO2 - EMPTY_CO2) * share);
  }
  return highest;
}

/** The shortest pause between meetings the option takes (meetings then overlap, in turns). */
export const MIN_MEETING_EVERY_MS = 10 * SECOND;
