// Renders a vega-lite spec to an SVG string in Node (vega-lite → vega → headless View → SVG), ready
// to be inlined in the report: no network, no fonts to fetch, ids made unique per plot.
// vega and vega-lite are optional packages (the core runs without them): loaded with the first plot.
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from '../../util/optional.js';

interface Renderer {
  vega: typeof Vega;
  compile: typeof VegaLite.compile;
}

let renderer: Promise<Renderer> | null = null;

/**
 * Loads vega and vega-lite, once; a missing one fails with one line naming it and the fix (and is
 * tried again on the next call). The study calls it before its first phase when it is to write the
 * report, so that a missing package is reported at the start, not after hours of runs.
 */
export function loadRenderer(): Promise<Renderer> {
  if (renderer === null) {
    const loading = (async () => {
      const vega = await importOptional<typeof Vega>('vega', 'the lopt study report');
      const { compile } = await importOptional<typeof VegaLite>('vega-lite', 'the lopt study report');
      return { vega, compile };
    })();
    renderer = loading;
    loading.catch(() => { if (renderer === loading) renderer = null; });
  }
  return renderer;
}

/**
 * Shared look: system sans-serif (nothing to download), readable sizes. Without a canvas, vega
 * estimates text widths generously (0.8 em per character), so the label limits are wide enough that
 * labels are not cut short by the estimate.
 */
const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee', labelLimit: 400 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 500 },
  title: { fontSize: 13, anchor: 'start' as const },
};

let counter = 0;

/**
 * One SVG string. Every plot is inlined into the same HTML document, where ids share one namespace:
 * vega's clip paths and gradients (`id="clip1"`, `url(#clip1)`) would then resolve to whichever plot
 * came first. Each SVG's ids get a prefix of their own.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await loadRenderer();
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(withConfig).spec;
  // The loader is never used (data are inline values); an offline loader makes sure nothing is fetched.
  const loader = vega.loader({ mode: 'file' });
  loader.load = async (uri: string) => { throw new Error(`the report renders offline; refusing to load ${uri}`); };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader });
  try {
    const svg = await view.toSVG();
    return uniqueIds(svg, `p${++counter}-`);
  } finally {
    view.finalize();
  }
}

function uniqueIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}${id}"`);
}
