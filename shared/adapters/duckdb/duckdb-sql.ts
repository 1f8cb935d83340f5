/**
 * Renders the project's BigQuery-dialect SQL (warehouse port conventions) for DuckDB.
 *
 * The project writes SQL to a small subset, which both engines accept once these rewrites are made:
 *   SELECT / WITH (CTEs) / JOIN / WHERE / GROUP BY / ORDER BY / LIMIT / QUALIFY / ROW_NUMBER() OVER (PARTITION BY … ORDER BY …),
 *   CASE, COALESCE, LOWER, UPPER, COUNT, SUM, AVG, MIN, MAX, ROUND, ABS,
 *   INSERT INTO … (cols) VALUES / SELECT, UPDATE … SET … WHERE, DELETE FROM … WHERE,
 *   MERGE INTO … [AS] T USING (SELECT … QUALIFY …) [AS] S ON … WHEN MATCHED [AND …] THEN UPDATE SET … | DELETE,
 *   WHEN NOT MATCHED [BY TARGET] THEN INSERT (cols) VALUES (…), WHEN NOT MATCHED BY SOURCE THEN DELETE.
 *
 * Rewrites (only outside string literals, quoted identifiers and comments):
 *   {{dataset.table}}            → "<prefix>_dataset"."table"   (prefix from the query's datasetPrefix)
 *   IN UNNEST(@p)                → IN (SELECT unnest($p))       (also NOT IN UNNEST(@p))
 *   @p                           → $p
 *   CAST(x AS T), SAFE_CAST(…)   → CAST(x AS T'), TRY_CAST(…) with T' for INT64 → BIGINT, FLOAT64 → DOUBLE, STRING → VARCHAR,
 *                                  NUMERIC → DECIMAL(38,9), NUMERIC(p,s) → DECIMAL(p,s), BOOL → BOOLEAN (DATE, TIMESTAMP unchanged)
 *   CURRENT_TIMESTAMP()          → CURRENT_TIMESTAMP;  CURRENT_DATE() → CURRENT_DATE
 *   `identifier`                 → "identifier"
 *   # comment                    → -- comment
 * String literals follow BigQuery: '…' or "…" with backslash escapes (\\ \' \" \n \r \t); they are re-emitted as DuckDB
 * '…' literals (a quote doubled). Not supported (an Error says so): triple-quoted, raw (r'…') and bytes (b'…') literals, and
 * adjacent literals such as 'it''s' (BigQuery rejects those too; write 'it\'s').
 * Everything else passes through unchanged: date arithmetic (DATE_SUB, INTERVAL …), STRUCT/ARRAY literals, typed ARRAY<…>
 * casts and BigQuery-only functions are outside the subset — compute dates in TypeScript and pass them as parameters.
 */
import { prefixedDataset } from '../../ports/warehouse.js';

type Token =
  | { kind: 'ws' | 'comment' | 'punct' | 'other'; text: string }
  | { kind: 'word'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'ident'; name: string }
  | { kind: 'table'; dataset: string; table: string };

const CAST_TYPES: Readonly<Record<string, string>> = {
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  STRING: 'VARCHAR',
  NUMERIC: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,9)',
  BOOL: 'BOOLEAN',
};

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t' };

