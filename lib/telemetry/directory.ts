/**
 * The account's device list as a node last read it: names and types for msg.device and
 * metric topics, and the ids that "every device" means.
 */
import { Device } from '../api/types';

export class DeviceDirectory {
  private readonly devices = new Map<string, Device>();
  private read = false;

  /** False until a list has been read: until then a device without an entry may still have one. */
  get loaded(): boolean {
    return this.read;
  }

  /** Replaces the list; entries without a string id cannot be polled or matched, and are skipped. */
  update(list: Device[]): void {
    this.devices.clear();
    for (const d of list) if (typeof d.physical_id === 'string') this.devices.set(d.physical_id, d);
    this.read = true;
  }

  get(id: string): Device | undefined {
    return this.devices.get(id);
  }

  /** In the list's order, which is the order of the array msg. */
  ids(): string[] {
    return [...this.devices.keys()];
  }
}
