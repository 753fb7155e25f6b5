/** bench/RESULTS.md and the console summary, from one run's results. */
import type { Check } from './checks';
import { cpuRatio, learntMinute, perIntervalAfter, ratio } from './checks';
import { describeRun, perReplicaText, scenarioLabel, scenarios, SPREAD_WAIT_MS } from './cluster';
import type { ContenderResult, CycleResults } from './cycle';
import { delaysOf, requestsPerNewReading, steadyRequestsPerNewReading } from './frugal';
import type { ContenderRun } from './frugal-process';
import type { BenchResults } from './run';
import { fmtMs, MiB, round, Spread } from './stats';

const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const list = (xs: number[]): string => (new Set(xs).size === 1 ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`);
const ms = (s: Spread, digits = 0) => fmtMs(s, digits);
const resources = (r: Record<string, number>) =>
  Object.entries(r).sort().map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';

function checksTable(checks: Check[]): string {
  return table(['target', 'kind', 'wanted', 'measured', ''], checks.map((c) => [c.name, c.kind, c.target, c.measured, c.pass ? 'met' : '**missed**']));
}

function contender(r: CycleResults, key: string): ContenderResult {
  return r.contenders.find((c) => c.key === key)!;
}

function cycleSection(r: CycleResults): string {
  const rows = r.contenders.map((c) => [
    c.label,
    ms(c.ms),
    round(c.cpuMs.median),
    `${list(c.requests.token)} / ${list(c.requests.devices)} / ${list(c.requests.telemetry)}`,
    list(c.maxConcurrent),
    round(c.simCpuMs.median),
    c.loop ? `${round(c.loop.p99Ms.median, 1)} / ${round(c.loop.maxMs.max, 1)}` : '–',
  ]);
  const a = contender(r, 'a');
  const b = contender(r, 'b');
  const aIds = contender(r, 'a-ids');
  const bIds = contender(r, 'b-ids');
  const c = contender(r, 'c');
  const cLimited = contender(r, 'c-limited');
  const ideal = Math.ceil(r.devices / r.concurrency) * r.latencyMs;
  const listCost = (b.ms.median - bIds.ms.median) - (a.ms.median - aIds.ms.median);
  const noise = Math.max(...[a, b, aIds, bIds].map((x) => x.ms.max - x.ms.min));
  const out = [
    `## 1. One poll cycle of ${r.devices} devices (latest readings)`,
    '',
    `Simulator latency ${r.latencyMs} ms per request, concurrency ${r.concurrency}, ${r.rounds} timed rounds per contender after one`,
    'warm-up cycle each (token, sockets, JIT). Wall time: median (min–max). CPU: the contender process\'s own CPU time for',
    'the cycle (user + system), median. Requests per cycle as the simulator counted them (token / device list / telemetry).',
    'Loop delay: event-loop delay in Node-RED during the cycle, median of the p99s / worst max, in extra untimed cycles.',
    '',
    table(['contender', 'wall time', 'CPU ms', 'requests', 'max at once', 'simulator CPU ms', 'loop delay p99 / max ms'], rows),
    '',
    `- **b/a = ${round(ratio(r, 'b', 'a'), 3)}** (target ≤ 1.10). With the device ids set in the node (no device list), b/a = ${round(ratio(r, 'b-ids', 'a-ids'), 3)}.`,
    `- The floor the API sets: ${r.devices} requests, ${r.concurrency} at a time, ${r.latencyMs} ms each = ${ideal} ms; the limit takes ${round(a.ms.median)} ms.`,
    `- The package walks the device list in pages of 100 (the API's default page size: ${list(b.requests.devices)} requests) where the limit`,
    `  asks for \`limit=-1\` once. The readings of a page start while the next page loads, so what the walk costs (b) beyond`,
    `  the limit's single request, (b) − (b, ids set) − ((a) − (a, ids given)), is ${round(listCost)} ms${Math.abs(listCost) <= noise ? `, within the rounds' spread (up to ${round(noise)} ms from fastest to slowest)` : ''}.`,
    `- **c/b = ${round(ratio(r, 'c', 'b'), 3)}** for the core-node flow without a limit: it sends all ${r.devices} requests at once (up to`,
    `  ${Math.max(...c.maxConcurrent)} on the wire), which only a server without rate limits takes, and blocks Node-RED's event loop`,
    `  (p99 ${round(c.loop?.p99Ms.median ?? NaN)} ms, max ${round(c.loop?.maxMs.max ?? NaN)} ms: every other flow of that Node-RED waits meanwhile).`,
    `  With the package's concurrency built from core nodes, **c/b = ${round(ratio(r, 'c-limited', 'b'), 3)}**, with`,
    `  ${round(cLimited.cpuMs.median / b.cpuMs.median, 2)}× the package's CPU and a token exchange in every cycle.`,
  ];
  return [out.join('\n'), cpuSection(r)].join('\n\n');
}

