/**
 * Ids and topics of the Home Assistant bridge. Home Assistant's MQTT discovery wants node
 * and object ids from `[a-zA-Z0-9_-]`; Leapcraft's ids are free-form (`D2:C1:AA:FF:3E:09`,
 * `testsim00004`), so they are reduced to that set in a way that is stable across restarts
 * (no counters, no arrival order) and keeps different ids apart.
 */
import { createHash } from 'node:crypto';
import { LeapcraftInvalidInputError } from '../api/errors';

/** Our namespace in Home Assistant: node ids, unique ids and device identifiers start with it. */
export const HA_NAMESPACE = 'leapcraft';

const WORD_ONLY = /^[A-Za-z0-9_]+$/;
const OBJECT_ID = /^[A-Za-z0-9_-]+$/;

function shortHash(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex').slice(0, 8);
}

/**
 * A device or gateway id as `[A-Za-z0-9_]`: unchanged when it already is, otherwise every
 * other character becomes `_` and a hash of the original is appended, so two ids that
 * reduce to the same text (`a:b`, `a.b`) stay apart. No `-`: that is the separator in
 * unique ids (see haUniqueId).
 */
export function haDeviceKey(id: string): string {
  if (WORD_ONLY.test(id)) return id;
  return `${id.replace(/[^A-Za-z0-9_]/g, '_')}_${shortHash(id)}`;
}

/** A reading key (`co2`, `pm2_5`) as an object id `[A-Za-z0-9_-]`, by the same rule. */
export function haObjectId(key: string): string {
  if (OBJECT_ID.test(key)) return key;
  return `${key.replace(/[^A-Za-z0-9_-]/g, '_')}_${shortHash(key)}`;
}

/** The ids of the components a sensor device gets besides its readings. */
export const HA_LAST_SEEN_ID = 'last_seen';
export const HA_ALERT_ID = 'alert';
/** The components other inputs give a sensor: the air-quality node's category and demand, the device's health. */
export const HA_AIR_QUALITY_ID = 'air_quality';
export const HA_DEMAND_ID = 'ventilation_demand';
export const HA_PROBLEM_ID = 'problem';
/** Where the air quality's and the problem's attributes sit in the device's state. */
export const HA_AIR_QUALITY_ATTRIBUTES = 'air_quality_attributes';
export const HA_PROBLEM_ATTRIBUTES = 'problem_attributes';
const RESERVED_IDS = new Set([HA_LAST_SEEN_ID, HA_ALERT_ID, HA_AIR_QUALITY_ID, HA_DEMAND_ID, HA_PROBLEM_ID, HA_AIR_QUALITY_ATTRIBUTES, HA_PROBLEM_ATTRIBUTES]);

/**
 * A reading key's component id: its object id, unless that is one of the bridge's own
 * components (a reading called `last_seen` or `alert`), which then gets the hash too. Every
 * other reading's component id is its object id, so its unique id (which Home Assistant keeps
 * each entity and its history by) is the one installations announced per entity hold.
 */
export function haReadingId(key: string): string {
  const id = haObjectId(key);
  return RESERVED_IDS.has(id) ? `${id}_${shortHash(key)}` : id;
}

/** The node id of a sensor in discovery topics. */
export function haNodeId(deviceKey: string): string {
  return `${HA_NAMESPACE}_${deviceKey}`;
}

/** The node id of a gateway: `leapcraft-gw_…`, which no sensor's `leapcraft_…` can equal. */
export function haGatewayNodeId(gatewayKey: string): string {
  return `${HA_NAMESPACE}-gw_${gatewayKey}`;
}

/** The node id of the bridge itself, one per base topic: `leapcraft-bridge_…`. */
export function haBridgeNodeId(baseTopic: string): string {
  return `${HA_NAMESPACE}-bridge_${haDeviceKey(baseTopic)}`;
}

