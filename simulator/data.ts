/**
 * The simulated estate: gateways, devices and things, generated deterministically from a seed.
 *
 * Device i depends only on (seed, i, gateway count), never on the device count, so growing the
 * estate at runtime appends devices without renaming the existing ones.
 */
import { hashInts, Rng } from './random';
import { DAY, zonelessUtc } from './time';
import type { DeviceDetails, DeviceListItem, DeviceType, Thing, TopologyListItem } from './types';

/** A device plus the hidden traits the sensor model needs. */
export interface SimDevice {
  index: number;
  item: DeviceListItem;
  firmware: string;
  /** 0..1: how full the room gets in office hours; drives CO2, noise and warmth. */
  busy: number;
  rssi: number;
  /** Picks the offset of the device's reporting grid, so devices do not all report on the same second. */
  phaseSeed: number;
  gatewayIndex: number;
}

export interface SimGateway {
  gateway_id: string;
  name: string | null;
  created_at: string;
}

export interface World {
  devices: SimDevice[];
  byId: Map<string, SimDevice>;
  gateways: SimGateway[];
  gatewayById: Map<string, SimGateway>;
  things: Thing[];
}

export interface WorldSpec {
  seed: number;
  deviceCount: number;
  gateways: number;
  thingCount: number;
}

/** Room names with how busy such a room gets (share of its peak occupancy in office hours). */
const ROOMS: ReadonlyArray<readonly [string, number]> = [
  ['Conference Room A', 0.95],
  ['Conference Room B', 0.9],
  ['Open Office 1F', 0.8],
  ['Open Office 2F', 0.85],
  ['Open Office 3F', 0.75],
  ['Kitchen', 0.6],
  ['Meeting Room Orion', 1.0],
  ['Meeting Room Vega', 0.9],
  ['Reception', 0.4],
  ['Focus Room', 0.7],
  ['Break Room', 0.55],
  ['Board Room', 0.9],
  ['Lab', 0.5],
  ['Library', 0.45],
  ['Canteen', 0.7],
  ['Classroom 101', 1.0],
  ['Corridor 2F', 0.25],
  ['Server Room', 0.1],
  ['Phone Booth', 0.75],
  ['Workshop', 0.5],
  ['Lounge', 0.45],
  ['Training Room', 0.95],
  ['Print Room', 0.2],
  ['Storage', 0.1],
];

/** 3 in 5 AirBird, 2 in 5 Ambinode, interleaved so even a small estate has both. */
const TYPE_PATTERN: readonly DeviceType[] = ['airbird', 'ambinode', 'airbird', 'airbird', 'ambinode'];

const FIRMWARE: Record<DeviceType, readonly string[]> = {
  airbird: ['1.4.2', '1.5.0', '1.5.1'],
  ambinode: ['2.3.1', '2.4.0'],
};

const ZONES = ['north', 'south', 'east', 'west', 'core'] as const;

/** Every sixth device (index 4, 10, …) carries a free-form id like the docs' `testsim00004`. */
function isFreeForm(index: number): boolean {
  return index % 6 === 4;
}

function macLike(rng: Rng): string {
  return rng.hex(6).toUpperCase().match(/../g)!.join(':');
}

function generateGateways(seed: number, count: number): SimGateway[] {
  const rng = new Rng(hashInts(seed, 0x6a7e));
  const out: SimGateway[] = [];
  const used = new Set<string>();
  const epoch2020 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < count; i++) {
    let id = rng.hex(9);
    while (used.has(id)) id = rng.hex(9);
    used.add(id);
    // One gateway is unnamed, as in the docs' sample; with a single gateway it keeps its name.
    const name = count > 1 && i === count - 1 ? null : `Gateway ${i + 1}F`;
    const created = epoch2020 + rng.int(0, 3 * 365) * DAY + rng.int(0, DAY / 1000 - 1) * 1000;
    out.push({ gateway_id: id, name, created_at: zonelessUtc(created) });
  }
  return out;
}

function generateDevice(
  spec: WorldSpec,
  index: number,
  roomOrder: ReadonlyArray<readonly [string, number]>,
  gateways: SimGateway[],
  usedIds: Set<string>,
  usedSerials: Set<string>,
): SimDevice {
  const rng = new Rng(hashInts(spec.seed, 0xde71ce, index));
  const type = TYPE_PATTERN[index % TYPE_PATTERN.length] as DeviceType;
  const [room, roomBusy] = roomOrder[index % roomOrder.length] as readonly [string, number];
  const cycle = Math.floor(index / roomOrder.length);
  const name = cycle === 0 ? room : `${room} #${cycle + 1}`;

  let physicalId: string;
  if (isFreeForm(index)) {
    physicalId = `testsim${String(index).padStart(5, '0')}`;
  } else {
    physicalId = macLike(rng);
    while (usedIds.has(physicalId)) physicalId = macLike(rng);
  }
  usedIds.add(physicalId);

  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  let serial = '';
  do {
    serial = `LC-${rng.int(2019, 2026)}-${rng.pick(letters.split(''))}${String(rng.int(0, 99)).padStart(2, '0')}`;
    if (usedSerials.has(serial)) serial += String(index);
  } while (usedSerials.has(serial));
  usedSerials.add(serial);

  const gatewayIndex = index % gateways.length;
  const gateway = gateways[gatewayIndex] as SimGateway;
  const floor = rng.int(0, 5);
  const installed = zonelessUtc(Date.UTC(2021, 0, 1) + rng.int(0, 4 * 365) * DAY).slice(0, 10);
  // Test rigs get an empty meta object, as the docs' samples show; real rooms carry placement data.
  const meta: Record<string, unknown> = isFreeForm(index)
    ? {}
    : { floor, zone: rng.pick(ZONES), installed };

  return {
    index,
    item: { name, physical_id: physicalId, serial, topology_id: gateway.gateway_id, meta, type },
    firmware: rng.pick(FIRMWARE[type]),
    busy: Math.min(1, Math.max(0.05, roomBusy + rng.range(-0.05, 0.05))),
    rssi: rng.int(-88, -48),
    phaseSeed: rng.int(0, 0x7fffffff),
    gatewayIndex,
  };
}

