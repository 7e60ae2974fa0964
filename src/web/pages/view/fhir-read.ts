/**
 * Reading FHIR JSON from a link defensively: everything is `unknown` until checked, so a
 * malformed element is skipped instead of breaking the page.
 */

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function conceptText(cc: unknown): string | undefined {
  if (!isObject(cc)) return undefined;
  const codings = list(cc.coding);
  return str(cc.text) ?? codings.map((c) => str(c.display)).find(Boolean) ?? codings.map((c) => str(c.code)).find(Boolean);
}

export const conceptsText = (v: unknown): string[] => (Array.isArray(v) ? v.map(conceptText).filter((t): t is string => Boolean(t)) : []);

export function resourceName(resource: Json | undefined): string | undefined {
  if (!resource) return undefined;
  if (typeof resource.name === 'string') return str(resource.name);
  const name = list(resource.name)[0];
  if (!name) return undefined;
  const parts = [...(Array.isArray(name.prefix) ? name.prefix : []), ...(Array.isArray(name.given) ? name.given : []), name.family].filter(
    (p): p is string => typeof p === 'string',
  );
  return str(name.text) ?? str(parts.join(' '));
}

/** Looks up references among the link's resources: by fullUrl, `Type/id`, or a URL ending in `Type/id`. */
export class ResourceIndex {
  private readonly byRef = new Map<string, Json>();

  add(resource: Json, fullUrl?: unknown): void {
    if (typeof fullUrl === 'string') this.byRef.set(fullUrl, resource);
    if (typeof resource.resourceType === 'string' && typeof resource.id === 'string') this.byRef.set(`${resource.resourceType}/${resource.id}`, resource);
  }

  /** Adds a Bundle's entries (and the Bundle itself for a bare resource). */
  addAll(resource: Json): void {
    if (resource.resourceType === 'Bundle')
      for (const e of list(resource.entry))
        if (isObject(e.resource)) this.add(e.resource, e.fullUrl);
        else this.add(resource);
  }

  byUrl(url: unknown): Json | undefined {
    if (typeof url !== 'string' || !url) return undefined;
    return this.byRef.get(url) ?? this.byRef.get(url.split('/').slice(-2).join('/'));
  }

  resolve(ref: unknown): Json | undefined {
    return isObject(ref) ? this.byUrl(ref.reference) : undefined;
  }

  /** Every key a resource is known by, to match citations against. */
  keysOf(resource: Json): string[] {
    return [...this.byRef.entries()].filter(([, r]) => r === resource).map(([k]) => k);
  }
}

/** FHIR narrative (XHTML) as plain text blocks. DOMParser documents are inert: no scripts run, nothing loads. */
export function narrativeBlocks(xhtml: unknown): { text: string; item: boolean }[] {
  if (typeof xhtml !== 'string' || !xhtml) return [];
  const body = new DOMParser().parseFromString(xhtml, 'text/html').body;
  const BLOCK = /^(P|DIV|LI|TR|H[1-6]|BR|UL|OL|TABLE|BLOCKQUOTE|PRE|DL|DT|DD|SECTION)$/;
  const blocks: { text: string; item: boolean }[] = [];
  let line = '';
  let item = false;
  const flush = () => {
    const text = line.replace(/\s+/g, ' ').trim();
    if (text) blocks.push({ text, item });
    line = '';
    item = false;
  };
  const walk = (node: Node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) line += (child as Text).data;
      else if (child instanceof Element && !/^(SCRIPT|STYLE|TEMPLATE)$/.test(child.tagName)) {
        const block = BLOCK.test(child.tagName);
        if (block) flush();
        if (child.tagName === 'LI') item = true;
        walk(child);
        if (block) flush();
        else if (/^T[DH]$/.test(child.tagName)) line += ' ';
      }
    }
  };
  walk(body);
  flush();
  return blocks;
}
