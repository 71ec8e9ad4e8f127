/**
 * Best-effort `insertId` de-duplication, as BigQuery's streaming API does it: a row whose insertId was
 * already stored for the same table within the window is acknowledged but not stored again.
 * In memory only, like BigQuery's own (which is best effort and forgets after about a minute).
 */
export class InsertIdWindow {
  /** table key → insertId → expiry (ms); Map order is insertion order, so expired ids sit at the front. */
  private readonly seenByTable = new Map<string, Map<string, number>>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(tableKey: string, insertId: string): boolean {
    return this.prune(tableKey)?.has(insertId) ?? false;
  }

  remember(tableKey: string, insertIds: Iterable<string>): void {
    let seen = this.seenByTable.get(tableKey);
    if (!seen) {
      seen = new Map();
      this.seenByTable.set(tableKey, seen);
    }
    const expiresAt = this.now() + this.windowMs;
    for (const id of insertIds) {
      seen.delete(id);
      seen.set(id, expiresAt);
    }
  }

  /** A deleted and re-created table starts with a clean slate. */
  forgetTable(tableKey: string): void {
    this.seenByTable.delete(tableKey);
  }

  forgetDataset(datasetKeyPrefix: string): void {
    for (const key of this.seenByTable.keys()) {
      if (key.startsWith(datasetKeyPrefix)) this.seenByTable.delete(key);
    }
  }

  private prune(tableKey: string): Map<string, number> | undefined {
    const seen = this.seenByTable.get(tableKey);
    if (!seen) return undefined;
    const now = this.now();
    for (const [id, expiresAt] of seen) {
      if (expiresAt > now) break;
      seen.delete(id);
    }
    return seen;
  }
}
