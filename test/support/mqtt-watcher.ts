/** An MQTT client in Home Assistant's place: everything it receives, the last payload per topic, waits. */
import mqtt, { MqttClient } from 'mqtt';
import { waitFor } from './wait';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** Where a watcher's sync markers go (not in `got`). */
const SYNC_TOPIC = 'leapcraft-test/sync';

export class Watcher {
  readonly got: Received[] = [];
  private readonly markers = new Set<string>();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      if (topic === SYNC_TOPIC) this.markers.add(payload.toString('utf8'));
      else this.got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, at: Date.now() });
    });
  }

  static async connect(url: string, topics = ['homeassistant/#', 'leapcraft/#'], qos: 0 | 1 = 1): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
    const watcher = new Watcher(client);
    await client.subscribeAsync([...topics, SYNC_TOPIC], { qos });
    return watcher;
  }

  /** The last payload per topic (what a subscriber ends up with). */
  latest(filter: (m: Received) => boolean = () => true): Map<string, Received> {
    const out = new Map<string, Received>();
    for (const m of this.got) if (filter(m)) out.set(m.topic, m);
    return out;
  }

  waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return waitFor(check, timeoutMs, `${what} (got ${this.got.length} msgs so far)`);
  }

  /**
   * Everything published before a marker on the same path has arrived: `publish` sends the
   * marker (by default this client, after the retained messages of its subscriptions; pass a
   * publisher's own connection for what it sent), and the broker hands a subscriber its
   * messages in order.
   */
  async sync(publish: (topic: string, payload: string) => unknown = (topic, payload) => this.client.publishAsync(topic, payload, { qos: 1 })): Promise<void> {
    const marker = `${process.pid}-${Date.now()}-${Math.random()}`;
    await publish(SYNC_TOPIC, marker);
    await waitFor(() => this.markers.has(marker), 15_000, 'the sync marker');
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}
