import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { xhtmlProblem } from '../../src/fhir/narrative.js';

/**
 * Narratives that pass an XML reading of the rules but would run script or load external content
 * where a browser renders them as HTML (as EHR viewers do): entity and comment parsing differ.
 */
const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml"><p>Seen today</p>${inner}</div>`;

describe('narrative bypasses (txt-1)', () => {
  const refused: [string, string][] = [
    ['HTML named entity for the colon', '<a href="javascript&colon;alert(1)">x</a>'],
    ['HTML named entity for a tab inside the scheme', '<a href="java&Tab;script:alert(1)">x</a>'],
    ['HTML named entity for a newline before the scheme', '<a href="&NewLine;javascript:alert(1)">x</a>'],
    ['numeric reference without its semicolon', '<a href="javascript&#0000058alert(1)">x</a>'],
    ['data:text/html link', '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>'],
    ['srcset loading an external image', '<img src="#a" srcset="https://evil.example/x.png 1x" alt="x"/>'],
    ['style url() loading external content', '<p style="background:url(https://evil.example/x)">x</p>'],
    ['style url() hidden by a CSS escape', '<p style="background:u\\72l(https://evil.example/x)">x</p>'],
    ['style expression()', '<p style="width:expression(alert(1))">x</p>'],
    ['style @import', '<p style="@import \'https://evil.example/x.css\'">x</p>'],
    ['ping beacon on a link', '<a href="#a" ping="https://evil.example/">x</a>'],
    ['xlink href under another prefix', '<a xmlns:q="http://www.w3.org/1999/xlink" q:href="javascript:alert(1)">x</a>'],
    ['abrupt HTML comment <!--> ending before a script', '<!--><script>alert(1)</script>-->'],
    ['abrupt HTML comment <!---> ending before an image', '<!---><img src="x" onerror="alert(1)"/>-->'],
    ['comment closed by --!> in HTML', '<!-- a --!><script>alert(1)</script><!-- -->'],
    // The parser keeps the first of two; a DOM built by setAttribute keeps the last.
    ['a repeated href, the second a script URL', '<a href="#a" href="javascript:alert(1)">x</a>'],
    ['a repeated src, the second external', '<img src="#a" SRC="https://evil.example/x.png" alt="x"/>'],
  ];
  for (const [why, inner] of refused) {
    test(`refused: ${why}`, () => {
      assert.notEqual(xhtmlProblem(div(inner)), undefined, inner);
    });
  }

  test('ordinary narratives still pass', () => {
    for (const inner of [
      '<a href="https://www.cdc.gov/flu/?a=1&amp;b=2">CDC</a>',
      '<p style="color: rgb(0, 0, 0); font-weight: bold">x</p>',
      '<img src="data:image/png;base64,AAAA" alt="x"/>',
      '<!-- generated narrative -->',
      '<p>5 &gt; 3 &amp; 2 &lt; 4</p>',
    ]) {
      assert.equal(xhtmlProblem(div(inner)), undefined, inner);
    }
  });
});
