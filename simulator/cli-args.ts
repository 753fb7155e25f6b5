/**
 * Command-line parsing for the simulator CLI, kept apart from cli.ts so it can be tested
 * without starting a process.
 */
import { checkDialect, dialectFromNames, DIALECTS } from './dialect';
import { MIN_MEETING_EVERY_MS } from './meetings';
import type { Dialect, DialectPoint, SimulatorOptions } from './types';

export const CLI_DEFAULT_PORT = 8787;

export const USAGE = `Usage: leapcraft-simulator [options]

Runs a local stand-in for the Leapcraft Client API (base URL http://<host>:<port>/v1).

Options:
  --port <n>              port to listen on (default 8787, or env PORT_SIMULATOR; 0 = any free port)
  --host <addr>           address to bind (default 127.0.0.1)
  --devices <n>           number of simulated devices (default 12)
  --gateways <n>          number of gateways (default 3)
  --seed <n>              seed of the generated estate and readings (default 1)
  --token-lifetime <s>    bearer token lifetime in seconds (default 3600)
  --latency <ms>          delay added before every API response (default 0)
  --api-key <key>         the API key accepted by the token exchange (default demo-key)
  --report-interval <s>   seconds between sensor reports (default 60)
  --report-jitter <s>     each report comes up to this many seconds after its slot (default 0)
  --report-jitter-share <x>  the same as a share of the period, from 0 to below 1 (default 0)
  --loss-rate <x>         the share of reports that never come, from 0 to below 1 (default 0)
  --initial-alerts <n>    alerts already present at start (default 20)
  --no-auto-alerts        do not raise CO2 alerts automatically
  --meetings <s>          every <s> seconds (at least 10) one room fills up past 1,000 ppm for a
                          few minutes, at any hour: alerts come and go (default: none)
  -h, --help              show this help

Dialects (how the simulator reads what the API docs leave open; default first in each group):
  --dialect <a,b,...>     comma-separated dialect names, e.g. --dialect expired403,lists-envelope;
                          may be repeated; a later reading of the same point wins
${dialectHelp()}
  One flag per point does the same:
  --expired-token <401|403>                 expired/revoked/unknown token status
  --refused-key <401|400|403|200>           wrong api_key: that status (200: error body, no token)
  --token-body <sample|oauth2|expires-at|jwt>
                                            the token answer: as the docs, OAuth 2, with expires_at, a JWT
  --device-paging <offset|cumulative|ignored>
  --lists <bare|envelope>                   list bodies: array, or {data: [...], total}
  --alert-order <newest|oldest>
  --alert-time <created_at|raised|none|NAME>
  --alert-ids <present|absent>
  --latest-body <point|in-array|under-data|under-result|under-reading>
                                            type=latest: the point, in an array, or under a key
  --averages <array|object|envelope|object-in-array|object-under-data|object-under-result|
              object-under-reading>
  --point-readings <nested|flat>            readings under data, or beside timestamp
  --date-times <zoneless|zone-required>
`;

function dialectHelp(): string {
  const lines: string[] = [];
  let point: DialectPoint | undefined;
  let names: string[] = [];
  const flush = (): void => {
    if (point === undefined) return;
    // One line per point, wrapped under the first name when long.
    let line = `    ${`${point}:`.padEnd(16)}`;
    names.forEach((name, i) => {
      const next = `${name}${i < names.length - 1 ? ',' : ''}`;
      if (i > 0 && line.length + next.length + 1 > 100) {
        lines.push(line);
        line = `${' '.repeat(20)}${next}`;
      } else {
        line += `${i > 0 ? ' ' : ''}${next}`;
      }
    });
    lines.push(line);
  };
  for (const d of DIALECTS) {
    if (d.point !== point) {
      flush();
      point = d.point;
      names = [];
    }
    names.push(d.name);
  }
  flush();
  return lines.join('\n');
}

export type CliParse = { kind: 'run'; options: SimulatorOptions } | { kind: 'help' } | { kind: 'error'; message: string };

type Converter = (raw: string) => Partial<SimulatorOptions> | string;

function numberFlag(flag: string, min: number, integer: boolean, build: (n: number) => Partial<SimulatorOptions>): Converter {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      return `${flag} needs ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"`;
    }
    return build(n);
  };
}

/** A share: from 0 to below 1. */
function shareFlag(flag: string, build: (n: number) => Partial<SimulatorOptions>): Converter {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !(n >= 0 && n < 1)) return `${flag} needs a number from 0 to below 1, got "${raw}"`;
    return build(n);
  };
}

/** A flag setting one dialect point; the value is checked like the `dialect` option. */
function dialectFlag<P extends DialectPoint>(flag: string, point: P, convert: (raw: string) => unknown = (raw) => raw, expected?: string): Converter {
  return (raw) => {
    try {
      return { dialect: checkDialect({ [point]: convert(raw) }) };
    } catch (err) {
      return expected !== undefined ? `${flag} must be ${expected}, got "${raw}"` : `${flag}: ${err instanceof Error ? err.message : String(err)}, got "${raw}"`;
    }
  };
}