function cpuSection(r: CycleResults): string {
  const a = contender(r, 'a');
  const b = contender(r, 'b');
  const p = r.contenders.find((c) => c.key === 'p');
  const n = r.nodeRedOnly;
  const threads = (c: ContenderResult) => (c.threads ? [round(c.threads.mainMs.median), round(c.threads.otherMs.median)] : ['–', '–']);
  const rows: Array<Array<string | number>> = r.contenders.map((c) => [
    c.label, c.cpuCycles, `${round(c.cpuMs.median)} (${round(c.cpuMs.q1)}–${round(c.cpuMs.q3)}; ${round(c.cpuMs.min)}–${round(c.cpuMs.max)})`, ...threads(c), round(cpuRatio(r, c.key, 'a'), 2),
  ]);
  if (n) rows.push(['(n) Node-RED alone: a function node sending the same msgs, no requests', n.cpuMs.n, `${round(n.cpuMs.median)} (${round(n.cpuMs.q1)}–${round(n.cpuMs.q3)}; ${round(n.cpuMs.min)}–${round(n.cpuMs.max)})`, '–', '–', round(n.cpuMs.median / a.cpuMs.median, 2)]);
  const lines = [
    '### CPU per cycle',
    '',
    'The contender process\'s CPU time (user + system, every thread) from the trigger to the last msg: median (middle half;',
    `min–max) over the timed rounds and, for (a), (b) and (p), ${r.cpuRounds} more rounds of those three alone (interleaved the same way):`,
    'one cycle\'s CPU varies a lot on a shared 2-core machine (a major garbage collection falls in one cycle and not the next), so',
    'the compared figures are taken over more cycles. Split by thread from /proc (10 ms ticks), medians: the main thread runs the',
    'JavaScript, the helper threads are V8\'s (garbage collection, compilation) and libuv\'s.',
    '',
    table(['contender', 'cycles', 'CPU ms', 'main thread ms', 'helper threads ms', 'over (a)'], rows),
    '',
    `- **(b)/(a) = ${round(cpuRatio(r, 'b', 'a'), 2)}** (target ≤ 1.3): ${round(b.cpuMs.median)} ms against ${round(a.cpuMs.median)} ms for ${r.devices} requests.`,
  ];
  if (p && n) {
    const rest = b.cpuMs.median - p.cpuMs.median - n.cpuMs.median;
    lines.push(
      `- What (b) does that (a) does not, measured apart: the package alone (p: the same lib/ code from dist/, the account's client and`,
      `  scheduler, msgs shaped with Node-RED's cloneMessage, in a plain process) costs ${round(p.cpuMs.median)} ms, **(p)/(a) = ${round(cpuRatio(r, 'p', 'a'), 2)}**;`,
      `  Node-RED carrying ${r.devices} such msgs from a function node to the sink (n) costs ${round(n.cpuMs.median)} ms.`,
      rest > 0
        ? `  The rest of (b) − (p) − (n) = ${round(rest)} ms is what the two cost together beyond their sum, mostly garbage collection in Node-RED's larger heap (see the helper threads).`
        : `  (b) − (p) − (n) = ${round(rest)} ms: together they cost no more than apart (within the cycles' spread).`,
    );
  }
  return lines.join('\n');
}

function profileSection(r: CycleResults): string {
  if (!r.profile) return '';
  const p = r.profile;
  const share = (area: string) => p.areas.find((x) => x.area === area)?.share ?? 0;
  return [
    '### Where (b) spends its CPU',
    '',
    `Sampling CPU profile (the inspector's profiler, as \`node --cpu-prof\` writes) of (b)'s process over 2 cycles of ${r.devices} devices:`,
    `${round(p.totalMs)} ms of samples.`,
    '',
    table(['area', 'self ms', 'share'], p.areas.map((x) => [x.area, round(x.selfMs), `${x.share} %`])),
    '',
    'Top functions by self time (idle excluded):',
    '',
    table(['function', 'where', 'area', 'self ms', 'share'], p.top.map((x) => [`\`${x.fn}\``, x.where ? `\`${x.where}\`` : '', x.area, round(x.selfMs, 1), `${x.share} %`])),
    '',
    `The process is idle (waiting for the network) for ${share('idle')} % of the cycle; the package's own functions take ${share('this package')} %,`,
    `axios ${share('axios')} %, Node.js itself ${share('Node.js core')} %, the garbage collector ${share('garbage collector')} % (its main-thread pauses; its helper`,
    'threads are not sampled: see the CPU table above). The largest items are the socket writes (`writeLatin1String`: the',
    'write system call of each request) and axios setting up each request, which the limit pays alike.',
  ].join('\n');
}

function coalescingSection(r: NonNullable<BenchResults['coalescing']>): string {
  return [
    `## 2. Coalescing: ${r.nodes} telemetry nodes on the same ${r.devices} devices`,
    '',
    `${r.nodes} leapcraft-telemetry nodes on one account, each set to the same ${r.devices} device ids, polling every ${r.intervalS} s`,
    '(the shortest interval the node allows), each into its own sink. A round is read from the simulator\'s request log: the',
    'scheduler asks for the devices in the same order every round, so a round runs from one request for the first device to the',
    'next; only complete rounds are counted.',
    '',
    table(['', 'measured'], [
      ['telemetry requests in each complete round', r.perRound.join(', ')],
      ['different devices in each round', r.distinctPerRound.join(', ')],
      ['telemetry requests per second over the complete rounds', `${round(r.perInterval / r.intervalS, 1)} (a round takes ${round((r.devices / r.perInterval) * r.intervalS, 2)} s)`],
      ['msgs per node (each node gets every reading)', `${Math.min(...r.msgsPerNode)}–${Math.max(...r.msgsPerNode)}`],
      [`without sharing it would be`, `${r.nodes * r.devices} per interval`],
    ]),
    '',
    'A round is paced over the interval (interval/N between requests), each step due interval/N after the previous one was',
    'due, so the late firing of the N timers does not add up and a round keeps its interval; no device is ever asked for',
    'twice within a round.',
  ].join('\n');
}

function tokenSection(r: NonNullable<BenchResults['tokens']>): string {
  return [
    `## 3. Token economy: ${r.runS / 60} simulated minutes, ${r.lifetimeS} s token lifetime`,
    '',
    `The simulator runs on a clock of its own that stands still and moves ${r.stepS} s before each cycle, so ${r.runS / 60} minutes`,
    `take seconds and every expiry falls at a cycle's start. A cycle is a msg into leapcraft-telemetry with its ${r.devices} devices set:`,
    'all of them at the account\'s concurrency, so the requests on the wire at an expiry meet the expired token together.',
    '',
    table(['', 'measured'], [
      ['cycles (simulated t = 0 … run)', r.cycles],
      ['token lifetimes elapsed', r.lifetimesElapsed],
      ['token exchanges the API received', `**${r.exchanges}** (target ${r.lifetimesElapsed + 1})`],
      ['token exchanges the client counted', r.clientExchanges],
      ['requests refused with 401 (each replayed once)', `${r.refused} (${round(r.refused / Math.max(1, r.lifetimesElapsed), 1)} per expiry)`],
      ['readings delivered', `${r.telemetryOk} of ${r.cycles * r.devices}, ${r.errors} errors`],
    ]),
    '',
    'The client keeps a token until the API refuses it (the API tells no lifetime), so one exchange per lifetime is the least a',
    'client can do; several requests refused at once share one exchange. Only the requests already on the wire at the expiry',
    '(at most the concurrency) are refused: a request still waiting for a slot takes the token current when it gets one.',
  ].join('\n');
}

