/**
 * The fenced code blocks of the project's Markdown, for test/e2e/docs-commands.test.ts.
 *
 * Rules for writers (docs/testing.md → Commands in the docs):
 *  - every fence names its language: `sh` (also bash, shell) and `sql` blocks are run by the docs test; anything else
 *    (`text`, `json`, `yaml`, `ts`, …) is shown only;
 *  - a `sh` or `sql` block that cannot run on a developer machine carries, on the line right before its fence (blank lines
 *    allowed in between), `<!-- not-run-locally: why -->` — the reason is required.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const RUNNABLE = new Set(['sh', 'bash', 'shell', 'sql']);

export interface DocBlock {
  /** Repo-relative file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The not-run-locally reason, when the block carries the marker. */
  notRunReason?: string;
}

export interface DocProblem {
  file: string;
  line: number;
  problem: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*$/;
const MARKER = /^\s*<!--\s*not-run-locally\s*:\s*(.*?)\s*-->\s*$/;

// eslint-disable-next-line complexity -- a line-by-line markdown fence parser: open, close, marker and the malformed cases it reports
export function docBlocks(markdown: string, file: string): { blocks: DocBlock[]; problems: DocProblem[] } {
  const lines = markdown.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  const problems: DocProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    let end = i + 1;
    while (end < lines.length && !new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(lines[end] as string))
      end++;
    const code = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
      .join('\n');
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const previous = before >= 0 ? (lines[before] as string) : '';
    const marker = MARKER.exec(previous);
    const block: DocBlock = { file, line: i + 1, lang: lang.toLowerCase(), code, ...(marker ? { notRunReason: marker[1] } : {}) };
    if (lang === '')
      problems.push({
        file,
        line: i + 1,
        problem: 'the fence names no language: use sh or sql (run by the docs test), or text, json, … (shown only)',
      });
    if (!marker && previous.includes('not-run-locally'))
      problems.push({
        file,
        line: i + 1,
        problem: `malformed marker before the fence: write <!-- not-run-locally: why --> (found ${previous.trim()})`,
      });
    if (marker && (marker[1] ?? '').trim() === '')
      problems.push({
        file,
        line: i + 1,
        problem: 'the not-run-locally marker gives no reason: say why the block cannot run on a developer machine',
      });
    if (marker && !RUNNABLE.has(block.lang))
      problems.push({
        file,
        line: i + 1,
        problem: `a ${block.lang || 'unlabeled'} block is never run: the not-run-locally marker does not belong on it`,
      });
    blocks.push(block);
    i = end;
  }
  return { blocks, problems };
}

/** docs/*.md and README.md. */
export function projectDocs(root: string): string[] {
  return [
    join(root, 'README.md'),
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(root, 'docs', f)),
  ];
}

export function allDocBlocks(root: string): { blocks: DocBlock[]; problems: DocProblem[] } {
  const blocks: DocBlock[] = [];
  const problems: DocProblem[] = [];
  for (const path of projectDocs(root)) {
    const r = docBlocks(readFileSync(path, 'utf8'), relative(root, path));
    blocks.push(...r.blocks);
    problems.push(...r.problems);
  }
  return { blocks, problems };
}
