/**
 * leapcraft-air-quality: what the CO2 readings mean. Readings in (from leapcraft-telemetry in
 * any output mode, or any msg with `co2`); out: (1) every reading with its category under the
 * chosen standard and its ventilation demand, (2) one msg when a device's category or on/off
 * demand changes, (3) the daily report. Every decision lives in lib/airquality/ (service.ts:
 * timers, storing, reports; monitor.ts: the devices); this node wires it to Node-RED: its
 * context store, msgs and status.
 */
import { AqAnnotation, AqObservation, AqReport, AqService, AqSettingsInput, parseAqInput, parseAqSettings } from '../lib';
import { nodeMemory } from './common/context';
import { toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { startNode } from './common/start';
import type { Msg, Node, NodeAPI, NodeDef, NodeMessage } from './common/types';

type AirQualityDef = NodeDef & AqSettingsInput;
const CONTEXT_KEY = 'leapcraft-air-quality';
const REPORT_TOPIC = 'leapcraft/air-quality/report';

export = function register(RED: NodeAPI): void {
  /** Each node's state by node id, carried across redeploys (see nodes/common/context.ts). */
  const carried = new Map<string, unknown>();

  function LeapcraftAirQualityNode(this: Node, def: AirQualityDef) {
    const started = startNode(RED, this, def, () => parseAqSettings(def));
    if (!started) return;
    const { node, status, settings } = started;
    const text = (key: string, params?: Record<string, string | number>) => RED._(`leapcraft-air-quality.${key}`, params);
    const warn = (err: unknown) => node.warn(text('warn.store', { message: toNodeError(err).message }));

    const memory = nodeMemory<unknown>(node, CONTEXT_KEY, settings.store, carried, (value) => value ?? undefined);
    let saveWarned = false;
    const service = new AqService(settings, (profile, category) => text(`category.${profile}.${category}`), {
      report: (report) => node.send([null, null, reportMsg(report)]),
      save: (state) => memory.save(state).then(() => { saveWarned = false; }),
      saveFailed: (err) => {
        if (!saveWarned) warn(err);
        saveWarned = true;
      },
      failed: (err) => node.error(toNodeError(err)),
    });
    const categories = service.monitor.profile.categories;

    /** The input msg's own properties (not its payload, which may be a whole array) with the node's. */
    function outMsg(base: Msg | undefined, props: Record<string, unknown>): NodeMessage {
      const { payload: _payload, ...rest } = base ?? {};
      return { ...(RED.util.cloneMessage(rest) as Msg), ...props, categories } as NodeMessage;
    }

    function reportMsg(report: AqReport, base?: Msg): NodeMessage {
      return outMsg(base, { topic: REPORT_TOPIC, payload: report });
    }

    function readingMsg(base: Msg, annotation: AqAnnotation, change?: AqObservation['change']): NodeMessage {
      const msg = outMsg(base, { topic: annotation.device, physical_id: annotation.device, payload: annotation, ...change }) as Msg;
      // A msg.device of another device (an array's msg) would mislead.
      const device = msg.device as { physical_id?: unknown } | undefined;
      if (device && device.physical_id !== annotation.device) delete msg.device;
      return msg;
    }

    function showStatus(): void {
      const { devices, worst, inWorst } = service.monitor.summary();
      if (!worst) return status.waiting(text('status.waiting'));
      const params = { devices: text('status.devices', { count: devices }), count: inWorst, category: worst.category };
      if (worst.level === 1) status.ok(text('status.allIn', params));
      else status.degraded(text('status.someIn', params));
    }

    status.waiting(text('status.waiting'));
    memory.load().then(
      (stored) => service.load(stored),
      (err: unknown) => {
        warn(err);
        service.load(undefined);
      },
    ).then(showStatus, (err: unknown) => node.error(toNodeError(err)));

    node.on('close', (removed: boolean, done: () => void) => {
      service.close().finally(() => {
        if (removed) memory.forget();
        done();
      });
    });

    handleInput(RED, node, status, async (msg, send) => {
      // Checked at once: a bad msg goes to Catch before it waits for anything.
      const input = parseAqInput(msg, Date.now());
      await service.ready;
      if (input.kind === 'ignored') return;
      if (input.kind === 'report') {
        send([null, null, reportMsg(service.report(input.from, input.to), msg)]);
        return;
      }
      const observations = service.observe(input.readings);
      const changes = observations.filter((o) => o.change).map((o) => readingMsg(msg, o.annotation, o.change));
      send([observations.map((o) => readingMsg(msg, o.annotation)), changes.length ? changes : null, null]);
      showStatus();
    });
  }

  RED.nodes.registerType('leapcraft-air-quality', LeapcraftAirQualityNode as never);
};