function soakSection(r: NonNullable<BenchResults['soak']>): string {
  const mib = (b: number) => `${round(b / MiB, 2)}`;
  return [
    `## 4. Soak: ${r.cycles} cycles of ${r.devices} devices`,
    '',
    `leapcraft-telemetry in Node-RED, its ${r.devices} devices set, one msg per cycle, the next as soon as the ${r.devices} msgs of the last`,
    `are in; the simulator answers at once (latency 0). ${r.cycles} cycles (${r.cycles * r.devices} requests and msgs) after ${r.warmup} warm-up`,
    `cycles, in ${round(r.ms / 1000, 1)} s (a cycle: ${fmtMs(r.cycleMs, 1)}). Heap and RSS after two forced collections (\`--expose-gc\`).`,
    '',
    table(['after cycle', 'heap used MiB', 'RSS MiB'], r.samples.map((x) => [x.cycle, mib(x.heapUsed), mib(x.rss)])),
    '',
    `- **Heap growth: ${mib(r.heapGrowth)} MiB** (target < 5 MiB); RSS growth: ${mib(r.rssGrowth)} MiB.`,
    `- Active handles and requests (\`process.getActiveResourcesInfo()\`) before the flow was deployed: ${resources(r.resourcesBefore)}.`,
    `- While deployed (after the soak): ${resources(r.resourcesOpen)}.`,
    `- After the flow was closed (a deploy of an empty workspace): ${resources(r.resourcesAfterClose)}.`,
    `- **Left over after close: ${resources(r.leftover)}** (target none).`,
    `- Idle keep-alive sockets are unref'd and so not among the active handles: the simulator counted ${r.connectionsOpen} connections`,
    `  from Node-RED while the flow was deployed and **${r.connectionsAfterClose} after close**.`,
  ].join('\n');
}

function throughputSection(r: NonNullable<BenchResults['throughput']>): string {
  return [
    `## 5. Throughput: msgs per second leapcraft-telemetry emits`,
    '',
    `A msg into the node (no ids: the device list, then all ${r.devices} devices), the simulator answering at once, timed to the`,
    'last msg at the sink. `metric` mode sends one msg per reading (4 or 5 per device, by model).',
    '',
    table(['output mode', 'msgs per cycle', 'cycle', 'msgs per second', 'CPU ms per cycle'],
      r.modes.map((x) => [x.output, x.msgsPerCycle, fmtMs(x.ms), `**${Math.round(x.msgsPerSecond.median)}** (${Math.round(x.msgsPerSecond.min)}–${Math.round(x.msgsPerSecond.max)})`, round(x.cpuMs.median)])),
  ].join('\n');
}

const secs = (x: number) => `${round(x, 1)} s`;

