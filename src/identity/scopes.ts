/**
 * SMART scope matching for system/ scopes, v1 (`.read`/`.write`/`.*`) and v2 (`.cruds` subsets).
 * Non-resource names (e.g. `checkin`, `visit`) follow the same grammar so one rule serves all routes.
 */

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const V2 = /^c?r?u?d?s?$/;

interface ParsedScope {
  context: string;
  type: string;
  perms: Set<string>;
}

export function parseScope(scope: string): ParsedScope | undefined {
  const m = /^(system|user|patient)\/([A-Za-z*][A-Za-z0-9*-]*)\.([a-z*]+)$/.exec(scope.split('?')[0] ?? '');
  if (!m) return undefined;
  const [, context, type, suffix] = m as unknown as [string, string, string, string];
  const perms = V1[suffix] ?? (V2.test(suffix) && suffix.length > 0 ? suffix : undefined);
  if (!perms) return undefined;
  return { context, type, perms: new Set(perms) };
}

/** True when the union of `granted` covers every permission of `required`. */
export function scopeSatisfies(granted: readonly string[], required: string): boolean {
  const need = parseScope(required);
  if (!need) return granted.includes(required);
  const have = new Set<string>();
  for (const g of granted) {
    const p = parseScope(g);
    if (!p || p.context !== need.context) continue;
    if (p.type !== '*' && p.type !== need.type) continue;
    for (const x of p.perms) have.add(x);
  }
  return [...need.perms].every((x) => have.has(x));
}

/**
 * What a client gets: each requested scope its registration covers, as asked (v1 stays v1); a
 * wildcard request (`system/*.cruds`) it does not fully hold yields the registered scopes within it.
 */
export function grantScopes(requested: readonly string[], registered: readonly string[]): string[] {
  const granted = new Set<string>();
  for (const r of requested) {
    if (scopeSatisfies(registered, r)) granted.add(r);
    else for (const g of registered) if (scopeSatisfies([r], g)) granted.add(g);
  }
  return [...granted];
}
