import { en, type Messages } from './en.js';
import { es } from './es.js';

/**
 * The pages' languages: one message catalogue per language (en.ts, es.ts; the compiler checks
 * that every catalogue has every key). The language is the visitor's choice from the switcher if
 * they made one, else the first of the browser's languages we have, else English.
 *
 * To give another page (e.g. a demo page) its words:
 * 1. add its strings under its own key in en.ts (`demo: { title: 'Try it', … }`) and the same keys in es.ts;
 * 2. in its HTML, mark fixed text with `data-i18n="demo.title"` and attributes with
 *    `data-i18n-attr="alt=demo.qrAlt"` (`;`-separated pairs); `<title data-i18n=…>` works too;
 * 3. in its script: `const i18n = startI18n(render)` (render runs again after a language switch),
 *    read `i18n.m.demo.title`, format with `i18n.date()` / `i18n.number()`, and
 *    `i18n.mountSwitcher(container)` for the visible language switcher.
 */

export const CATALOGUES: Record<'en' | 'es', Messages> = { en, es };
export type Lang = keyof typeof CATALOGUES;
const LANGS = Object.keys(CATALOGUES) as Lang[];
const STORAGE_KEY = 'ktc-gateway.language';

const isLang = (tag: string | null | undefined): tag is Lang => typeof tag === 'string' && (LANGS as string[]).includes(tag);

export function chooseLanguage(preferred: readonly string[], stored?: string | null): Lang {
  if (isLang(stored)) return stored;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'en';
}

/** A message by its dotted path; only strings can be put into markup by name. */
function lookup(m: Messages, path: string): string {
  const value = path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), m);
  if (typeof value !== 'string') throw new Error(`no message ${path}`);
  return value;
}

function translateMarkup(root: ParentNode, m: Messages): void {
  for (const node of root.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = lookup(m, node.dataset.i18n!);
  for (const node of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of node.dataset.i18nAttr!.split(';')) {
      const [attr, path] = pair.split('=').map((s) => s.trim());
      if (attr && path) node.setAttribute(attr, lookup(m, path));
    }
  }
}

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage turned off: the browser's languages decide
  }
}

export interface I18n {
  readonly lang: Lang;
  readonly m: Messages;
  set(lang: Lang): void;
  date(value: Date, options: Intl.DateTimeFormatOptions): string;
  number(value: number, options?: Intl.NumberFormatOptions): string;
  mountSwitcher(container: HTMLElement): void;
}

/** Sets <html lang>, translates the marked markup and calls `render` now and after every switch. */
export function startI18n(render: (i18n: I18n) => void): I18n {
  let lang = chooseLanguage(navigator.languages ?? [navigator.language], storedLanguage());
  const switchers: HTMLElement[] = [];
  const i18n: I18n = {
    get lang() {
      return lang;
    },
    get m() {
      return CATALOGUES[lang];
    },
    set(next) {
      lang = next;
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // not remembered; this page still switches
      }
      apply();
    },
    date: (value, options) => new Intl.DateTimeFormat(lang, options).format(value),
    number: (value, options) => new Intl.NumberFormat(lang, options).format(value),
    mountSwitcher(container) {
      switchers.push(container);
      drawSwitcher(container);
    },
  };
  function drawSwitcher(container: HTMLElement) {
    const buttons = LANGS.map((code) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.lang = code;
      b.textContent = CATALOGUES[code].languageName;
      b.setAttribute('aria-pressed', String(code === lang));
      b.addEventListener('click', () => i18n.set(code));
      const item = document.createElement('li');
      item.append(b);
      return item;
    });
    const list = document.createElement('ul');
    list.className = 'languages';
    list.append(...buttons);
    container.setAttribute('aria-label', i18n.m.common.language);
    container.replaceChildren(list);
  }
  function apply() {
    document.documentElement.lang = lang;
    translateMarkup(document, i18n.m);
    switchers.forEach(drawSwitcher);
    render(i18n);
  }
  apply();
  return i18n;
}