function frugalSection(r: NonNullable<BenchResults['frugal']>): string {
  const c = r.compare;
  const [fixed, aware] = [c.runs.find((x) => !x.cadence)!, c.runs.find((x) => x.cadence)!];
  const steady = (x: ContenderRun) => (x.steady.newReadings ? round(x.steady.telemetryRequests / x.steady.newReadings, 2) : '–');
  const delays = (x: ContenderRun) => {
    const d = delaysOf(x);
    return `${secs(d.medianS)} / ${secs(d.p95S)} / ${secs(d.maxS)}`;
  };
  const b = r.budget;
  const bruns = b.runs;
  const minutes = c.minutes;
  return [
    `## 6. Frugal polling: ${c.devices} sensors reporting every ${c.reportIntervalS} s, polled every ${c.intervalS} s`,
    '',
    'Simulated time. The package\'s poll path (what leapcraft-telemetry runs: the account\'s device-list key every 10 min, one key',
    'per device on the account\'s scheduler, lib/telemetry shaping the msgs; bench/poller.ts, from dist/) runs in a process whose',
    'setTimeout, clearTimeout, setInterval, clearInterval and Date are sinon\'s fake timers. Its requests are real: HTTP through the',
    'real client (axios, keep-alive, concurrency 8) to real simulators in the same process whose clock is the same fake one. The',
    'clock moves from one timer to the next; after each it stands still while the real event loop runs until every request that',
    'timer started is answered, so a request and its answer take no simulated time (the simulator answers at once). Fixed and',
    'cadence-aware polling run side by side on the same clock, each against a simulator of its own with the same seed (the same',
    `sensors, reporting at the same instants). A reading is new when its timestamp was not seen before for that device and is not`,
    'older than the start (the reading already there when polling began is counted apart); its delay is the simulated time of',
    `its first msg minus its timestamp. ${minutes} simulated minutes take ${round(c.realMs / 1000, 1)} s.`,
    '',
    table(['', fixed.label, aware.label], [
      [`telemetry requests in ${minutes} min`, fixed.telemetryRequests, aware.telemetryRequests],
      [`new readings that reached a msg (the sensors reported ${c.reported})`, fixed.newReadings, aware.newReadings],
      ['**requests per new reading**', `**${round(requestsPerNewReading(fixed), 2)}**`, `**${round(requestsPerNewReading(aware), 2)}**`],
      [`the same from minute ${c.steadyFromMinute} on (learning over)`, steady(fixed), steady(aware)],
      ['requests per reading, the one there at the start included', round(fixed.telemetryRequests / (fixed.newReadings + fixed.initialReadings), 2), round(aware.telemetryRequests / (aware.newReadings + aware.initialReadings), 2)],
      ['**delay from a reading\'s timestamp to its msg**: median / p95 / max', delays(fixed), delays(aware)],
      ['msgs (cadence-aware keys still emit at every interval, from the cache)', fixed.msgs, aware.msgs],
      ['round visits answered from the cache, without a request', fixed.servedFromCache, aware.servedFromCache],
      ['every request the API received (token and device list included)', fixed.apiRequests, aware.apiRequests],
      ['errors', fixed.errors, aware.errors],
    ]),
    '',
    `### With a request budget of ${r.budgetPerHour} requests per hour`,
    '',
    `${b.devices} devices polled every ${b.intervalS} s (every device), sensors every ${b.reportIntervalS} s, the account's budget set to ${r.budgetPerHour}/h, ${b.minutes / 60} simulated`,
    'hours, the same harness. Requests are the ones the API (the simulator) received, token exchange and device list included,',
    'counted per clock hour of the run and in the busiest rolling hour (any 60 minutes).',
    '',
    table(['', ...bruns.map((x) => x.label)], [
      ['requests per hour the keys need at their set interval', ...bruns.map((x) => round(x.budget?.neededPerHour ?? NaN))],
      ['intervals stretched by', ...bruns.map((x) => `${round(x.budget?.stretch ?? NaN, 2)}×`)],
      ['requests planned per hour (90 % of the budget)', ...bruns.map((x) => round(x.budget?.plannedPerHour ?? NaN))],
      ['**requests the API received in each clock hour**', ...bruns.map((x) => `**${x.perClockHour.join(', ')}**`)],
      ['**most requests in any rolling hour**', ...bruns.map((x) => `**${x.maxRollingHour}**`)],
      ['**reads per device per hour** (fewest–most, over every device and hour)', ...bruns.map((x) => `**${Math.min(...x.minReadsPerDeviceHour)}–${Math.max(...x.maxReadsPerDeviceHour)}**`)],
      ['new readings that reached a msg', ...bruns.map((x) => x.newReadings)],
      ['errors', ...bruns.map((x) => x.errors)],
    ]),
    '',
    'The budget stretches every key\'s interval by one factor so the plan fills 90 % of it (the rest absorbs late re-checks,',
    'retries and msgs that ask), and a rolling-hour count holds the rest back: no request starts that would exceed it. Every',
    'device is still read, each as often as the others.',
    '',
    fieldSection(r.field),
  ].join('\n');
}

/** Section 6's field habits: sensors that lose readings, jitter, or report faster than the poll, beside exact ones. */
function fieldSection(f: NonNullable<BenchResults['frugal']>['field']): string {
  const runs = f.runs;
  const fmt = (x: number) => round(x, 2).toFixed(2);
  const delays = (x: ContenderRun) => {
    const d = delaysOf(x);
    return `${secs(d.medianS)} / ${secs(d.p95S)} / ${secs(d.maxS)}`;
  };
  return [
    `### Sensors as they behave in the field`,
    '',
    `${f.devices} sensors every ${f.reportIntervalS} s polled every ${f.intervalS} s, cadence-aware, ${f.minutes} simulated minutes, the same harness; each column`,
    'a simulator of its own whose sensors have one habit (`lossRate: 0.1`; `reportJitterShare: 0.3`, each report up to 30 % of',
    `the period after its slot; \`reportIntervalS: ${f.intervalS / 2}\`), seeded, so every run sees the same readings. The figures from minute ${f.steadyFromMinute} on`,
    'are past learning. A lost reading costs its slot\'s look and one re-check; a jittery sensor is looked at where most of its',
    'readings come and re-checked at the latest seen; a sensor faster than the interval follows the rounds (the freshest reading',
    'each interval).',
    '',
    table(['', ...runs.map((x) => x.label)], [
      [`telemetry requests in ${f.minutes} min`, ...runs.map((x) => x.telemetryRequests)],
      ['new readings that reached a msg', ...runs.map((x) => x.newReadings)],
      ['requests per new reading, the whole run', ...runs.map((x) => fmt(requestsPerNewReading(x)))],
      [`**requests per new reading from minute ${f.steadyFromMinute}**`, ...runs.map((x) => `**${fmt(steadyRequestsPerNewReading(x))}**`)],
      [`requests per sensor and interval from minute ${f.steadyFromMinute} (fewest–most)`, ...runs.map((x) => `${x.perInterval.min}–${x.perInterval.max}`)],
      ['intervals with a new reading', ...runs.map((x) => `${x.perInterval.withNews} of ${x.perInterval.intervals}`)],
      ['delay from a reading\'s timestamp to its msg: median / p95 / max', ...runs.map(delays)],
      ['errors', ...runs.map((x) => x.errors)],
    ]),
  ].join('\n');
}

