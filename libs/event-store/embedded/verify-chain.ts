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
  hash: Buffer,
];

/**
 * Recomputes the hash chain of an embedded store file from the first event to the last and names the
 * first event whose stored hash does not match. Opens the file read-only inside one read transaction,
 * so it can run while the service keeps writing (it checks the log as it stood when it started).
 *
 * The store gives consecutive positions, so a gap names the event right after missing rows; the chain
 * itself makes that event fail too, since its hash was made over the missing predecessor's.
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
      if (!(Buffer.isBuffer(storedHash) && expectedHash.equals(storedHash))) {
        const reason =
          position !== previousPosition + 1
            ? `events at positions ${previousPosition + 1}..${position - 1} are missing`
            : 'its content or stored hash changed after it was recorded';
        if (rows.return) rows.return();
        return { ok: false, eventsChecked, firstBadPosition: position, eventId, streamId, reason };
      }
      previousHash = storedHash;
      previousPosition = position;
      eventsChecked++;
    }
    return { ok: true, eventsChecked, headHash: previousHash.toString('hex') };
  } finally {
    db.close();
  }
}
