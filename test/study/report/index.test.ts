import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { chromium, type Browser } from 'playwright-core';
import { ResultsDb } from '../../../src/study/db.js';
import { writeReport } from '../../../src/study/report/index.js';
import { fmt } from '../../../src/study/report/html.js';
import { mean } from '../../../src/study/report/stats.js';
import { buildFixture, type Fixture } from './fixture.js';

let root: string;
let fx: Fixture;
let browser: Browser;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'lopt-report-'));
  fx = await buildFixture(root);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

interface PageFacts {
  problems: string[];
  requests: string[];
  /** Per inline plot: its rendered size and how many data marks have a non-empty box. */
  svgs: { section: string; width: number; height: number; marks: number; shapes: number }[];
  sections: { id: string; missing: boolean; text: string }[];
  tables: Record<string, string[][]>;
}

/** Opens the report in headless Chromium and collects errors, requests, plots and tables. */
async function inspect(indexPath: string): Promise<PageFacts> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  try {
    await page.goto(pathToFileURL(indexPath).href, { waitUntil: 'load' });
    const facts = await page.evaluate(() => {
      const svgs = [...document.querySelectorAll('figure.plot svg')].map((svg) => {
        const box = svg.getBoundingClientRect();
        // Data marks only (vega's role-mark groups), not axes, legends or titles.
        const elements = [...svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text')] as SVGGraphicsElement[];
        const nonEmpty = elements.filter((e) => { const b = e.getBBox(); return b.width > 0 || b.height > 0; });
        return {
          section: svg.closest('section')?.id ?? '', width: box.width, height: box.height, marks: nonEmpty.length,
          shapes: nonEmpty.filter((e) => e.tagName !== 'text').length,
        };
      });
      const sections = [...document.querySelectorAll('section')].map((s) => ({ id: s.id, missing: s.querySelector('.missing') !== null, text: s.textContent ?? '' }));
      const tables: Record<string, string[][]> = {};
      for (const t of document.querySelectorAll('table')) {
        const caption = t.querySelector('caption')?.textContent;
        if (caption) tables[caption] = [...t.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? ''));
      }
      return { svgs, sections, tables };
    });
    return { problems, requests, ...facts };
  } finally {
    await page.close();
  }
}

function rowsByFirstCell(table: string[][]): Map<string, Record<string, string>> {
  const [head, ...rows] = table;
  return new Map(rows.map((r) => [r[0], Object.fromEntries(head.map((h, i) => [h, r[i]]))]));
}

function assertCleanPage(facts: PageFacts, indexPath: string): void {
  assert.deepEqual(facts.problems, []);
  // Self-contained: the page itself is the only thing loaded.
  assert.deepEqual(facts.requests, [pathToFileURL(indexPath).href]);
  for (const svg of facts.svgs) {
    assert.ok(svg.width > 50 && svg.height > 50, `plot in ${svg.section} is ${svg.width}x${svg.height}`);
    assert.ok(svg.shapes > 0, `plot in ${svg.section} has no drawn data marks`);
  }
}

test('the full report: every section plotted from real runs, no console errors, every plot a non-empty SVG', async () => {
  const result = await writeReport({ dbPath: fx.dbPath, outDir: join(root, 'full'), runDirs: [fx.runDir] });
  assert.deepEqual(result.missing, []);
  const html = readFileSync(result.indexPath, 'utf8');
  assert.doesNotMatch(html, /<script|<link rel="stylesheet"|@import|https?:\/\/(?!www\.w3\.org)/);
  const facts = await inspect(result.indexPath);
  assertCleanPage(facts, result.indexPath);
  assert.equal(facts.svgs.length, result.plots.length);
  assert.deepEqual(facts.sections.map((s) => s.id), ['fig1', 'headline', 'fig2', 'fig3', 'fig4', 'fig5', 'meta', 'metagen']);
  for (const section of facts.sections) {
    assert.equal(section.missing, false, `${section.id} says data are missing`);
    assert.ok(facts.svgs.some((s) => s.section === section.id), `${section.id} has no plot`);
  }
  // Ids are unique across the inlined SVGs (clip paths must not resolve to another plot's).
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
});

test('the numbers in the tables are the measured ones; untrained stays off the frontier; 2x costs twice the step time', async () => {
  const result = await writeReport({ dbPath: fx.dbPath, outDir: join(root, 'numbers'), runDirs: [fx.runDir] });
  const facts = await inspect(result.indexPath);
  const fig1Caption = Object.keys(facts.tables).find((c) => c.startsWith('Fig. 1 numbers'))!;
  const fig1 = rowsByFirstCell(facts.tables[fig1Caption]);
  for (const [label, losses] of fx.evalLosses) {
    assert.equal(fig1.get(label)?.['mean loss'], fmt(mean(losses)), label);
  }
  const lopt = fig1.get('small_fc_lopt')!;
  assert.equal(lopt.trained, 'untrained');
  assert.equal(lopt['frontier (time)'], '');
  assert.equal(lopt['frontier (memory)'], '');
  // Some trained configuration is on each frontier.
  assert.ok([...fig1.values()].some((r) => r['frontier (time)'] === 'yes'));
  assert.ok([...fig1.values()].some((r) => r['frontier (memory)'] === 'yes'));
  const adam = Number(fig1.get('adam')!['time/step vs SGD']);
  const adam2 = Number(fig1.get('adam@2x')!['time/step vs SGD']);
  assert.ok(Math.abs(adam2 / adam - 2) < 1e-3, `${adam2} vs ${adam}`);
  assert.equal(fig1.get('adam@2x')!['state bytes/param'], fig1.get('adam')!['state bytes/param']);

  const headlineCaption = Object.keys(facts.tables).find((c) => c.startsWith('Headline numbers'))!;
  const headline = rowsByFirstCell(facts.tables[headlineCaption]);
  assert.equal(headline.has('adam@2x'), false, 'the headline compares 1x runs');
  for (const label of ['sgd', 'adam']) {
    const row = headline.get(label)!;
    assert.equal(row['mean loss'], fmt(mean(fx.evalLosses.get(label)!)));
    // The target is the worst final loss among trained optimizers: each of them reaches it.
    assert.ok(Number(row['seconds to target']) > 0, `${label}: ${row['seconds to target']}`);
    assert.ok(Number(row['steps to target']) >= 1);
  }
  const transferCaption = Object.keys(facts.tables).find((c) => c.startsWith('Transfer table'))!;
  const transfer = rowsByFirstCell(facts.tables[transferCaption]);
  assert.deepEqual([...transfer.keys()], ['quadratic', 'log-quadratic', 'sum-quadratic']);
  assert.equal(transfer.get('quadratic')!.role, 'meta-train');
});

