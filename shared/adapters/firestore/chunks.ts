/**
 * Splits a list into chunks whose JSON stays under a byte budget (a Firestore document holds at most 1 MiB), and names
 * chunk documents so they sort in order. A single item over the budget is an error, never silently dropped or truncated.
 */
export function chunkByJsonBytes<T>(items: readonly T[], budgetBytes: number, what: string): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 2; // the enclosing []
  for (const [i, item] of items.entries()) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1; // plus the separating comma
    if (itemBytes + 2 > budgetBytes)
      throw new Error(`${what} ${i} is ${itemBytes} bytes of JSON, over the ${budgetBytes}-byte chunk budget`);
    if (current.length > 0 && size + itemBytes > budgetBytes) {
      chunks.push(current);
      current = [];
      size = 2;
    }
    current.push(item);
    size += itemBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export const chunkId = (index: number): string => String(index).padStart(5, '0');

/** Firestore document ids may not contain `/`, be `.` or `..`, match `__.*__`, or exceed 1,500 bytes. */
export function assertDocId(id: string, what: string): string {
  if (id === '' || id.includes('/') || id === '.' || id === '..' || /^__.*__$/.test(id) || Buffer.byteLength(id) > 1500) {
    throw new Error(`${what} ${JSON.stringify(id)} cannot be a Firestore document id`);
  }
  return id;
}

/**
 * Player lookups become distinct, valid document ids: URI-encoded (so `/` cannot break the path), and when that still
 * leaves a reserved id (`.`, `..`, `__x__`) its dots and underscores are encoded too (`%2E`, `%5F` never come out of
 * encodeURIComponent itself, so ids stay distinct). The player doc also stores the lookup as a field.
 */
export function playerDocId(playerLookup: string): string {
  const id = encodeURIComponent(playerLookup);
  const reserved = id === '.' || id === '..' || /^__.*__$/.test(id);
  return assertDocId(reserved ? id.replace(/\./g, '%2E').replace(/_/g, '%5F') : id, 'player_lookup');
}
