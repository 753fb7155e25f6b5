/**
 * What a CO2 reading means under the standards people are audited against: each profile
 * splits the ppm scale into categories (level 1 best), says which side a value exactly on a
 * boundary belongs to, and names the limit the daily report counts ppm·hours above. Sources
 * of every number: docs/AIR-QUALITY.md.
 */
export const AQ_PROFILES = ['en16798', 'uba', 'limit', 'custom'] as const;
export type AqProfileId = (typeof AQ_PROFILES)[number];

/** A category as every msg carries it. */
export interface AqCategory {
  /** A stable id: what a switch node or a Home Assistant enum sensor tests. */
  category: string;
  /** The category's name, for people. */
  label: string;
  /** 1 (best) … n. */
  level: number;
  /** A colour-blind-safe colour (Okabe–Ito), better to worse. */
  color: string;
}

/** The line between a level and the next: a value exactly on it belongs to the lower level unless `upper`. */
export interface Boundary {
  ppm: number;
  upper?: boolean;
}

export interface AqProfile {
  id: AqProfileId;
  categories: AqCategory[];
  /** Ascending; above the outdoor CO2 when `relative`. */
  boundaries: Boundary[];
  relative: boolean;
  /** What the report counts ppm·hours above (above the outdoor CO2 when `relative`). */
  limit: number;
}

/** The built-in profiles' categories (ids) and boundaries; the single limit and custom ones come from settings. */
const BUILT_IN: Record<'en16798' | 'uba', { ids: string[]; boundaries: Boundary[]; relative: boolean; limit: number }> = {
  // EN 16798-1:2019, Annex B, Table B.12: CO2 above outdoor for categories I–IV (550, 800, 1350 ppm,
  // "≤" each); the report limit is category II, the standard's normal level of expectation.
  en16798: { ids: ['I', 'II', 'III', 'IV'], boundaries: [{ ppm: 550 }, { ppm: 800 }, { ppm: 1350 }], relative: true, limit: 800 },
  // UBA / Ad-hoc-AG IRK/AOLG (Bundesgesundheitsblatt 2008, 51:1358–1369): < 1000 harmless,
  // 1000–2000 elevated, > 2000 unacceptable. 1000 itself is elevated, 2000 still elevated.
  uba: { ids: ['harmless', 'elevated', 'unacceptable'], boundaries: [{ ppm: 1000, upper: true }, { ppm: 2000 }], relative: false, limit: 1000 },
};

/** Okabe–Ito, good to bad: bluish green, yellow, orange, vermillion, reddish purple, black. */
const ORDERED_COLOURS = ['#009E73', '#F0E442', '#E69F00', '#D55E00', '#CC79A7', '#000000'];
/** Which of them n categories use, so that the best is green and the worst vermillion or beyond. */
const COLOURS_FOR: Record<number, number[]> = { 2: [0, 3], 3: [0, 2, 3], 4: [0, 1, 2, 3], 5: [0, 1, 2, 3, 4], 6: [0, 1, 2, 3, 4, 5] };

export function categoryColours(count: number): string[] {
  return (COLOURS_FOR[count] ?? COLOURS_FOR[6]).map((i) => ORDERED_COLOURS[i]);
}

/** The profile settings a profile is built from (see settings.ts). */
export interface ProfileSettings {
  profile: AqProfileId;
  /** The single limit profile's limit (ppm). */
  limit: number;
  /** The custom profile: ascending upper limits (ppm, "≤") and one label more than limits. */
  thresholds: number[];
  labels: string[];
}

/** The ids of a profile's categories, best first. */
export function categoryIds(settings: ProfileSettings): string[] {
  if (settings.profile === 'limit') return ['within', 'over'];
  if (settings.profile === 'custom') return [...settings.labels];
  return [...BUILT_IN[settings.profile].ids];
}

/**
 * The profile of the settings. `label` names a built-in category in the runtime's language
 * (the node's catalog); the custom profile's labels are its own.
 */
export function buildProfile(settings: ProfileSettings, label: (profile: AqProfileId, category: string) => string): AqProfile {
  const ids = categoryIds(settings);
  const colours = categoryColours(ids.length);
  const categories = ids.map((category, i) => ({
    category,
    label: settings.profile === 'custom' ? category : label(settings.profile, category),
    level: i + 1,
    color: colours[i],
  }));
  if (settings.profile === 'limit') {
    return { id: 'limit', categories, boundaries: [{ ppm: settings.limit }], relative: false, limit: settings.limit };
  }
  if (settings.profile === 'custom') {
    return { id: 'custom', categories, boundaries: settings.thresholds.map((ppm) => ({ ppm })), relative: false, limit: settings.thresholds[0] };
  }
  const { boundaries, relative, limit } = BUILT_IN[settings.profile];
  return { id: settings.profile, categories, boundaries, relative, limit };
}

/** What a relative profile's numbers are counted from: the outdoor CO2; 0 for absolute profiles. */
function base(profile: AqProfile, outdoorCo2: number): number {
  return profile.relative ? outdoorCo2 : 0;
}

/** The level of a CO2 value, as the profile's table reads (no margin, no dwell). */
export function classify(profile: AqProfile, co2: number, outdoorCo2: number): number {
  const zero = base(profile, outdoorCo2);
  let level = 1;
  for (const b of profile.boundaries) {
    const at = zero + b.ppm;
    if (co2 > at || (b.upper && co2 === at)) level++;
  }
  return level;
}

/** The report's limit in ppm for a reading taken with this outdoor CO2. */
export function limitPpm(profile: AqProfile, outdoorCo2: number): number {
  return base(profile, outdoorCo2) + profile.limit;
}