test('missing parts say so and name the command that fills them; what is there is still plotted', async () => {
  const dbPath = join(root, 'partial.db');
  copyFileSync(fx.dbPath, dbPath);
  const db = new Database(dbPath);
  db.exec('DELETE FROM timings; DELETE FROM variants; DELETE FROM curves;');
  db.close();
  const runDir = join(root, 'run-without-metagen');
  cpSync(fx.runDir, runDir, { recursive: true });
  rmSync(join(runDir, 'metagen.jsonl'));
  const result = await writeReport({ dbPath, outDir: join(root, 'partial'), runDirs: [runDir] });
  const facts = await inspect(result.indexPath);
  assertCleanPage(facts, result.indexPath);
  const section = (id: string) => facts.sections.find((s) => s.id === id)!;
  assert.match(section('fig1').text, /no step-time measurements[\s\S]*lopt study --tasks \S+ --optimizers \S+ --phases overhead/);
  assert.ok(facts.svgs.some((s) => s.section === 'fig1'), 'Fig. 1 still plots loss vs memory');
  assert.match(section('headline').text, /no evaluation curves[\s\S]*lopt study/);
  assert.match(section('fig2').text, /lopt study --tasks fmnist-mlp --variants "features=[^"]+" --meta-budget-minutes M/);
  assert.match(section('fig3').text, /lopt study --tasks fmnist-mlp --variants "hidden=[\d,]+" --meta-budget-minutes M/);
  assert.match(section('fig4').text, /no batch-size or width sweeps[\s\S]*--phases overhead/);
  assert.match(section('fig5').text, /no evaluation curves/);
  assert.equal(section('meta').missing, false);
  assert.match(section('metagen').text, /lopt meta-eval --run DIR/);
  for (const part of ['Fig. 1 timings', 'headline curves', 'Fig. 2', 'Fig. 3', 'Fig. 4', 'Fig. 5', 'meta-generalization']) {
    assert.ok(result.missing.some((m) => m.startsWith(part)), `${part} not in ${JSON.stringify(result.missing)}`);
  }
});

test('an empty database: every section says what is missing and how to fill it', async () => {
  const dbPath = join(root, 'empty.db');
  new ResultsDb(dbPath).close();
  const result = await writeReport({ dbPath, outDir: join(root, 'empty') });
  assert.deepEqual(result.plots, []);
  const facts = await inspect(result.indexPath);
  assertCleanPage(facts, result.indexPath);
  assert.equal(facts.svgs.length, 0);
  for (const s of facts.sections) assert.equal(s.missing, true, `${s.id} does not say its data are missing`);
  const text = facts.sections.map((s) => s.text).join('\n');
  for (const command of [`lopt study --tasks fmnist-mlp,cifar10-conv`, `--db ${dbPath}`, 'lopt meta-train --lopt small_fc_lopt --task fmnist-mlp --out DIR', `lopt report --db ${dbPath} --out REPORT_DIR --runs DIR`]) {
    assert.ok(text.includes(command), command);
  }
  assert.equal(result.missing.length, facts.sections.length + 1); // the headline also lacks the baseline search
});

test('a recipe ablation folder adds its table (results.json, paired against the reference recipe)', async () => {
  const dbPath = join(root, 'ablation.db');
  new ResultsDb(dbPath).close();
  const ablationDir = mkdtempSync(join(tmpdir(), 'lopt-ablation-report-'));
  const rows = [
    { variant: 'fixed', updates: 1000, innerSteps: 320000, mean: 0.3367, losses: [0.33, 0.335, 0.345] },
    { variant: 'tasks-16', updates: 500, innerSteps: 320000, mean: 0.3333, losses: [0.325, 0.33, 0.345] },
  ];
  writeFileSync(join(ablationDir, 'results.json'), JSON.stringify({ keys: { seed: 12, evalSeeds: 3, innerSteps: 2000 }, rows }));
  const result = await writeReport({ dbPath, outDir: join(root, 'ablation'), ablationDir });
  rmSync(ablationDir, { recursive: true, force: true });
  const facts = await inspect(result.indexPath);
  assertCleanPage(facts, result.indexPath);
  const section = facts.sections.find((s) => s.id === 'ablation');
  assert.ok(section && !section.missing, 'no ablation section');
  assert.ok(section.text.includes('tasks-16') && section.text.includes('−0.0033 ± 0.0017'), section.text);
});