const TABLE_TOKEN_AT = /^\{\{\s*([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\s*\}\}/i;

// eslint-disable-next-line complexity -- a tokenizer: one branch per lexical form (quotes, triple quotes, backticks, comments, parameters, table tokens)
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(ch)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j] as string)) j++;
      tokens.push({ kind: 'ws', text: sql.slice(i, j) });
      i = j;
    } else if ((ch === '-' && next === '-') || ch === '#') {
      let j = sql.indexOf('\n', i);
      if (j < 0) j = n;
      const body = sql.slice(ch === '#' ? i + 1 : i + 2, j);
      tokens.push({ kind: 'comment', text: `--${body}` });
      i = j;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated /* comment in SQL');
      tokens.push({ kind: 'comment', text: sql.slice(i, end + 2) });
      i = end + 2;
    } else if (ch === "'" || ch === '"') {
      if (sql.startsWith(ch.repeat(3), i)) throw new Error('triple-quoted string literals are not supported');
      const prev = tokens[tokens.length - 1];
      if (prev?.kind === 'word' && /^(r|b|rb|br)$/i.test(prev.text)) {
        throw new Error(`${prev.text}'…' (raw or bytes) string literals are not supported`);
      }
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new Error(`unterminated string literal starting at offset ${i}`);
        const c = sql[j] as string;
        if (c === '\\') {
          const e = sql[j + 1];
          const mapped = e === undefined ? undefined : ESCAPES[e];
          if (mapped === undefined) throw new Error(`unsupported escape \\${e ?? ''} in string literal`);
          value += mapped;
          j += 2;
        } else if (c === ch) {
          j++;
          break;
        } else {
          value += c;
          j++;
        }
      }
      if (sql[j] === "'" || sql[j] === '"') {
        throw new Error(`adjacent string literals at offset ${j} (BigQuery rejects them; escape a quote as \\')`);
      }
      tokens.push({ kind: 'string', value });
      i = j;
    } else if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new Error('unterminated `identifier` in SQL');
      tokens.push({ kind: 'ident', name: sql.slice(i + 1, end) });
      i = end + 1;
    } else if (ch === '{' && next === '{') {
      const m = TABLE_TOKEN_AT.exec(sql.slice(i));
      if (!m) throw new Error(`malformed table token at offset ${i}: expected {{dataset.table}}`);
      tokens.push({ kind: 'table', dataset: m[1] as string, table: m[2] as string });
      i += m[0].length;
    } else if (ch === '@' && next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j] as string)) j++;
      tokens.push({ kind: 'param', name: sql.slice(i + 1, j) });
      i = j;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j) });
      i = j;
    } else if ('(),;.'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else {
      tokens.push({ kind: 'other', text: ch });
      i++;
    }
  }
  return tokens;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** Index of the next token that is not whitespace or a comment, at or after `from`. */
function nextSignificant(tokens: readonly Token[], from: number): number {
  let k = from;
  while (k < tokens.length && (tokens[k]?.kind === 'ws' || tokens[k]?.kind === 'comment')) k++;
  return k;
}

const textOf = (t: Token): string => ('text' in t ? t.text : '');
const isWord = (t: Token | undefined, word: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === word;
const isPunct = (t: Token | undefined, p: string): boolean => t?.kind === 'punct' && t.text === p;

/** Renders BigQuery-dialect SQL (the subset above) as DuckDB SQL. */
// eslint-disable-next-line complexity -- one pass over the tokens rewriting each BigQuery construct DuckDB spells differently; a branch per construct
export function renderDuckDbSql(sql: string, datasetPrefix?: string): string {
  const tokens = tokenize(sql);
  const out: string[] = [];
  // Paren depths at which a CAST/SAFE_CAST argument list is open: an `AS <type>` at that depth names the target type.
  const castDepths: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    switch (t.kind) {
      case 'ws':
      case 'comment':
      case 'other':
        out.push(t.text);
        break;
      case 'string':
        out.push(quoteString(t.value));
        break;
      case 'ident':
        out.push(quoteIdent(t.name));
        break;
      case 'param':
        out.push(`$${t.name}`);
        break;
      case 'table':
        out.push(`${quoteIdent(prefixedDataset(t.dataset, datasetPrefix))}.${quoteIdent(t.table)}`);
        break;
      case 'punct':
        if (t.text === '(') depth++;
        if (t.text === ')') {
          if (castDepths[castDepths.length - 1] === depth) castDepths.pop();
          depth--;
        }
        out.push(t.text);
        break;
      case 'word': {
        const upper = t.text.toUpperCase();
        const k1 = nextSignificant(tokens, i + 1);
        if (upper === 'IN' && isWord(tokens[k1], 'UNNEST')) {
          // IN UNNEST ( @p )  →  IN (SELECT unnest($p))
          const open = nextSignificant(tokens, k1 + 1);
          const p = nextSignificant(tokens, open + 1);
          const close = nextSignificant(tokens, p + 1);
          const pt = tokens[p];
          if (isPunct(tokens[open], '(') && pt?.kind === 'param' && isPunct(tokens[close], ')')) {
            out.push(`${t.text} (SELECT unnest($${pt.name}))`);
            i = close;
            break;
          }
          throw new Error('IN UNNEST(...) is supported only with a single @parameter: IN UNNEST(@name)');
        }
        if ((upper === 'CAST' || upper === 'SAFE_CAST') && isPunct(tokens[k1], '(')) {
          out.push(upper === 'SAFE_CAST' ? 'TRY_CAST' : t.text);
          castDepths.push(depth + 1);
          break;
        }
        if ((upper === 'CURRENT_TIMESTAMP' || upper === 'CURRENT_DATE') && isPunct(tokens[k1], '(')) {
          const close = nextSignificant(tokens, k1 + 1);
          if (isPunct(tokens[close], ')')) {
            out.push(upper);
            i = close;
            break;
          }
        }
        if (upper === 'AS' && castDepths[castDepths.length - 1] === depth) {
          const tt = tokens[k1];
          const typeName = tt?.kind === 'word' ? tt.text.toUpperCase() : '';
          let mapped = CAST_TYPES[typeName];
          // NUMERIC(p, s) keeps its precision and scale.
          if (/^(BIG)?NUMERIC$/.test(typeName) && isPunct(tokens[nextSignificant(tokens, k1 + 1)], '(')) mapped = 'DECIMAL';
          if (mapped !== undefined) {
            for (let k = i; k < k1; k++) out.push(textOf(tokens[k] as Token));
            out.push(mapped);
            i = k1;
            break;
          }
        }
        out.push(t.text);
        break;
      }
    }
  }
  return out.join('');
}
