import Database from 'better-sqlite3';
import { GENESIS_HASH, chainHash } from './event-hash-chain.js';

export type ChainVerification =
  | { ok: true; eventsChecked: number; headHash: string }
  | {
      ok: false;
      /** Events before the first bad one, which all matched. */
      eventsChecked: number;
      firstBadPosition: number;
      eventId: string;
      streamId: string;
      reason: string;
    };

type ChainRow = [
  position: number,
  streamId: string,
  revision: number,
  eventId: string,
  type: string,
  schemaVersion: number,
  dataJson: string,
  metadataJson: string,
  recordedAt: string,
  hash: string,
];

/**
 * Recomputes the hash chain of an embedded store file from the first event to the last and names the
 * first event that does not match. It also checks what the store guarantees but the file has no index
 * to enforce: positions follow one another with no gap, each stream's revisions run 0, 1, 2... and no
 * event id appears twice.
 *
 * Opens the file read-only inside one read transaction, so it can run while the service keeps writing;
 * it checks the log as it stood when it started.
 */
export function verifyChain(path: string): ChainVerification {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, hash
         FROM events ORDER BY position`,
      )
      .raw()
      .iterate() as IterableIterator<ChainRow>;
    const nextRevisionByStream = new Map<string, number>();
    const positionByEventId = new Map<string, number>();
    let previousHash = GENESIS_HASH;
    let previousPosition = 0;
    let eventsChecked = 0;
    for (const row of rows) {
      const [position, streamId, revision, eventId, type, schemaVersion, dataJson, metadataJson, recordedAt, storedHash] = row;
      const expectedHash = chainHash(previousHash, {
        position,
        streamId,
        revision,
        eventId,
        type,
        schemaVersion,
        dataJson,
        metadataJson,
        recordedAt,
      });
      const expectedRevision = nextRevisionByStream.get(streamId) ?? 0;
      const earlierPosition = positionByEventId.get(eventId);
      let reason: string | undefined;
      // A gap is reported first: the row after missing rows fails the hash too, and "missing" says why.
      if (position !== previousPosition + 1) reason = `events at positions ${previousPosition + 1}..${position - 1} are missing`;
      else if (expectedHash !== storedHash) reason = 'its content or stored hash changed after it was recorded';
      else if (revision !== expectedRevision) reason = `revision ${revision} where the stream's next revision is ${expectedRevision}`;
      else if (earlierPosition !== undefined) reason = `its event id was already recorded at position ${earlierPosition}`;
      if (reason !== undefined) {
        rows.return?.();
        return { ok: false, eventsChecked, firstBadPosition: position, eventId, streamId, reason };
      }
      nextRevisionByStream.set(streamId, revision + 1);
      positionByEventId.set(eventId, position);
      previousHash = storedHash;
      previousPosition = position;
      eventsChecked++;
    }
    return { ok: true, eventsChecked, headHash: previousHash };
  } finally {
    db.close();
  }
}
