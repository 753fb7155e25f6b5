/**
 * The shape of an answer, for the report: field names and types, nested, arrays as their items
 * merged; never a value (a date-time string is shown by its form only).
 */

const MAX_SHAPE_DEPTH = 8;
const MAX_FIELDS = 50;
const MAX_ITEMS_SAMPLED = 100;

const DATE_TIME_ZONED = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)$/i;
const DATE_TIME_ZONELESS = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?$/i;
const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;

/** The type of a scalar, with the date-time form for strings that hold one (the form, not the value). */
function scalarType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (DATE_TIME_ZONED.test(value)) return value.includes(' ') ? 'string<date-time, space, zone>' : 'string<date-time, zone>';
    if (DATE_TIME_ZONELESS.test(value)) return value.includes(' ') ? 'string<date-time, space, no zone>' : 'string<date-time, no zone>';
    if (DATE_ONLY.test(value)) return 'string<date>';
    return 'string';
  }
  return typeof value;
}

/** A date-time string (zoned, or zone-less read as UTC) as epoch ms; undefined for anything else. */
export function dateTimeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !(DATE_TIME_ZONED.test(value) || DATE_TIME_ZONELESS.test(value))) return undefined;
  const iso = DATE_TIME_ZONED.test(value) ? value.replace(' ', 'T') : `${value.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Values of one place in the answers merged: which types it took, its fields, its items. */
class ShapeNode {
  readonly scalars = new Set<string>();
  objects = 0;
  readonly fields = new Map<string, ShapeNode>();
  /** Fields beyond MAX_FIELDS: counted, not described. */
  extraFields = new Set<string>();
  /** How many of the merged objects had this field (for `?`). */
  present = 0;
  arrays = 0;
  minLength = Infinity;
  maxLength = 0;
  items?: ShapeNode;
  deeper = false;

  add(value: unknown, depth = 0): void {
    if (depth > MAX_SHAPE_DEPTH) {
      this.deeper = true;
      return;
    }
    if (Array.isArray(value)) {
      this.arrays += 1;
      this.minLength = Math.min(this.minLength, value.length);
      this.maxLength = Math.max(this.maxLength, value.length);
      for (const item of value.slice(0, MAX_ITEMS_SAMPLED)) (this.items ??= new ShapeNode()).add(item, depth + 1);
      return;
    }
    if (value && typeof value === 'object') {
      this.objects += 1;
      for (const [key, v] of Object.entries(value)) {
        let child = this.fields.get(key);
        if (!child) {
          if (this.fields.size >= MAX_FIELDS) {
            this.extraFields.add(key);
            continue;
          }
          child = new ShapeNode();
          this.fields.set(key, child);
        }
        child.present += 1;
        child.add(v, depth + 1);
      }
      return;
    }
    this.scalars.add(scalarType(value));
  }

  render(indent = ''): string {
    const parts = [...this.scalars].sort();
    if (this.objects > 0) parts.push(this.renderObject(indent));
    if (this.arrays > 0) {
      const length = this.minLength === this.maxLength ? String(this.maxLength) : `${this.minLength}..${this.maxLength}`;
      parts.push(this.items ? `array(${length}) of ${this.items.render(indent)}` : `array(${length})`);
    }
    if (this.deeper) parts.push('…');
    return parts.length > 0 ? parts.join(' | ') : 'nothing';
  }

  private renderObject(indent: string): string {
    const inner = `${indent}  `;
    const lines = [...this.fields].map(([key, child]) => `${key}${child.present < this.objects ? '?' : ''}: ${child.render(inner)}`);
    if (this.extraFields.size > 0) lines.push(`… ${this.extraFields.size} more fields`);
    if (lines.length === 0) return '{}';
    const oneLine = `{ ${lines.join(', ')} }`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    return `{\n${lines.map((l) => `${inner}${l}`).join('\n')}\n${indent}}`;
  }
}

/** The shape of one JSON value: field names and types, nested; arrays as their items merged. */
export function describeShape(value: unknown): string {
  const node = new ShapeNode();
  node.add(value);
  return node.render();
}