function scaleSection(r: NonNullable<BenchResults['scale']>): string {
  const mib = (b: number) => round(b / MiB, 1);
  const hours = r.hours;
  const cell = (f: (h: (typeof hours)[number]) => string | number) => hours.map(f);
  const after = (h: (typeof hours)[number], from: number) => {
    const x = perIntervalAfter(h.perMinute, from);
    return `${x.median} (${x.min}–${x.max})`;
  };
  const first = (h: (typeof hours)[number]) => h.samples[0]!;
  const last = (h: (typeof hours)[number]) => h.samples[h.samples.length - 1]!;
  const n = r.nodeRed;
  const loop = (l: typeof n.loopAll) => `${round(l.p50Ms, 1)} / ${round(l.p99Ms, 1)} / ${round(l.maxMs, 1)} ms`;
  const minutes = hours[0]?.minutes ?? 0;
  const learnt = learntMinute(minutes);
  return [
    `## 7. Building scale: ${r.devices} devices on ${r.gateways} gateways`,
    '',
    `One account, one leapcraft-telemetry polling every device (no ids set: the device list), latest readings, every ${r.intervalS} s;`,
    `sensors report every ${r.reportIntervalS} s. Serving the whole list (\`GET /devices?limit=-1\`, ${round((hours[0]?.listBytes ?? 0) / 1024 / 1024, 1)} MB) takes the simulator ${round(hours[0]?.listMs ?? NaN)} ms.`,
    '',
    `### An hour of simulated time`,
    '',
    'The package\'s poll path (bench/poller.ts, as in section 6) on sinon\'s fake clock, moved in slices of',
    `${round((hours[0]?.sliceMs ?? NaN) / 1000, 1)} s of simulated time: sinon\'s tickAsync fires the slice\'s timers in order and lets the real event loop run between`,
    'them, so answers arrive meanwhile; at the end of each slice the clock stands still until every request is answered (a request',
    'may be answered up to a slice after it was sent). The simulator runs in a worker thread of the same process on the same fake',
    'clock (shared memory), with an event loop and a heap of its own: the heap figures are the package\'s alone, the RSS is the',
    'whole process\'s, the simulator\'s included. Heap: `heapUsed` after two forced collections (`--expose-gc`).',
    '',
    table(['', ...hours.map((h) => (h.cadence ? 'cadence-aware' : 'fixed interval'))], [
      ['telemetry requests in the first interval (the first round, from the device list)', ...cell((h) => h.perMinute[0] ?? NaN)],
      [`**telemetry requests per interval** after ${learnt} min: median (min–max)`, ...cell((h) => `**${after(h, learnt)}**`)],
      ['telemetry requests in the hour', ...cell((h) => h.telemetryRequests)],
      ['device-list requests', ...cell((h) => h.listRequests)],
      ['msgs, errors', ...cell((h) => `${h.msgs}, ${h.errors}`)],
      [`**heap used after GC**, minute ${learnt} (every key has learnt) → ${hours[0] ? last(hours[0]).minute : ''}`, ...cell((h) => {
        const from = h.samples.find((x) => x.minute >= learnt) ?? first(h);
        return `**${mib(from.heapUsed)} → ${mib(last(h).heapUsed)} MiB** (${round((last(h).heapUsed - from.heapUsed) / MiB, 2)})`;
      })],
      [`heap used after GC, minute ${hours[0] ? first(hours[0]).minute : ''} → ${hours[0] ? last(hours[0]).minute : ''}`, ...cell((h) => `${mib(first(h).heapUsed)} → ${mib(last(h).heapUsed)} MiB (${round((last(h).heapUsed - first(h).heapUsed) / MiB, 2)})`)],
      ['heap used after GC at each sample (minute: MiB)', ...cell((h) => h.samples.map((x) => `${x.minute}: ${mib(x.heapUsed)}`).join(', '))],
      ['RSS (the process, the simulator worker included)', ...cell((h) => `${mib(first(h).rss)} → ${mib(last(h).rss)} MiB`)],
      ['the simulator worker\'s own heap', ...cell((h) => `${mib(first(h).simHeapUsed)} → ${mib(last(h).simHeapUsed)} MiB`)],
      ['CPU of the main thread (package, HTTP client, fake clock) for the hour', ...cell((h) => `${round(h.mainCpuMs / 1000, 1)} s`)],
      ['real time the simulated hour took', ...cell((h) => `${round(h.realMs / 1000, 1)} s`)],
      ['the node\'s close (every device unsubscribed, as a redeploy does)', ...cell((h) => `${round(h.closeMs)} ms`)],
    ]),
    '',
    `### A real Node-RED for ${n.seconds} s`,
    '',
    `The same flow in a real Node-RED (its own process; the simulator in another, ${n.latencyMs} ms per request), deployed and left polling for`,
    `${n.seconds} s of real time: cadence-aware keys are still learning then (two readings each, ${r.reportIntervalS} s apart), so this is the`,
    'heavier fixed-interval load. Event-loop delay: `monitorEventLoopDelay` (1 ms resolution) in the Node-RED process, from the',
    'deploy (first device list, every key subscribed, the first round) to the end, and apart after the first round.',
    '',
    table(['', 'measured'], [
      ['**event-loop delay p50 / p99 / max**, from the deploy', `**${loop(n.loopAll)}**`],
      ['the same after the first round', loop(n.loopSteady)],
      ['telemetry requests in each whole minute after the deploy', n.perMinute.join(', ') || '–'],
      ['device-list requests', n.listRequests],
      ['msgs, errors', `${n.msgs}, ${n.errors}`],
      ['heap used after GC / RSS before the deploy', `${mib(n.memoryStart.heapUsed)} / ${mib(n.memoryStart.rss)} MiB`],
      ['heap used after GC / RSS at the end', `${mib(n.memoryEnd.heapUsed)} / ${mib(n.memoryEnd.rss)} MiB`],
      ['the redeploy that closed the node', `${round(n.closeMs)} ms`],
    ]),
  ].join('\n');
}

function pickerSection(r: NonNullable<BenchResults['picker']>): string {
  return [
    `### The editor: the device picker on ${r.devices} devices`,
    '',
    'The `npm start` demo (a real Node-RED with its editor), an account on a simulator of this size (its own process,',
    `${r.latencyMs} ms per request) deployed beside it, and leapcraft-devices' dialog opened in ${r.chromium.startsWith('1') ? `Chromium ${r.chromium}` : r.chromium}`,
    '(headless, playwright-core). Focusing the empty device field reads the account\'s device list from the API through the',
    'admin route; typing narrows it in the browser. A list counts as shown when every suggestion contains what was typed',
    '(checked on every animation frame).',
    '',
    table(['typed', 'suggestions', 'time'], [
      ['(focus, nothing typed): the list read from the API', r.listShown, `**${r.listMs} ms**`],
      ...r.filtered.map((f) => [`"${f.typed}"`, f.shown, `**${f.ms} ms**`]),
    ]),
  ].join('\n');
}

