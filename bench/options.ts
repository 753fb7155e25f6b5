/** `npm run bench` settings: the full run's defaults, the small form (--quick) and the flags. */

export const MEASUREMENTS = ['cycle', 'coalescing', 'tokens', 'soak', 'throughput', 'frugal', 'scale', 'picker', 'cluster'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface BenchOptions {
  /** N: devices of one poll cycle (and of the throughput run). */
  devices: number;
  /** Fixed latency the simulator adds to every API response, in ms. */
  latencyMs: number;
  /** Timed cycles per contender. */
  rounds: number;
  /** Extra cycles of (a), (b) and (p) for CPU per cycle. */
  cpuRounds: number;
  /** The account's concurrency (leapcraft-config), the limit's and the limited core flow's. */
  concurrency: number;
  coalescing: { nodes: number; devices: number; intervalS: number; intervals: number };
  /** Simulated clock: a cycle every stepS seconds for runS seconds, tokens living lifetimeS. */
  tokens: { devices: number; lifetimeS: number; runS: number; stepS: number; latencyMs: number };
  soak: { devices: number; cycles: number; warmup: number; sampleEvery: number };
  /**
   * Simulated time: fixed vs cadence-aware polling for `minutes`, then the request budget for `budget.hours`, then
   * sensors as they behave in the field (lost readings, jitter, faster than the interval) for `field.minutes`.
   */
  frugal: {
    devices: number; reportIntervalS: number; intervalS: number; minutes: number; steadyFromMinute: number;
    budget: { devices: number; perHour: number; intervalS: number; hours: number };
    field: { minutes: number; steadyFromMinute: number };
  };
  /** Building scale: an hour of simulated time in-process, then `nodeRedSeconds` of a real Node-RED. */
  scale: {
    devices: number; gateways: number; reportIntervalS: number; intervalS: number; minutes: number; sliceMs: number;
    nodeRedSeconds: number; steadyAfterS: number;
  };
  /**
   * The account shared through Redis: `replicas` Node-RED processes polling one account of `devices`,
   * then `accounts` accounts sharing them, every `intervalS` s; measured over `windowIntervals`.
   */
  cluster: { devices: number; accounts: number; replicas: number[]; intervalS: number; windowIntervals: number };
  /** CPU profile of the package's cycle (the inspector's sampler, as node --cpu-prof). */
  profile: boolean;
  only: Measurement[];
  /** Where RESULTS.md goes; undefined: not written. */
  out?: string;
  /** Also write the results as JSON here. */
  json?: string;
  build: boolean;
  quick: boolean;
}

export function defaultOptions(): BenchOptions {
  return {
    devices: 1000,
    latencyMs: 20,
    rounds: 5,
    cpuRounds: 15,
    concurrency: 8,
    coalescing: { nodes: 10, devices: 100, intervalS: 1, intervals: 5 },
    tokens: { devices: 100, lifetimeS: 60, runS: 600, stepS: 10, latencyMs: 20 },
    soak: { devices: 100, cycles: 10_000, warmup: 200, sampleEvery: 1000 },
    frugal: {
      devices: 100, reportIntervalS: 300, intervalS: 60, minutes: 30, steadyFromMinute: 10,
      budget: { devices: 100, perHour: 1000, intervalS: 60, hours: 3 },
      field: { minutes: 120, steadyFromMinute: 30 },
    },
    scale: { devices: 10_000, gateways: 100, reportIntervalS: 300, intervalS: 60, minutes: 60, sliceMs: 1000, nodeRedSeconds: 180, steadyAfterS: 70 },
    cluster: { devices: 1000, accounts: 10, replicas: [1, 2, 3], intervalS: 10, windowIntervals: 3 },
    profile: true,
    only: [...MEASUREMENTS],
    out: 'bench/RESULTS.md',
    build: true,
    quick: false,
  };
}

/** The small form CI runs: every measurement, on 100 devices, in well under a minute. */
export function quickOptions(): BenchOptions {
  const o = defaultOptions();
  return {
    ...o,
    devices: 100,
    rounds: 2,
    cpuRounds: 2,
    coalescing: { ...o.coalescing, intervals: 3 },
    tokens: { ...o.tokens, latencyMs: 0 },
    soak: { devices: 100, cycles: 300, warmup: 50, sampleEvery: 100 },
    // The frugal runs are simulated time (seconds of real time): the same as the full run, but two budget hours.
    frugal: { ...o.frugal, budget: { ...o.frugal.budget, hours: 2 } },
    scale: { ...o.scale, devices: 300, gateways: 3, minutes: 10, nodeRedSeconds: 8, steadyAfterS: 4 },
    cluster: { devices: 100, accounts: 10, replicas: [1, 2], intervalS: 2, windowIntervals: 3 },
    profile: false,
    out: undefined,
    quick: true,
  };
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick               the small form (100 devices, 2 rounds, 300 soak cycles, 300 devices at scale, a cluster of 1 and 2 replicas
                        every 2 s; RESULTS.md not written)
  --devices <n>         devices of one poll cycle (default 1000)
  --latency <ms>        simulator latency per request (default 20)
  --rounds <n>          timed cycles per contender (default 5)
  --cpu-rounds <n>      extra cycles of (a), (b), (p) for CPU per cycle (default 15)
  --concurrency <n>     requests on the wire at once (default 8)
  --soak-cycles <n>     soak cycles of 100 devices (default 10000)
  --intervals <n>       coalescing: poll intervals observed (default 5)
  --scale-devices <n>   building scale: devices (default 10000)
  --scale-minutes <n>   building scale: simulated minutes (default 60)
  --nodered-seconds <n> building scale: real seconds of the Node-RED run (default 180)
  --cluster-interval <s> cluster: the telemetry interval, s (default 10; the window is 3 intervals)
  --only <list>         some of: ${MEASUREMENTS.join(',')}
  --no-profile          skip the CPU profile
  --out <file>          write the report there (default bench/RESULTS.md)
  --no-write            do not write the report
  --json <file>         also write the raw results as JSON
  --no-build            use dist/ as it is (default: npm run build first)

Environment: LEAPCRAFT_BENCH_PACKAGE=<dir> measures another checkout's dist/ (a before beside an after).
`;

function positiveInt(flag: string, raw: string | undefined, min = 1): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got ${raw ?? 'nothing'}`);
  return n;
}

