/** Short local time for status texts. */
export function clock(at: number = Date.now()): string {
  return new Date(at).toTimeString().slice(0, 8);
}