function clusterSection(r: NonNullable<BenchResults['cluster']>): string {
  const replicas = [...new Set(r.runs.map((x) => x.replicas))];
  const tables = scenarios(r.runs).flatMap((runs) => [
    `### ${scenarioLabel(runs[0]!)}`,
    '',
    table(['replicas', 'API requests per interval (the simulator)', 'per replica (its clients)', 'accounts led', 'CPU per replica, s/min', 'msgs per interval per replica', 'leads spread after; longest without a leader', 'redis-server CPU, s/min'],
      runs.map((x) => [
        x.replicas,
        `**${round(x.totalPerInterval)}** (telemetry ${round(x.telemetryPerInterval)})`,
        perReplicaText(x.perReplica.map((p) => p.requestsPerInterval)),
        `${x.perReplica.map((p) => p.leads).join('/')}${x.unled ? ` (${x.unled} without one leader)` : ''}`,
        `**${perReplicaText(x.perReplica.map((p) => p.cpuSPerMin), 2)}**${x.replicas > 1 ? ` (${round(x.perReplica.reduce((n, p) => n + p.cpuSPerMin, 0), 2)} in all)` : ''}`,
        perReplicaText(x.perReplica.map((p) => p.msgsPerInterval)),
        `${Number.isNaN(x.spreadMs) ? `not within ${SPREAD_WAIT_MS / 1000} s` : `${round(x.spreadMs / 1000, 1)} s`}; ${round(x.longestUnledMs / 1000, 1)} s${x.roleChanges ? `; ${x.roleChanges} role changes in the window` : ''}`,
        round(x.redisCpuSPerMin, 2),
      ])),
    '',
    ...runs.map((x) => `- ${describeRun(x)}.`),
    '',
  ]);
  return [
    `## 8. Cluster on Redis: ${replicas.join(', ')} replicas`,
    '',
    `A real redis-server and ${Math.max(...replicas)} Node-RED processes (as in section 1), the simulator in a process of its own`,
    `(${r.latencyMs} ms per request). The same flow is deployed to every replica at once with \`LEAPCRAFT_REDIS_URL\` set: one`,
    `leapcraft-telemetry per account, every device (no ids set: the device list), latest readings, every ${r.intervalS} s, cadence off`,
    `(so requests per interval compare), emitting on every replica; concurrency ${r.concurrency}. One account of ${r.devices} devices, then`,
    `${r.accounts} accounts (one simulator accepting as many keys: an account is its base URL and key). Each run has a fresh Redis.`,
    'It waits until every account has one leader and each replica leads its fair share (⌈accounts / replicas⌉ or',
    `⌊accounts / replicas⌋), then an interval (not spread ${SPREAD_WAIT_MS / 1000} s after the deploy: it measures then), and measures over`,
    `${r.windowIntervals} intervals: the requests the simulator received (token, device list and telemetry), the requests each replica's`,
    'clients sent, each replica\'s CPU (user + system, from `/proc/<pid>/stat`: the whole Node-RED process, 10 ms ticks), the',
    'msgs each emitted, and each account\'s role as its leapcraft-config logged it ("leads the account (fence N)", "follows the',
    'account\'s leader"), read every 200 ms or so until the window (the longest an account went without one leader from the',
    'deploy on, its first lease included) and at the window\'s start and end. Every replica emits every device\'s msg each',
    'interval (Emit: every interval; Replicas: every replica): a follower\'s CPU is carrying those msgs and the leader\'s answers',
    'from Redis, the leader\'s adds the polling.',
    '',
    ...tables,
  ].join('\n');
}

const method = (nodeRed: string) => `## How it is measured

- **Processes.** The simulator runs in a process of its own, and so does every contender: (a) a plain Node.js process,
  (b) and (c) each a Node-RED ${nodeRed} of its own. The machine has two cores: no contender shares an event loop with the
  simulator or with another contender. The orchestrator (\`bench/run.ts\`) only drives them over IPC; each contender times
  its own cycle with \`performance.now()\`.
- **Node-RED** is embedded as a library (\`RED.init\`/\`RED.start\`, editor and HTTP nodes off) with this package loaded from
  \`dist/\` through a linked user directory, as an installed package is loaded. A cycle starts when the flow's inject node
  receives a msg (what a click or a timer gives it) and ends when the sink, a core junction node, has received the N-th msg,
  counted on the node's input event in the same process: no file or HTTP sink to add time of its own.
- **(a) the limit**: axios (the package's HTTP client) on a keep-alive \`http.Agent\` with \`maxSockets\` = the concurrency, one
  token exchanged before timing, then \`GET /devices?limit=-1\` and one \`GET /telemetry/{id}?type=latest\` per device from a
  pool of concurrency workers; bodies read as text and \`JSON.parse\`d, as the package does. No validation, retries or msgs.
- **(b) leapcraft-telemetry**: inject → leapcraft-telemetry (no devices set, interval 0, one msg per device) → sink, on a
  leapcraft-config with the same concurrency. The input-triggered cycle is measured because polled rounds are paced over
  their interval on purpose (at most 1 s, or interval/N, between requests), so their wall time is the interval itself.
- **(c) the core-node flow** a user builds: inject (key from an environment variable) → function (form body) → http request
  POST /auth/client/token → function (bearer header) → http request GET /devices?limit=-1 → function (bearer header again:
  the http request node replaces \`msg.headers\` with the response's) → split → http request GET /telemetry/{{{payload.physical_id}}}
  → sink; keep-alive on in every http request node. The http request node has no concurrency limit: the split sends all N
  msgs at once and all N requests go out together ("no limit"). The variant "N at once" holds the same concurrency as the
  package with core nodes: a delay node in rate-limit mode queueing msgs at one a day lets msgs through only when flushed;
  each response sends \`{flush: 1}\` back to it and a switch on \`msg.parts.index\` primes the first concurrency − 1. A delay
  node in plain rate-limit mode would cap requests per second, not requests in flight, so it is not used.
- **Fairness.** One warm-up cycle per contender (token, sockets, JIT), then the timed rounds interleaved (every contender
  once per round, the order rotated each round) so that load from elsewhere falls on all alike. Requests are counted by the
  simulator per cycle.
- **Event-loop delay**: \`perf_hooks.monitorEventLoopDelay\` at 1 ms resolution (so an idle loop reads about 1 ms) in extra,
  untimed cycles, since its timer would add work to the timed ones.
- **CPU profile**: the inspector's sampling profiler (what \`node --cpu-prof\` writes), 200 µs interval, over two cycles of
  (b) in its own process; self time per function and per area (this package, Node-RED, axios, Node.js itself).
- **(p) the package alone** (\`bench/package-process.ts\`): the code leapcraft-telemetry runs for a msg (lib/telemetry/on-demand.ts,
  the account's client and scheduler, msgs shaped with Node-RED's \`cloneMessage\`), from \`dist/\`, in a plain Node.js process;
  **(n) Node-RED alone**: a function node sending the N msgs (b) sends to the same sink, no requests. CPU by thread from
  \`/proc/<pid>/task\` (Linux, 10 ms ticks) around each timed cycle.
- **Simulated time** (sections 6 and 7): sinon's fake timers in the measuring process; requests are real HTTP to simulators
  whose \`now\` is the same fake clock (in the process, or in a worker thread through shared memory). See each section.
  \`LEAPCRAFT_BENCH_PACKAGE=<dir>\` measures another checkout's \`dist/\` (a before beside an after).
`;