/**
 * `<node id>-<object id>`. A device key never holds `-`, so the first `-` after the
 * namespace separates the two halves and no two (device, reading) pairs share a unique id.
 */
export function haUniqueId(nodeId: string, objectId: string): string {
  return `${nodeId}-${objectId}`;
}

/**
 * Home Assistant device identifiers: the raw ids (any string is allowed there), a sensor's
 * after `leapcraft_`, a gateway's after `leapcraft-gateway_`, so no physical id (even one
 * called `gateway_…`) can name a gateway's device.
 */
export function haDeviceIdentifier(physicalId: string): string {
  return `${HA_NAMESPACE}_${physicalId}`;
}

export function haGatewayIdentifier(gatewayId: string): string {
  return `${HA_NAMESPACE}-gateway_${gatewayId}`;
}

export function haBridgeIdentifier(baseTopic: string): string {
  return `${HA_NAMESPACE}-bridge_${baseTopic}`;
}

// ---- topics ---------------------------------------------------------------------------------

/** A topic prefix or topic setting: levels of `[A-Za-z0-9_.-]` joined by `/`; no wildcards. */
export const HA_TOPIC_SETTING = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;
export const HA_MAX_TOPIC_SETTING_LENGTH = 128;

/**
 * Checks a topic setting (discovery prefix, base topic, birth topic). Narrower than MQTT
 * allows, on purpose: no `+`/`#` wildcards, no empty levels, no leading or trailing `/`,
 * nothing a broker or Home Assistant could read differently.
 */
export function haTopicSetting(value: unknown, field: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '' || text.length > HA_MAX_TOPIC_SETTING_LENGTH || !HA_TOPIC_SETTING.test(text)) {
    throw new LeapcraftInvalidInputError(
      `Invalid ${field}: expected topic levels of letters, digits, _ . - separated by / (at most ${HA_MAX_TOPIC_SETTING_LENGTH} characters)`,
      { field },
    );
  }
  return text;
}

/** The Home Assistant platforms the bridge announces. */
export type HaPlatform = 'sensor' | 'binary_sensor' | 'event';

/** Where the bridge publishes, from its two topic settings. */
export class HaTopics {
  constructor(readonly discoveryPrefix: string, readonly baseTopic: string) {}

  /** Per-entity discovery: `<prefix>/<platform>/<node id>/<object id>/config` (a sensor unless said). */
  config(nodeId: string, objectId: string, platform: HaPlatform = 'sensor'): string {
    return `${this.discoveryPrefix}/${platform}/${nodeId}/${objectId}/config`;
  }

  /**
   * Device-based discovery (Home Assistant 2024.11+): `<prefix>/device/<node id>/config`. The
   * per-entity node id is the device's object id, so each component's discovery id
   * (`<node id> <component id>`) is the one its per-entity config had.
   */
  deviceConfig(nodeId: string): string {
    return `${this.discoveryPrefix}/device/${nodeId}/config`;
  }

  /** The bridge's own availability: online while the node runs (set the same as the broker's last will). */
  bridgeAvailability(): string {
    return `${this.baseTopic}/bridge/availability`;
  }

  deviceState(deviceKey: string): string {
    return `${this.baseTopic}/device/${deviceKey}/state`;
  }

  deviceAvailability(deviceKey: string): string {
    return `${this.baseTopic}/device/${deviceKey}/availability`;
  }

  gatewayState(gatewayKey: string): string {
    return `${this.baseTopic}/gateway/${gatewayKey}/state`;
  }

  /** A device's alert events (not retained). */
  deviceAlert(deviceKey: string): string {
    return `${this.baseTopic}/device/${deviceKey}/alert`;
  }

  /** The bridge's health: API reachable, rate-limited, devices polled, last poll. */
  bridgeState(): string {
    return `${this.baseTopic}/bridge/state`;
  }

  /** Alerts of devices the bridge does not know (not retained). */
  bridgeAlert(): string {
    return `${this.baseTopic}/bridge/alert`;
  }
}
