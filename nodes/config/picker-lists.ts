/** What the editor's pickers list of an API answer: ids and names, nothing else of it. */

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * A picker's list: of each item with a non-empty text `id`, that id, its name and `fields` as
 * text ('' when missing or not text); sorted naturally by name (the id when nameless), then id.
 * The device picker: `summarize(devices, 'physical_id', ['type'])`; the gateway picker:
 * `summarize(topologies, 'gateway_id')`.
 */
export function summarize<Id extends string, Field extends string = never>(
  items: readonly unknown[],
  id: Id,
  fields: readonly Field[] = [],
): Array<Record<Id | 'name' | Field, string>> {
  const out: Array<Record<string, string>> = [];
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const source = item as Record<string, unknown>;
    const key = source[id];
    if (typeof key !== 'string' || key === '') continue;
    const summary: Record<string, string> = { [id]: key, name: text(source.name) };
    for (const field of fields) summary[field] = text(source[field]);
    out.push(summary);
  }
  return out.sort((a, b) => collator.compare(a.name || a[id], b.name || b[id]) || collator.compare(a[id], b[id])) as Array<Record<Id | 'name' | Field, string>>;
}
