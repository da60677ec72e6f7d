/**
 * The in-memory index of the embedded store (a "keydir", as in Bitcask): for each stream the positions
 * of its events by revision, and for each event id its position. It is built from the log and kept in
 * step with it, so the log file stays append-only and every lookup an append needs is a map read. Past
 * the log's committed end it also holds the appends this process has decided and not yet committed,
 * newest last, so they can be taken back if their commit fails.
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

  add(position: number, streamId: string, revision: number, eventId: string): void {
    let positions = this.positionsByStream.get(streamId);
    if (positions === undefined) {
      positions = [];
      this.positionsByStream.set(streamId, positions);
    }
    if (revision !== positions.length) {
      throw new Error(
        `Event store log is inconsistent: event ${eventId} at position ${position} has revision ` +
          `${revision} in stream ${streamId}, expected ${positions.length}`,
      );
    }
    if (position <= this.throughPositionValue) {
      throw new Error(`Event store log is inconsistent: position ${position} does not follow ${this.throughPositionValue}`);
    }
    positions.push(position);
    this.positionByEventId.set(eventId, position);
    this.throughPositionValue = position;
  }

  /**
   * Takes back the newest entry of a stream, for a decision that was not committed. Called newest first;
   * `rewindTo` then sets the position the directory is complete through.
   */
  removeNewest(streamId: string, eventId: string): void {
    const positions = this.positionsByStream.get(streamId) as number[];
    positions.pop();
    if (positions.length === 0) this.positionsByStream.delete(streamId);
    this.positionByEventId.delete(eventId);
  }

  rewindTo(throughPosition: number): void {
    this.throughPositionValue = throughPosition;
  }

  /** The revision of the stream's last event, or -1 when it has none. */
  lastRevision(streamId: string): number {
    return (this.positionsByStream.get(streamId)?.length ?? 0) - 1;
  }

  positionAtRevision(streamId: string, revision: number): number | undefined {
    return this.positionsByStream.get(streamId)?.[revision];
  }

  /** Positions of the stream's events from `fromRevision` on, in revision order, up to `throughPosition`. */
  streamPositions(streamId: string, fromRevision: number, maxCount: number | undefined, throughPosition: number): number[] {
    const positions = this.positionsByStream.get(streamId);
    if (positions === undefined) return [];
    let end = positions.length;
    while (end > 0 && positions[end - 1] > throughPosition) end--;
    const start = Math.max(0, fromRevision);
    return positions.slice(start, maxCount === undefined ? end : Math.min(end, start + Math.max(0, maxCount)));
  }

  positionOfEvent(eventId: string): number | undefined {
    return this.positionByEventId.get(eventId);
  }
}
