/** How the docs test reads Markdown: fences, languages, and the not-run-locally marker with its required reason. */
import { describe, expect, it } from 'vitest';
import { docBlocks } from '../helpers/doc-blocks.js';

const md = (...lines: string[]) => lines.join('\n');

describe('doc blocks', () => {
  it('reads each fence with its language, code and line; an indented fence (in a list) loses its indent', () => {
    const { blocks, problems } = docBlocks(
      md('# T', '```sh', 'echo one', '```', '', '1. step:', '   ```sql', '   SELECT 1', '   ```'),
      'x.md',
    );
    expect(problems).toEqual([]);
    expect(blocks).toEqual([
      { file: 'x.md', line: 2, lang: 'sh', code: 'echo one' },
      { file: 'x.md', line: 7, lang: 'sql', code: 'SELECT 1' },
    ]);
  });

  it('takes the marker on the line before the fence (blank lines between allowed) with its reason', () => {
    const { blocks, problems } = docBlocks(md('<!-- not-run-locally: needs a GCP project -->', '', '```sh', 'gcloud x', '```'), 'x.md');
    expect(problems).toEqual([]);
    expect(blocks[0]?.notRunReason).toBe('needs a GCP project');
  });

  it('does not take a marker that has text between it and the fence', () => {
    const { blocks } = docBlocks(md('<!-- not-run-locally: needs a GCP project -->', 'Some words.', '```sh', 'gcloud x', '```'), 'x.md');
    expect(blocks[0]?.notRunReason).toBeUndefined();
  });

  it('reports a marker without a reason, a malformed marker, a marker on a block never run, and a fence without a language', () => {
    const problems = (text: string) => docBlocks(text, 'x.md').problems.map((p) => p.problem);
    expect(problems(md('<!-- not-run-locally: -->', '```sh', 'x', '```'))).toEqual([expect.stringMatching(/gives no reason/)]);
    expect(problems(md('<!-- not-run-locally -->', '```sh', 'x', '```'))).toEqual([expect.stringMatching(/malformed marker/)]);
    expect(problems(md('<!-- not-run-locally: why -->', '```text', 'x', '```'))).toEqual([expect.stringMatching(/does not belong/)]);
    expect(problems(md('```', 'npm run something', '```'))).toEqual([expect.stringMatching(/names no language/)]);
  });

  it('does not read the inside of a block as fences', () => {
    const { blocks } = docBlocks(md('````text', '```sh', 'not a block', '```', '````'), 'x.md');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.lang).toBe('text');
  });
});