const VALUE_FLAGS: Record<string, Converter> = {
  '--port': numberFlag('--port', 0, true, (n) => ({ port: n })),
  '--host': (raw) => (raw === '' ? '--host needs an address' : { host: raw }),
  '--devices': numberFlag('--devices', 0, true, (n) => ({ deviceCount: n })),
  '--gateways': numberFlag('--gateways', 1, true, (n) => ({ gateways: n })),
  '--seed': numberFlag('--seed', Number.MIN_SAFE_INTEGER, true, (n) => ({ seed: n })),
  '--token-lifetime': numberFlag('--token-lifetime', 0, false, (n) => ({ tokenLifetimeMs: Math.round(n * 1000) })),
  '--latency': numberFlag('--latency', 0, false, (n) => ({ latencyMs: n })),
  '--api-key': (raw) => (raw === '' ? '--api-key needs a value' : { apiKey: raw }),
  '--report-interval': numberFlag('--report-interval', 0.001, false, (n) => ({ reportIntervalMs: Math.max(1, Math.round(n * 1000)) })),
  '--report-jitter': numberFlag('--report-jitter', 0, false, (n) => ({ reportJitterMs: Math.round(n * 1000) })),
  '--report-jitter-share': shareFlag('--report-jitter-share', (n) => ({ reportJitterShare: n })),
  '--loss-rate': shareFlag('--loss-rate', (n) => ({ lossRate: n })),
  '--initial-alerts': numberFlag('--initial-alerts', 0, true, (n) => ({ initialAlerts: n })),
  '--meetings': numberFlag('--meetings', MIN_MEETING_EVERY_MS / 1000, true, (n) => ({ meetingEveryMs: n * 1000 })),
  '--dialect': (raw) => {
    if (raw.trim() === '') return '--dialect needs dialect names, e.g. expired403,lists-envelope';
    try {
      return { dialect: dialectFromNames(raw) };
    } catch (err) {
      return `--dialect: ${err instanceof Error ? err.message : String(err)}`;
    }
  },
  '--expired-token': dialectFlag('--expired-token', 'expiredToken', Number),
  '--refused-key': dialectFlag('--refused-key', 'refusedKey', (raw) => (raw === '200' ? '200-no-token' : /^\d+$/.test(raw) ? Number(raw) : raw), '401, 400, 403 or 200'),
  '--token-body': dialectFlag('--token-body', 'tokenBody'),
  '--live-tokens': dialectFlag('--live-tokens', 'liveTokens'),
  '--device-paging': dialectFlag('--device-paging', 'devicePaging'),
  '--limit-all': dialectFlag('--limit-all', 'allDevices'),
  '--lists': dialectFlag('--lists', 'lists'),
  '--alert-order': dialectFlag('--alert-order', 'alertOrder'),
  '--alert-time': dialectFlag('--alert-time', 'alertTime'),
  '--alert-ids': dialectFlag('--alert-ids', 'alertIds', (raw) => (raw === 'present' ? true : raw === 'absent' ? false : raw), 'present or absent'),
  '--latest-body': dialectFlag('--latest-body', 'latestBody'),
  '--averages': dialectFlag('--averages', 'averages'),
  '--point-readings': dialectFlag('--point-readings', 'pointReadings'),
  '--date-times': dialectFlag('--date-times', 'dateTimes'),
};

/** Parses argv (without node and script); the CLI turns automatic alerts on and seeds a backlog. */
export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliParse {
  const options: SimulatorOptions = { port: CLI_DEFAULT_PORT, autoAlerts: true, initialAlerts: 20 };
  const envPort = env.PORT_SIMULATOR;
  if (envPort !== undefined && envPort !== '') {
    const parsed = VALUE_FLAGS['--port']!(envPort);
    if (typeof parsed === 'string') return { kind: 'error', message: `PORT_SIMULATOR: ${parsed}` };
    Object.assign(options, parsed);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--no-auto-alerts') {
      options.autoAlerts = false;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const convert = VALUE_FLAGS[flag];
    if (!convert) return { kind: 'error', message: `unknown option ${arg}` };
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) return { kind: 'error', message: `${flag} needs a value` };
      raw = next;
      i += 1;
    }
    const parsed = convert(raw);
    if (typeof parsed === 'string') return { kind: 'error', message: parsed };
    const { dialect, ...rest } = parsed;
    Object.assign(options, rest);
    // Dialect flags add up; a later reading of the same point wins.
    if (dialect !== undefined) options.dialect = { ...(options.dialect as Partial<Dialect> | undefined), ...(dialect as Partial<Dialect>) };
  }
  return { kind: 'run', options };
}
