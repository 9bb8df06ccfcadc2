// The repository stands alone: nothing in its sources, tests, benchmarks, scripts, examples, native
// code, documents or README cites a file that lives outside it (the team's notes next to the
// checkout, absolute paths on the team's machines), and every citation of the project's own
// specification (docs/specification.md, "§N") names a section that exists there.
//
// The patterns are assembled from pieces at run time, so this file does not match them and is scanned
// like any other. One path is allowed on purpose: the parent folder's `datasets/` directory, where
// project machines and CI keep the raw data sets that scripts/install-data.mjs copies when it is
// present. It is a data source location (the code works without it and says where else to get the
// data), not a citation of a document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: two levels above the compiled file (dist/test/), or one above the source (test/). */
function repositoryRoot(): string {
  for (const up of ['../../', '../']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src')) && existsSync(join(dir, 'docs'))) return dir;
  }
  throw new Error(`cannot find the repository root above ${fileURLToPath(import.meta.url)}`);
}

const root = repositoryRoot();
const SCANNED_DIRS = ['src', 'docs', 'test', 'bench', 'scripts', 'examples', 'native'];
const SCANNED_FILES = ['README.md'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', '.git']);
/** Generated and git-ignored: `npm run docs` writes the API reference there from the sources' comments. */
const SKIPPED_PATHS = new Set([join('docs', 'api')]);
const SPEC = 'docs/specification.md';

/** Every text file to scan, relative to the root, in a stable order. */
function scannedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = join(dir, name);
      const stat = statSync(join(root, rel));
      if (stat.isDirectory()) {
        if (!SKIPPED_DIRS.has(name) && !SKIPPED_PATHS.has(rel)) walk(rel);
      } else if (stat.isFile()) {
        out.push(rel);
      }
    }
  };
  for (const dir of SCANNED_DIRS) if (existsSync(join(root, dir))) walk(dir);
  for (const file of SCANNED_FILES) if (existsSync(join(root, file))) out.push(file);
  return out;
}

/** The lines of a text file, or null for a binary one (a NUL byte). */
function textLines(rel: string): string[] | null {
  const bytes = readFileSync(join(root, rel));
  if (bytes.includes(0)) return null;
  return bytes.toString('utf8').split('\n');
}

const files = scannedFiles();

// The words of the outside files, split so that this file does not contain them.
const NOTES = ['REFER', 'ENCE'].join('');
const PLAN = ['DES', 'IGN'].join('');
const SHARED = ['sha', 'red'].join('');

const OUTSIDE_CITATIONS: { what: string; pattern: RegExp }[] = [
  { what: 'a section of the team notes', pattern: new RegExp(`\\b${NOTES}(?:\\s*§|\\s+section\\b)`) },
  { what: 'the team notes file', pattern: new RegExp(`\\b${NOTES}\\.md\\b`, 'i') },
  { what: 'the house plan file', pattern: new RegExp(`\\b${PLAN}\\.md\\b`, 'i') },
  { what: "the team's documents folder", pattern: new RegExp(`\\b${SHARED}/docs\\b`) },
  { what: 'a folder beside the checkout (other than the data sets)', pattern: new RegExp(`\\.\\./${SHARED}(?!/datasets\\b)`) },
  { what: "an absolute path on the team's machines", pattern: new RegExp(`/work/(?:${SHARED}|main)\\b`) },
];

test('the repository cites no file outside itself', () => {
  assert.ok(files.length > 50, `expected to scan the repository's files, found ${files.length} under ${root}`);
  const found: string[] = [];
  for (const rel of files) {
    const lines = textLines(rel);
    if (!lines) continue;
    lines.forEach((line, i) => {
      for (const { what, pattern } of OUTSIDE_CITATIONS) {
        if (pattern.test(line)) found.push(`${rel}:${i + 1}: cites ${what}: ${line.trim().slice(0, 160)}`);
      }
    });
  }
  assert.deepEqual(found, [], `citations of files outside the repository (cite ${SPEC} instead):\n${found.join('\n')}`);
});

test('the patterns catch what they are for, and allow the data sets folder', () => {
  const cites = (line: string) => OUTSIDE_CITATIONS.some(({ pattern }) => pattern.test(line));
  assert.ok(cites(`// as the notes say (${NOTES} §5)`));
  assert.ok(cites(`It follows ${NOTES} section 3.`));
  assert.ok(cites(`see ../${SHARED}/docs/${NOTES}.md`));
  assert.ok(cites(`the plan in ${PLAN}.md`));
  assert.ok(cites(`read /work/${SHARED}/docs/paper.txt`));
  assert.ok(!cites(`copy it from ../${SHARED}/datasets/tiny-imagenet16/`));
  assert.ok(!cites(`run_id INTEGER NOT NULL ${NOTES}S runs(id)`));
  assert.ok(!cites(`const ${NOTES}_STEPS = 8;`));
});

/** Section numbers of the specification: its `## N. Title` headings. */
function specSections(): number[] {
  const text = readFileSync(join(root, SPEC), 'utf8');
  return [...text.matchAll(/^## (\d+)\. \S/gm)].map((m) => Number(m[1]));
}

test('the specification numbers its sections 1, 2, 3, … without gaps', () => {
  const sections = specSections();
  assert.ok(sections.length >= 10, `${SPEC} has ${sections.length} numbered sections`);
  assert.deepEqual(sections, sections.map((_, i) => i + 1));
});

test('every citation of the specification names a section that exists', () => {
  const sections = new Set(specSections());
  // "specification §8", "docs/specification.md §20", "`docs/specification.md` §9 to §16", "§3, §4 and §5".
  const citation = /specification(?:\.md)?`?((?:\s*(?:,|and|to|–|-)?\s*§\s?\d+)+)/g;
  const found: string[] = [];
  let count = 0;
  for (const rel of files) {
    const lines = textLines(rel);
    if (!lines) continue;
    lines.forEach((line, i) => {
      for (const match of line.matchAll(citation)) {
        for (const number of match[1].matchAll(/§\s?(\d+)/g)) {
          count++;
          if (!sections.has(Number(number[1]))) found.push(`${rel}:${i + 1}: §${number[1]} is not a section of ${SPEC}: ${line.trim().slice(0, 160)}`);
        }
      }
    });
  }
  assert.ok(count > 0, `no citation of ${SPEC} found: is the pattern right?`);
  assert.deepEqual(found, [], found.join('\n'));
});

test('the scan covers this file and the specification', () => {
  const self = relative(root, fileURLToPath(import.meta.url)).replace(/\.js$/, '.ts').replace(/^dist[\\/]/, '');
  assert.ok(files.includes(SPEC), `${SPEC} is not among the scanned files`);
  assert.ok(files.includes(self), `${self} is not among the scanned files`);
});
