/** One event's keys, as the key directory records them. */
export interface EventKeys {
  position: number;
  streamId: string;
  revision: number;
  eventId: string;
}

/**
 * The in-memory index of the embedded store (a "keydir", as in Bitcask): for each stream the positions
 * of its events by revision, and for each event id its position. It is built from the log and kept in
 * step with it, so the log file stays append-only and every lookup an append needs is a map read.
 *
 * Cost: roughly 100 bytes per event and one pass over the log when first needed. Invariants the log
 * must keep (revisions 0, 1, 2... per stream, with no gap) are checked as entries arrive; a log that
 * breaks them was written by something other than this store, and the store refuses to go on.
 */
export class KeyDirectory {
  private readonly positionsByStream = new Map<string, number[]>();
  private readonly positionByEventId = new Map<string, number>();
  /** Every event at or before this position is in the directory. */
  private throughPositionValue = 0;

  get throughPosition(): number {
    return this.throughPositionValue;
  }

  add(keys: EventKeys): void {
    let positions = this.positionsByStream.get(keys.streamId);
    if (positions === undefined) {
      positions = [];
      this.positionsByStream.set(keys.streamId, positions);
    }
    if (keys.revision !== positions.length) {
      throw new Error(
        `Event store log is inconsistent: event ${keys.eventId} at position ${keys.position} has revision ` +
          `${keys.revision} in stream ${keys.streamId}, expected ${positions.length}`,
      );
    }
    if (keys.position <= this.throughPositionValue) {
      throw new Error(`Event store log is inconsistent: position ${keys.position} does not follow ${this.throughPositionValue}`);
    }
    positions.push(keys.position);
    this.positionByEventId.set(keys.eventId, keys.position);
    this.throughPositionValue = keys.position;
  }

  /**
   * Takes back entries added since `throughPosition` was `previousThroughPosition`, newest first, for a
   * transaction that did not commit.
   */
  removeNewest(added: readonly EventKeys[], previousThroughPosition: number): void {
    for (let index = added.length - 1; index >= 0; index--) {
      const keys = added[index];
      const positions = this.positionsByStream.get(keys.streamId) as number[];
      positions.pop();
      if (positions.length === 0) this.positionsByStream.delete(keys.streamId);
      this.positionByEventId.delete(keys.eventId);
    }
    this.throughPositionValue = previousThroughPosition;
  }

  /** The revision of the stream's last event, or -1 when it has none. */
  lastRevision(streamId: string): number {
    return (this.positionsByStream.get(streamId)?.length ?? 0) - 1;
  }

  positionAtRevision(streamId: string, revision: number): number | undefined {
    return this.positionsByStream.get(streamId)?.[revision];
  }

  /** Positions of the stream's events from `fromRevision` on, in revision order. */
  streamPositions(streamId: string, fromRevision: number, maxCount: number | undefined): number[] {
    const positions = this.positionsByStream.get(streamId);
    if (positions === undefined) return [];
    const start = Math.max(0, fromRevision);
    return positions.slice(start, maxCount === undefined ? undefined : start + Math.max(0, maxCount));
  }

  positionOfEvent(eventId: string): number | undefined {
    return this.positionByEventId.get(eventId);
  }
}
