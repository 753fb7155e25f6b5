/** An MQTT client in Home Assistant's place: everything it receives, the last payload per topic, waits. */
import mqtt, { MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

export class Watcher {
  readonly got: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, at: Date.now() }));
  }

  static async connect(url: string, topics = ['homeassistant/#', 'leapcraft/#'], qos: 0 | 1 = 1): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
    const watcher = new Watcher(client);
    await client.subscribeAsync(topics, { qos });
    return watcher;
  }

  /** The last payload per topic (what a subscriber ends up with). */
  latest(filter: (m: Received) => boolean = () => true): Map<string, Received> {
    const out = new Map<string, Received>();
    for (const m of this.got) if (filter(m)) out.set(m.topic, m);
    return out;
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got ${this.got.length} msgs`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until no message has come for `quietMs`. */
  async quiet(quietMs = 500): Promise<void> {
    let seen = -1;
    while (seen !== this.got.length) {
      seen = this.got.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}