const findings = (r?: CycleResults) => `## What the benchmark found, and what was changed

The first runs of this benchmark missed the b/a target and showed requests the API did not need; the causes were found
with its figures and profile and fixed in the package:

- **b/a was 1.115** (N = 1000: (b) 3058 ms, (a) 2742 ms). The profile showed no CPU cause: (b)'s process was idle 81 % of
  the cycle and the package's own functions took 1.3 % of the samples. The cause was latency: with no ids, the node walked
  the device list page by page (100 a page, the API's default: 11 requests one after another) before asking for any reading,
  about 240 ms at 20 ms a request ((b) − (b, ids set) = 241 ms). Now the readings of a page start while the next page loads
  (\`listDevices({onPage})\`), and a page goes ahead of the readings queued for a slot (\`first\` in the account's
  semaphore), so the walk hides behind the readings${r ? ` (in this run (b) − (b, ids set) = ${round(contender(r, 'b').ms.median - contender(r, 'b-ids').ms.median)} ms)` : ''}.
- **An expired token cost a cycle up to N refused requests.** Every request took the token when it was queued, not when it
  got a slot; at an expiry all of a cycle's queued requests went out with the dead token, were refused and replayed: 1000
  refused requests for 10 expiries of a 100-device cycle, the cycle's requests doubled. Now a request resolves the token
  before it queues and checks it again when its slot comes (\`RequestAuth\` in \`lib/api/transport.ts\`); only the requests already on the
  wire (at most the concurrency) meet the expired token. The exchanges were right before and after: one per lifetime.
- Each msg into leapcraft-telemetry for more than about five devices printed Node's \`MaxListenersExceededWarning\` into the
  Node-RED log (two abort listeners per device on the msg's signal; Node warns from eleven). The listeners are expected and
  removed when done; the warning is now off for that signal.

Frugal polling and building scale (sections 1, 6, 7) brought a second round; each change keeps every behaviour (the tests
of the transport, the scheduler and the nodes pass, and the scheduler's changes log identical fetches and deliveries on a
fake-clock comparison of eight scenarios: jitter, lag, stopped sensors, failures, 429s, alert priority, budgets, churn):

- **CPU per request.** (b) took 859 ms of CPU for a 1000-device cycle against 481 ms for (a) (1.79, the run of 2026-11-26).
  The profile showed no hot function of the package; a heap snapshot in the middle of a cycle did: every request queued for a
  slot held 7.0 KB (three AbortControllers, six listeners, two of them on the account's shared close signal and two on the
  msg's signal, whose removal is O(n) for a thousand devices waiting on one msg), so a thousand queued requests outlived the
  young generation and were promoted: garbage collection, which Node-RED's larger heap makes dearer. Now a queued request
  holds no AbortSignal of the transport's (the close reaches the requests under way through a Set, the semaphore takes the
  request's own cancellation, the AbortController of the request on the wire is made once it has a slot), callbacks on a
  shared signal sit in one Set behind one listener (\`onAbort\`, lib/api/abort.ts), a msg's wait for a shared fetch costs one
  callback instead of two listeners and three promise steps, the slot wait is part of the attempt, auth headers are used as
  they are, and rate-limit headers are parsed only when an answer carries one: 5.8 KB per queued request (the rest: the
  client's frames and closures, the scheduler's AbortController that the fetch API hands every fetch, promises). On this
  2-core machine, busy with other work, the CPU of one cycle varied up to threefold between rounds of the same contender,
  so before and after were measured back to back with \`LEAPCRAFT_BENCH_PACKAGE\` (the package of before in a checkout of
  its own): \`--only cycle\`, CPU (b)/(a) by median: before 1.58, 1.59, 1.62 in three runs; after 1.22, 1.27, 1.12. Interleaved
  in one run (24 rounds, both packages side by side), the package alone (p) went from 415 to 333 ms at the least and from 629
  to 465 ms median, (a) 265 / 371 ms; (b) varied there more than it changed. What is left of (b) over (a): the package's own
  functions and its promises and closures per request, the msg copies and Node-RED's send ((n): 15–20 ms per 1000 msgs),
  and the garbage collection they cause; axios and Node's HTTP client, most of both, are paid alike.
- **CPU per request, second round** (2026-12-01). The first full run that day measured (b)/(a) = 1.49 over five rounds (a
  single cycle's CPU ranged 348–795 ms for (a) and 618–972 ms for (b)), and 1.33 over twenty, so the CPU figures are now taken over 15 more rounds of
  (a), (b) and (p) alone (\`--cpu-rounds\`), and two more cuts were made. A msg for every device no longer queues all its
  readings at once: at most twice the account's concurrency are started (\`lib/telemetry/on-demand.ts\`), the next as one
  settles, so a thousand queued requests no longer outlive the young generation; a JSON body is parsed as it is (a trimmed
  copy only when that fails: a byte-order mark, Unicode spaces); an on-demand reading settles in one step instead of two
  more promises. Measured side by side in one run (the package alone (p), the package of before from a checkout of its own,
  16 interleaved rounds of 1000 devices): median 488 → 458 ms, mean 526 → 461 ms of CPU, against 428 ms for (a). An
  allocation profile (the inspector's sampling heap profiler) showed the package allocating no more per request than
  (a) (176 against 179 MB for two cycles, most of both in axios's config merging): what is left is where objects live
  and for how long, and Node's own per-request work for the AbortSignal the transport hands axios.
- **CPU per request, third round** (2026-12-07). Two full runs that day measured (b)/(a) = 1.33 and 1.42 (the package alone
  1.16 and 1.40). Measured side by side in one process (\`npm run bench:package -- --before <a checkout of 1333991>\`, 30
  interleaved rounds of 1000 devices), the package's CPU per cycle was that of 1333991: 509 against 500 ms (1.02; the limit
  467 ms). The code had not grown dearer per request; its processes had, by live heap that every major garbage collection
  marks again. ioredis was loaded with the package since the cluster came: 2.2 MB, (p)'s live heap after a major collection
  17.4 MB against 15.4 MB and its marking 29–31 ms against 20 ms; it is now loaded when the first Redis link is made. And
  (b)'s Node-RED also loaded the Node-RED modules among the repository's dev dependencies (the dashboard and, since the
  history tests, the InfluxDB and PostgreSQL nodes: 3.8 MB), which Node-RED finds in the node_modules above its own; the
  bench's Node-RED now loads the package's and the core nodes only (\`externalModules.palette.allowList\`). A request's label
  (its path with the ids decoded, secrets redacted) is now worked out only for an error message.
- Not a cost: \`setKeepAlive\` in the profile is Node's http.Agent re-arming keep-alive on every socket it takes back into its
  pool (\`keepSocketAlive\`), not a socket made per request (the simulator counts 8 connections while deployed); (a) pays it
  alike. JSON is parsed once per answer in the package (the simulator parses its own answers again for its request log: its
  CPU, not the package's). In device mode without only-on-change nothing is fingerprinted.
- **The scheduler at 10,000 keys.** The first 10,000-device runs took minutes for a simulated minute: after every answer the
  off-round timer asked every cadence-aware key of the group when it next needed a request (a learner's computation each), the
  period the keys agree on was gathered from every key whenever one key's period changed, and a node closing its keys
  blocked the event loop for 6.5 s (every key leaving re-ran both). Now a key's plan is worked out once per change of the key
  or of the account's context, each group keeps its keys' off-round checks in a heap (the earliest in O(log n), ties as the
  scan broke them), the periods are kept sorted as they change, and a key leaving marks the agreed period stale and re-arms
  its group once at the end of the task. The first simulated hour of 10,000 cadence-aware devices was stopped after 15 min of
  CPU; with plans cached, 10 simulated minutes took 21 s of CPU; with the heap and the sorted periods, 11 s; the close, 6.5 s
  before and 55 ms after. What is left: the period the keys agree on (\`commonPeriod\`,
  lib/poll/cadence.ts) is worked out again, O(n), whenever a key's own period changes: about 4 s of CPU while 10,000 keys
  learn, once; more often with sensors whose periods jitter.
`;

