/**
 * The msg of the history output: the points for node-red-contrib-influxdb's batch node in
 * `msg.payload`, the same as rows for a SQL insert in `msg.params` (node-red-contrib-postgresql
 * binds it to `$1`), and `msg.measurement`, which tells readings from daily averages (a switch
 * node can send them to tables of their own).
 */
import { MsgLike, Shaping } from '../telemetry/messages';
import { HistoryBatch } from './recorder';
import { sqlParams } from './rows';

export function historyMsg<M extends MsgLike>(base: M | undefined, batch: HistoryBatch, shaping: Shaping<M>): M {
  const msg: MsgLike = base ? shaping.clone(base) : {};
  msg.topic = batch.id;
  msg.payload = batch.points;
  msg.params = sqlParams(batch.points);
  msg.measurement = batch.measurement;
  msg.physical_id = batch.id;
  msg.skipped = batch.skipped;
  const device = shaping.deviceOf(batch.id);
  if (device) msg.device = device;
  else delete msg.device;
  return msg as M;
}