const THING_KINDS: ReadonlyArray<{
  kind: string;
  name: (n: number) => string;
  parameters: (rng: Rng) => Record<string, string | number | boolean>;
}> = [
  {
    kind: 'ventilation',
    name: (n) => `Ventilation unit AHU-${n}`,
    parameters: (rng) => ({
      setpoint_co2: rng.pick([700, 800, 900]),
      fan_speed: rng.int(1, 4),
      mode: rng.pick(['auto', 'manual', 'eco']),
      supply_temperature: Math.round(rng.range(17, 21) * 10) / 10,
    }),
  },
  {
    kind: 'heating',
    name: (n) => `Radiator valve RV-${n}`,
    parameters: (rng) => ({
      setpoint_temperature: Math.round(rng.range(20, 23) * 2) / 2,
      valve_position: rng.int(0, 100),
      mode: rng.pick(['comfort', 'eco', 'frost']),
    }),
  },
  {
    kind: 'lighting',
    name: (n) => `Lighting zone L${n}`,
    parameters: (rng) => ({
      level: rng.int(0, 100),
      on: rng.next() < 0.7,
      schedule: rng.pick(['08:00-18:00', '07:00-19:00', 'always']),
    }),
  },
  {
    kind: 'blinds',
    name: (n) => `Blinds B${n}`,
    parameters: (rng) => ({ position: rng.int(0, 100), tilt: rng.int(0, 90), auto: rng.next() < 0.5 }),
  },
  {
    kind: 'air_purifier',
    name: (n) => `Air purifier AP-${n}`,
    parameters: (rng) => ({ fan_speed: rng.int(1, 5), filter_life: rng.int(5, 100), ionizer: rng.next() < 0.3 }),
  },
];

function generateThings(seed: number, count: number, devices: SimDevice[]): Thing[] {
  const rng = new Rng(hashInts(seed, 0x7417));
  const out: Thing[] = [];
  const perKind = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const kind = THING_KINDS[i % THING_KINDS.length] as (typeof THING_KINDS)[number];
    const n = (perKind.get(kind.kind) ?? 0) + 1;
    perKind.set(kind.kind, n);
    // Most things are linked to one to three sensors; every seventh stands alone.
    const linked: string[] = [];
    if (devices.length > 0 && i % 7 !== 6) {
      const want = Math.min(devices.length, rng.int(1, 3));
      let k = (i * 5) % devices.length;
      while (linked.length < want) {
        const id = (devices[k] as SimDevice).item.physical_id;
        if (!linked.includes(id)) linked.push(id);
        k = (k + 1) % devices.length;
      }
    }
    out.push({
      id: `thing-${String(i + 1).padStart(3, '0')}`,
      name: kind.name(n),
      kind: kind.kind,
      parameters: kind.parameters(rng),
      devices: linked,
    });
  }
  return out;
}

export function generateWorld(spec: WorldSpec): World {
  const gateways = generateGateways(spec.seed, spec.gateways);
  const roomOrder = new Rng(hashInts(spec.seed, 0x500d)).shuffle(ROOMS);
  const usedIds = new Set<string>();
  const usedSerials = new Set<string>();
  const devices: SimDevice[] = [];
  for (let i = 0; i < spec.deviceCount; i++) {
    devices.push(generateDevice(spec, i, roomOrder, gateways, usedIds, usedSerials));
  }
  return {
    devices,
    byId: new Map(devices.map((d) => [d.item.physical_id, d])),
    gateways,
    gatewayById: new Map(gateways.map((g) => [g.gateway_id, g])),
    things: generateThings(spec.seed, spec.thingCount, devices),
  };
}

/** A fresh copy, so callers can mutate what they get without touching the world. */
export function listItem(device: SimDevice): DeviceListItem {
  return { ...device.item, meta: structuredClone(device.item.meta) };
}

export function deviceDetails(device: SimDevice): DeviceDetails {
  const { physical_id, serial, name, type, topology_id, meta } = device.item;
  return { physical_id, serial, name, type, topology_id, meta: structuredClone(meta), firmware: device.firmware };
}

export function topologyListItem(world: World, gateway: SimGateway): TopologyListItem {
  const index = world.gateways.indexOf(gateway);
  const count = world.devices.filter((d) => d.gatewayIndex === index).length;
  return { gateway_id: gateway.gateway_id, name: gateway.name, created_at: gateway.created_at, device_count: count };
}