export function renderReport(res: BenchResults): { markdown: string; summary: string } {
  const m = res.machine;
  const sections: string[] = [
    '# Benchmark results',
    '',
    `Written by \`${res.command}\` on ${res.startedAt.slice(0, 10)}, in ${round(res.durationS / 60, 1)} min. Reproduce: \`npm ci && ${res.command}\`.`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}. Node ${m.node}, Node-RED ${m.nodeRed}, axios ${m.axios}.`,
    `Load average (1 min): ${round(m.loadStart, 2)} at the start, ${round(m.loadEnd ?? 0, 2)} at the end. Other test runs (mocha processes) on the machine: ${m.otherTestRunsStart} at the start, ${m.otherTestRunsEnd ?? 0} at the end.`,
    '',
    '## Targets',
    '',
    checksTable(res.checks),
  ];
  if (res.cycle) sections.push('', cycleSection(res.cycle), '', profileSection(res.cycle));
  if (res.coalescing) sections.push('', coalescingSection(res.coalescing));
  if (res.tokens) sections.push('', tokenSection(res.tokens));
  if (res.soak) sections.push('', soakSection(res.soak));
  if (res.throughput) sections.push('', throughputSection(res.throughput));
  if (res.frugal) sections.push('', frugalSection(res.frugal));
  if (res.scale) sections.push('', scaleSection(res.scale));
  if (res.picker) sections.push('', pickerSection(res.picker));
  if (res.cluster) sections.push('', clusterSection(res.cluster));
  sections.push('', findings(res.cycle), method(m.nodeRed));
  const markdown = `${sections.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
  const summary = res.checks.map((c) => `${c.pass ? 'met   ' : 'MISSED'} ${c.name}: ${c.measured} (${c.target})`).join('\n');
  return { markdown, summary };
}
