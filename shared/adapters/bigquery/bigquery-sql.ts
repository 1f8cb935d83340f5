/**
 * The project's SQL is already BigQuery's dialect; for BigQuery only three things are rendered:
 *  - `{{dataset.table}}` → `` `project.<prefix>_dataset.table` ``;
 *  - parameter renames, when two statements of one transaction use one name for different values (`@game_date` →
 *    `@game_date_s2`), done outside string literals, quoted identifiers and comments;
 *  - the transaction script: `BEGIN TRANSACTION;`, each statement starting on a line of its own (the line identifies the
 *    statement's child job), `COMMIT TRANSACTION;`.
 */
import { prefixedDataset, renderTables, type Query, type QueryParam } from '../../ports/warehouse.js';
import { sameParam } from './bigquery-params.js';
import { errorMessage } from '../../errors/error-message.js';

export function quoteBigQueryIdent(path: string): string {
  if (path.includes('`')) throw new Error(`identifier ${path} contains a backtick`);
  return `\`${path}\``;
}

/** `` `project.<prefix>_dataset` ``. */
export function bigQueryDatasetName(projectId: string, dataset: string, datasetPrefix?: string): string {
  return quoteBigQueryIdent(`${projectId}.${prefixedDataset(dataset, datasetPrefix)}`);
}

/** `` `project.<prefix>_dataset.table` ``. */
export function bigQueryTableName(projectId: string, dataset: string, table: string, datasetPrefix?: string): string {
  return quoteBigQueryIdent(`${projectId}.${prefixedDataset(dataset, datasetPrefix)}.${table}`);
}

export function renderBigQuerySql(sql: string, projectId: string, datasetPrefix?: string): string {
  return renderTables(sql, (dataset, table) => bigQueryTableName(projectId, dataset, table, datasetPrefix));
}

interface Scan {
  /** Every `@name` parameter reference (not `@@system_variable`), with its offset. */
  params: Array<{ name: string; start: number; end: number }>;
  /** Offsets of `;` outside literals and comments. */
  semicolons: number[];
}

/** Finds parameters and statement separators, skipping string literals (incl. triple-quoted), `identifiers` and comments. */
// eslint-disable-next-line complexity -- a character scanner: one branch per lexical form (quotes, triple quotes, backticks, comments, parameters)
function scan(sql: string): Scan {
  const out: Scan = { params: [], semicolons: [] };
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if ((ch === '-' && next === '-') || ch === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated /* comment in SQL');
      i = end + 2;
    } else if (ch === "'" || ch === '"') {
      const triple = sql.startsWith(ch.repeat(3), i);
      const close = triple ? ch.repeat(3) : ch;
      let j = i + close.length;
      for (;;) {
        if (j >= n) throw new Error(`unterminated string literal starting at offset ${i}`);
        if (sql[j] === '\\') j += 2;
        else if (sql.startsWith(close, j)) break;
        else j++;
      }
      i = j + close.length;
    } else if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new Error('unterminated `identifier` in SQL');
      i = end + 1;
    } else if (ch === '@' && next === '@') {
      i += 2;
      while (i < n && /[A-Za-z0-9_]/.test(sql[i] as string)) i++;
    } else if (ch === '@' && next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j] as string)) j++;
      out.params.push({ name: sql.slice(i + 1, j), start: i, end: j });
      i = j;
    } else {
      if (ch === ';') out.semicolons.push(i);
      i++;
    }
  }
  return out;
}

/** The parameter names a statement refers to. */
export function parameterNames(sql: string): string[] {
  return [...new Set(scan(sql).params.map((p) => p.name))];
}

/** Rewrites `@from` → `@to` for each rename, leaving literals, identifiers and comments alone. */
export function renameParameters(sql: string, renames: ReadonlyMap<string, string>): string {
  let out = '';
  let last = 0;
  for (const p of scan(sql).params) {
    const to = renames.get(p.name);
    if (to === undefined) continue;
    out += `${sql.slice(last, p.start)}@${to}`;
    last = p.end;
  }
  return out + sql.slice(last);
}

/** The statement without surrounding blanks and trailing `;`; a `;` inside it (two statements in one) is an error. */
export function singleStatement(sql: string): string {
  let body = sql.trim();
  for (;;) {
    const semis = scan(body).semicolons;
    const lastSemi = semis[semis.length - 1];
    if (lastSemi !== undefined && body.slice(lastSemi + 1).trim() === '') {
      body = body.slice(0, lastSemi).trimEnd();
      continue;
    }
    if (semis.length > 0) throw new Error('holds more than one statement (a `;` inside it); give each statement its own Query');
    return body;
  }
}

export interface TransactionScript {
  sql: string;
  params: Record<string, QueryParam>;
  /** One-based line on which each statement starts, in statement order: BigQuery's stack frame for its child job. */
  startLines: number[];
}

/**
 * One script: BEGIN TRANSACTION; statements; COMMIT TRANSACTION. Parameters are merged; a name two statements use for
 * different values is renamed in the later statement (`name_s<k>`). Each `;` sits on its own line, so a trailing `--`
 * comment cannot swallow it.
 */
export function transactionScript(statements: readonly Query[], render: (q: Query) => string): TransactionScript {
  const params: Record<string, QueryParam> = {};
  const lines: string[] = ['BEGIN TRANSACTION;'];
  const startLines: number[] = [];
  statements.forEach((st, k) => {
    let sql: string;
    try {
      sql = singleStatement(render(st));
    } catch (err) {
      throw new Error(`statement ${st.name}: ${errorMessage(err)}`, { cause: err });
    }
    const renames = new Map<string, string>();
    const own = new Set(Object.keys(st.params ?? {}));
    for (const [name, p] of Object.entries(st.params ?? {})) {
      const existing = params[name];
      if (existing === undefined) {
        params[name] = p;
      } else if (!sameParam(existing, p)) {
        let alias = `${name}_s${k + 1}`;
        while (params[alias] !== undefined || own.has(alias)) alias = `${alias}_`;
        params[alias] = p;
        renames.set(name, alias);
      }
    }
    if (renames.size > 0) sql = renameParameters(sql, renames);
    startLines.push(lines.length + 1);
    lines.push(...sql.split('\n'), ';');
  });
  lines.push('COMMIT TRANSACTION;');
  return { sql: lines.join('\n'), params, startLines };
}
