/** The list probes: the device list (allDevices, devicePaging), topologies and things, and the `lists` point from all of them. */
import { describeList, isObject, ListShape } from './answers';
import { DoctorSession } from './session';

/** allDevices, devicePaging and a list shape; returns a device's physical id for the telemetry probes. */
export async function devices(s: DoctorSession, token: string): Promise<string | undefined> {
  let count: number | undefined;
  let first: string | undefined;
  const idOf = (item: unknown) => (isObject(item) && typeof item.physical_id === 'string' && item.physical_id !== '' ? item.physical_id : undefined);

  const allLabel = 'GET /devices?limit=-1';
  const all = await s.send(allLabel, { path: '/devices', query: { limit: -1 }, bearer: token });
  if (all) {
    if (all.status >= 200 && all.status < 300) {
      const list = s.noteList(allLabel, all.json);
      count = list.total ?? list.items.length;
      first = list.items.map(idOf).find((id) => id !== undefined);
      s.found('allDevices', 'accepted', `limit=-1 got HTTP ${all.status} with ${describeList(list)}`);
      if (list.items.length === 100) {
        s.surprise('limit=-1 answered exactly 100 devices: the server may read -1 as the default limit (100); the client then reads on from page 2');
      }
      if (list.total !== undefined && list.total !== list.items.length) {
        s.surprise(`limit=-1 answered ${list.items.length} devices of a total of ${list.total}`);
      }
    } else if (all.status === 400 || all.status === 422) {
      s.found('allDevices', 'refused', `limit=-1 got HTTP ${all.status}`);
    } else {
      s.cannotTell('allDevices', `limit=-1 got HTTP ${all.status}`);
      if (all.status === 401 || all.status === 403) s.surprise(`a token just issued was refused (HTTP ${all.status})`);
    }
  } else {
    s.noAnswer('allDevices', 'limit=-1');
  }

  const page = async (n: number) => {
    const label = `GET /devices?limit=1&page=${n}`;
    const a = await s.send(label, { path: '/devices', query: { limit: 1, page: n }, bearer: token });
    if (!a || a.status < 200 || a.status >= 300) return { answer: a, items: undefined };
    const list = s.noteList(label, a.json);
    return { answer: a, items: list.items, total: list.total };
  };
  const page1 = await page(1);
  if (!page1.items) {
    if (page1.answer) s.cannotTell('devicePaging', `page 1 got HTTP ${page1.answer.status}`);
    else s.noAnswer('devicePaging', 'page 1');
    return first;
  }
  count ??= page1.total;
  const p1 = page1.items.map((item) => idOf(item) ?? JSON.stringify(item));
  first ??= page1.items.map(idOf).find((id) => id !== undefined);
  if (p1.length === 0) {
    s.cannotTell('devicePaging', 'the account has no devices');
    return first;
  }
  if (p1.length > 1) {
    s.surprise(`limit=1 answered ${p1.length} devices: the server ignores limit`);
    s.cannotTell('devicePaging', `limit=1&page=1 answered ${p1.length} devices (limit not honoured)`);
    return first;
  }
  if (count !== undefined && count < 2) {
    s.cannotTell('devicePaging', `the account has ${count} device (paging needs at least 2)`);
    return first;
  }
  const page2 = await page(2);
  if (!page2.items) {
    if (page2.answer) s.cannotTell('devicePaging', `page 2 got HTTP ${page2.answer.status}`);
    else s.noAnswer('devicePaging', 'page 2');
    return first;
  }
  const p2 = page2.items.map((item) => idOf(item) ?? JSON.stringify(item));
  if (p2.length === 2 && p2[0] === p1[0] && p2[1] !== p1[0]) {
    s.found('devicePaging', 'cumulative', 'limit=1&page=2 answered 2 devices, the first the one of page 1: page N holds the first N·limit devices');
  } else if (p2.length === 1 && p2[0] === p1[0]) {
    s.found('devicePaging', 'ignored', 'limit=1&page=2 answered the same device as page 1: page is ignored');
  } else if (p2.length === 1) {
    s.found('devicePaging', 'offset', 'limit=1&page=2 answered 1 device, another than page 1: page N holds devices (N-1)·limit .. N·limit-1');
  } else if (p2.length === 0) {
    if (count !== undefined) s.surprise(`page 2 (limit=1) is empty though the account has ${count} devices`);
    s.cannotTell('devicePaging', `limit=1&page=2 answered no device${count === undefined ? ' (the account may have only 1)' : ''}`);
  } else {
    s.surprise(`limit=1&page=2 answered ${p2.length} devices`);
    s.cannotTell('devicePaging', `limit=1&page=2 answered ${p2.length} devices`);
  }
  return first;
}

export async function topologies(s: DoctorSession, token: string): Promise<void> {
  const label = 'GET /topologies';
  const a = await s.send(label, { path: '/topologies', bearer: token });
  if (!a || a.status < 200 || a.status >= 300) return;
  const list = s.noteList(label, a.json);
  const first = list.items.find(isObject);
  const id = first && (typeof first.gateway_id === 'string' || typeof first.gateway_id === 'number') ? String(first.gateway_id) : undefined;
  if (id !== undefined && id !== '') {
    await s.send('GET /topologies/{gateway_id}', { path: `/topologies/${encodeURIComponent(id)}`, bearer: token });
  }
}

export async function things(s: DoctorSession, token: string): Promise<void> {
  const label = 'GET /things?limit=1';
  const a = await s.send(label, { path: '/things', query: { limit: 1 }, bearer: token });
  if (!a || a.status < 200 || a.status >= 300) return;
  const list = s.noteList(label, a.json);
  if (list.items.length > 1) s.surprise(`things limit=1 answered ${list.items.length} things`);
}

/** lists: bare or envelope, the same on every list endpoint. */
export function decideLists(s: DoctorSession): void {
  if (s.lists.length === 0) return s.cannotTell('lists', 'no list answered');
  const kinds = new Set(s.lists.map((l) => l.list.kind));
  const summary = (kind: ListShape['kind']) => s.lists.filter((l) => l.list.kind === kind).map((l) => l.label.replace(/\?.*$/, ''));
  const endpoints = (kind: ListShape['kind']) => [...new Set(summary(kind))].join(', ');
  if (kinds.size === 1 && (kinds.has('bare') || kinds.has('envelope'))) {
    const kind = [...kinds][0] as 'bare' | 'envelope';
    const totals = kind === 'envelope' && s.lists.every((l) => l.list.total !== undefined) ? ' with total' : '';
    return s.found('lists', kind, `${kind === 'bare' ? 'bare arrays' : `{data: [...]}${totals}`} from ${endpoints(kind)}`);
  }
  for (const l of s.lists) {
    if (l.list.kind === 'other') s.surprise(`${l.label} answered its list under "${l.list.key}"`);
    if (l.list.kind === 'none') s.surprise(`${l.label} answered no list`);
  }
  if (kinds.has('bare') && kinds.has('envelope')) s.surprise(`bare arrays from ${endpoints('bare')}, but envelopes from ${endpoints('envelope')}`);
  s.cannotTell('lists', [...kinds].map((k) => `${k}: ${endpoints(k)}`).join('; '));
}
