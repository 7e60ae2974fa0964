import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { decodeHTML } from 'entities';
import { Parser } from 'htmlparser2';

/**
 * FHIR R4 narrative rules (txt-1, txt-2 and the XHTML subset of the Narrative page). medplum's
 * FHIRPath `htmlChecks()` accepts anything, so these are checked here, with a real parser.
 */

/** The elements FHIR allows in a narrative (HTML 4.0 chapters 7–11 and 15, `a`, `img`). */
const ALLOWED_ELEMENTS = new Set(
  (
    'a abbr acronym address area b bdo big blockquote br caption cite code col colgroup dd del dfn div dl dt em ' +
    'h1 h2 h3 h4 h5 h6 hr i img ins kbd li map ol p pre q s samp small span strike strong sub sup ' +
    'table tbody td tfoot th thead tr tt u ul var'
  ).split(' '),
);

/** Attributes that hold a URL: only in-document (`#id`) and, for images, `data:` URLs are allowed to load. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'longdesc', 'usemap', 'cite', 'background', 'action', 'formaction', 'xlink:href']);

/** Attributes that load or send to URLs and have no safe form in a narrative. */
const FORBIDDEN_ATTRIBUTES = new Set(['srcset', 'ping', 'xml:base', 'dynsrc', 'lowsrc']);

/** CSS that loads or runs something: url() and its kin, IE's expression() and behavior, @import. */
const ACTIVE_CSS = /(url|src|image|image-set|expression)\(|behavior\s*:|-moz-binding|@import/;

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/**
 * A value as an HTML browser reads it: the XML parser leaves HTML-only entities (`&colon;`, `&Tab;`)
 * and numeric references without `;` undecoded, a browser does not.
 */
const asBrowserReads = (value: string) => decodeHTML(value);

/** CSS escapes (`u\72l(`) decoded and comments dropped, so the check sees what the CSS parser sees. */
function cssOf(value: string): string {
  return asBrowserReads(value)
    .replace(/\\([0-9a-f]{1,6})\s?/gi, (_, hex: string) => String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff)))
    .replace(/\\(.)/gs, '$1')
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, '')
    .toLowerCase();
}

function attributeProblem(element: string, name: string, value: string): string | undefined {
  const lower = name.toLowerCase();
  // Any namespace prefix (not only xlink:) may be bound to XLink.
  const local = lower.slice(lower.lastIndexOf(':') + 1);
  if (lower.startsWith('on')) return `an event-handler attribute (${lower}) on <${element}>`;
  if (FORBIDDEN_ATTRIBUTES.has(lower)) return `${lower} on <${element}> (it loads or sends to external URLs)`;
  if (lower === 'style') return ACTIVE_CSS.test(cssOf(value)) ? `a style on <${element}> that loads external content or runs script` : undefined;
  if (!URL_ATTRIBUTES.has(lower) && !URL_ATTRIBUTES.has(local)) return undefined;
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
  const url = asBrowserReads(value)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping C0 controls is the point: browsers skip them in a scheme
    .replace(/[\u0000-\u0020]/g, '')
    .toLowerCase();
  if (/^(javascript|vbscript|livescript):/.test(url)) return `a script URL in ${lower} on <${element}>`;
  if (lower === 'href' && element === 'a') return url.startsWith('data:') ? `a data: URL in href on <a>` : undefined;
  if (url.startsWith('#')) return undefined;
  if (lower === 'src' && element === 'img' && url.startsWith('data:image/')) return undefined;
  return `an external reference in ${lower} on <${element}> (only #id and data:image/ are allowed)`;
}

/** The problems of one narrative `div`: the first rule broken, or none. */
export function xhtmlProblem(div: string): string | undefined {
  let problem: string | undefined;
  let depth = 0;
  let rootSeen = false;
  let text = '';
  let hasImage = false;
  let attributeNames = new Set<string>();
  const parser = new Parser(
    {
      onopentagname() {
        attributeNames = new Set();
      },
      // XML forbids a repeated attribute; this parser keeps the first, a DOM built by setAttribute the last.
      onattribute(name) {
        const lower = name.toLowerCase();
        if (attributeNames.has(lower)) problem ??= `a repeated attribute (${lower})`;
        attributeNames.add(lower);
      },
      onopentag(tag, attributes) {
        const name = tag.toLowerCase();
        if (depth === 0) {
          if (rootSeen || name !== 'div') problem ??= 'the narrative is not a single <div> element';
          else if (attributes.xmlns !== XHTML_NS) problem ??= `the narrative <div> must declare xmlns="${XHTML_NS}"`;
          rootSeen = true;
        }
        depth++;
        if (!ALLOWED_ELEMENTS.has(name)) problem ??= `<${name}> is not allowed in a narrative`;
        if (name === 'img') hasImage = true;
        for (const [attr, value] of Object.entries(attributes)) {
          if (attr === 'xmlns' && depth === 1) continue;
          problem ??= attributeProblem(name, attr, value);
        }
      },
      onclosetag() {
        depth--;
      },
      ontext(data) {
        if (depth === 0 && data.trim()) problem ??= 'text outside the narrative <div>';
        text += data;
      },
      onprocessinginstruction() {
        problem ??= 'a processing instruction or DOCTYPE in a narrative';
      },
      oncdatastart() {
        problem ??= 'a CDATA section in a narrative';
      },
      // XML forbids "--" inside a comment; HTML ends one early at "<!-->", "<!--->" or "--!>", and what follows would be live.
      oncomment(data) {
        if (data.startsWith('>') || data.startsWith('->') || data.includes('--')) problem ??= 'a comment a browser would end early';
      },
    },
    { xmlMode: true, recognizeCDATA: true },
  );
  parser.write(div);
  parser.end();
  if (!rootSeen) problem ??= 'the narrative is not a single <div> element';
  // txt-2: the narrative has some non-whitespace content.
  if (!problem && !text.trim() && !hasImage) problem = 'the narrative has no content (txt-2)';
  return problem;
}

/**
 * Every Narrative in a resource (its own `text`, contained resources', Composition sections',
 * Bundle entries'), each reported at `<path>.text.div`. Iterative, like the depth guard.
 */
export function narrativeIssues(resource: unknown, rootPath: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const pending: [unknown, string][] = [[resource, rootPath]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, path] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) pending.push([child, `${path}[${i}]`]);
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      const at = `${path}.${key}`;
      const div = key === 'text' && typeof value === 'object' && value !== null ? (value as { div?: unknown }).div : undefined;
      if (typeof div === 'string') {
        const problem = xhtmlProblem(div);
        if (problem) {
          issues.push({ severity: 'error', code: 'invariant', diagnostics: `Constraint txt-1 not met: ${problem}`, expression: [`${at}.div`] });
        }
      }
      pending.push([value, at]);
    }
  }
  return issues;
}