export function parseArgs(argv: readonly string[]): BenchOptions | 'help' {
  const o = argv.includes('--quick') ? quickOptions() : defaultOptions();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--quick': break;
      case '-h': case '--help': return 'help';
      case '--devices': o.devices = positiveInt(flag, value()); break;
      case '--latency': o.latencyMs = positiveInt(flag, value(), 0); o.tokens.latencyMs = o.quick ? 0 : o.latencyMs; break;
      case '--rounds': o.rounds = positiveInt(flag, value()); break;
      case '--cpu-rounds': o.cpuRounds = positiveInt(flag, value(), 0); break;
      case '--concurrency': o.concurrency = positiveInt(flag, value()); break;
      case '--soak-cycles': o.soak.cycles = positiveInt(flag, value()); break;
      case '--intervals': o.coalescing.intervals = positiveInt(flag, value()); break;
      case '--scale-devices': o.scale.devices = positiveInt(flag, value()); o.scale.gateways = Math.max(1, Math.ceil(o.scale.devices / 100)); break;
      case '--scale-minutes': o.scale.minutes = positiveInt(flag, value()); break;
      case '--nodered-seconds': o.scale.nodeRedSeconds = positiveInt(flag, value()); break;
      case '--cluster-interval': o.cluster.intervalS = positiveInt(flag, value()); break;
      case '--only': {
        const list = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const m of list) if (!(MEASUREMENTS as readonly string[]).includes(m)) throw new Error(`--only: unknown measurement ${m}`);
        o.only = list as Measurement[];
        break;
      }
      case '--no-profile': o.profile = false; break;
      case '--profile': o.profile = true; break;
      case '--out': o.out = value(); break;
      case '--no-write': o.out = undefined; break;
      case '--json': o.json = value(); break;
      case '--no-build': o.build = false; break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (o.tokens.lifetimeS % o.tokens.stepS !== 0 || o.tokens.runS % o.tokens.stepS !== 0) {
    throw new Error('token run: the step must divide the lifetime and the run');
  }
  return o;
}
