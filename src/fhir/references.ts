/**
 * Rewrites every `Reference.reference` string inside a resource (any depth). `map` returns the
 * new reference, or undefined to keep the old one. Returns a new object; the input is untouched.
 */
export function rewriteReferences<T>(value: T, map: (reference: string) => string | undefined): T {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = k === 'reference' && typeof v === 'string' ? (map(v) ?? v) : rewriteReferences(v, map);
  }
  return out as T;
}
