import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { AccountListener, AlertRelay, LeapcraftClient, LeapcraftError, PollScheduler } from '../../lib';

export type { Node, NodeAPI, NodeDef, NodeMessage };

export interface LeapcraftCredentials {
  apiKey?: string;
  /** The password of the *Shared through Redis* URL, when it is not in the URL. */
  redisPassword?: string;
}

export interface LeapcraftConfigDef extends NodeDef {
  baseUrl: string;
  concurrency: number | string;
  timeout: number | string;
  /** Requests per hour for the whole account; empty for none. */
  budget?: number | string;
  /** Shared through Redis: a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL; empty: LEAPCRAFT_REDIS_URL, or not shared. */
  redisUrl?: string;
}

/** What a flow node may use of its account (the config node). */
export interface LeapcraftAccount extends Node<LeapcraftCredentials> {
  /** The account's client; throws the configuration error when there is none. */
  getClient(): LeapcraftClient;
  /** The account's shared poll scheduler: one request per key per interval across all nodes. */
  getScheduler(): PollScheduler;
  /**
   * `user` hears the account's state now and whenever it changes (pace, refused key, a pause the
   * API asked for, cluster role), until `deregister(user)`: Node-RED's MQTT broker node pattern.
   */
  register(user: object, listener: AccountListener): void;
  deregister(user: object): void;
  /**
   * True when this process acts for the account alone: it leads it in a cluster (its lease surely
   * its own), or it is not shared, or Redis is unreachable. A node set to emit on one replica only
   * sends while this holds.
   */
  acting(): boolean;
  /** With the account shared through Redis (and Redis answering): the alerts node's shared memory and pending alerts. */
  alertRelay(nodeId: string): AlertRelay | undefined;
  readonly configError?: LeapcraftError;
}

/** Node-RED's send(), as given to an input handler. */
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

/** Messages in this package carry arbitrary extra properties that must be kept. */
export type Msg = NodeMessage & Record<string, unknown>;
