// The report's HTML pieces: escaping, number formatting, tables, sections, the page around them.
// Everything is inline (styles and SVG); the page has no scripts and loads nothing.
import type { Fill } from './commands.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A number for a table: 5 significant digits, exponent notation for very small or large values. */
export function fmt(x: number | null | undefined, digits = 5): string {
  if (x === null || x === undefined) return '–';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e9) return String(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(digits - 1);
  return x.toPrecision(digits);
}

/** A table cell: text (escaped) or already-built HTML. */
export type Cell = string | number | null | undefined | { html: string };

function cell(value: Cell, tag: 'td' | 'th'): string {
  if (value !== null && typeof value === 'object') return `<${tag}>${value.html}</${tag}>`;
  const numeric = typeof value === 'number';
  const text = numeric ? fmt(value) : value ?? '–';
  return `<${tag}${numeric ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
}

export function table(headers: string[], rows: Cell[][], caption?: string): string {
  return [
    '<table>',
    caption ? `<caption>${escapeHtml(caption)}</caption>` : '',
    `<thead><tr>${headers.map((h) => cell(h, 'th')).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** A long table folded away behind a summary line. */
export function folded(summary: string, inner: string): string {
  return `<details><summary>${escapeHtml(summary)}</summary>\n${inner}\n</details>`;
}

export function figure(svg: string, caption: string): string {
  return `<figure class="plot">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Says a section's data are missing and which commands fill them. */
export function missingNote(what: string, fill: Fill): string {
  const code = (c: string) => `<pre><code>${escapeHtml(c)}</code></pre>`;
  return `<div class="missing"><p><strong>No data yet:</strong> ${escapeHtml(what)}</p>` +
    `<p>Fill it with${fill.commands.length > 1 ? ' (in order)' : ''}:</p>${fill.commands.map(code).join('')}` +
    `${fill.quick ? `<p>or, for a quick demo:</p>${code(fill.quick)}` : ''}</div>`;
}

export interface Section {
  id: string;
  title: string;
  /** One paragraph saying what the section shows and how it was computed. */
  intro: string;
  body: string;
  /** Set when the section had no data: what is missing (for the summary returned to the caller). */
  missing?: string;
}

export function sectionHtml(s: Section): string {
  return `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n<p class="intro">${escapeHtml(s.intro)}</p>\n${s.body}\n</section>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.5rem; } h3 { font-size: 1.1rem; }
.intro, .meta { color: #444; }
figure.plot { margin: 1rem 0; overflow-x: auto; } figure.plot svg { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #555; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #f4f4f4; }
details { margin: .5rem 0; } summary { cursor: pointer; color: #245; }
.missing { background: #fff8e1; border: 1px solid #f0d58a; padding: .5rem 1rem; margin: .8rem 0; }
pre { background: #f6f6f6; padding: .4rem .6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
nav ul { columns: 2; }
`;

export function page(title: string, headerHtml: string, sections: Section[]): string {
  const toc = sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>${s.missing ? ' (no data yet)' : ''}</li>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${headerHtml}
<nav><ul>
${toc}
</ul></nav>
${sections.map(sectionHtml).join('\n')}
</body>
</html>
`;
}
