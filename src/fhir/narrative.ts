import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
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

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

function attributeProblem(element: string, name: string, value: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith('on')) return `an event-handler attribute (${lower}) on <${element}>`;
  if (!URL_ATTRIBUTES.has(lower)) return undefined;
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
  const url = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
  if (/^(javascript|vbscript|livescript):/.test(url)) return `a script URL in ${lower} on <${element}>`;
  if (lower === 'href' && element === 'a') return undefined;
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
  const parser = new Parser(
    {
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
      node.forEach((child, i) => pending.push([child, `${path}[${i}]`]));
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
