import { createHash } from 'node:crypto';

/**
 * Tamper evidence for the embedded store: each event row carries
 *   hash = sha256(previousHash || utf8(canonical fields))
 * so editing, inserting or deleting a row breaks the chain from that row on. The first event chains
 * from GENESIS_HASH. The fields are taken exactly as stored (data and metadata as their JSON text),
 * so verification never depends on how a JSON serializer orders keys.
 *
 * The chain cannot reveal that the newest events were cut off the end: compare the `headHash` that
 * verification reports with one recorded elsewhere (a statement, a backup, an audit note) for that.
 */
export const GENESIS_HASH: Buffer = Buffer.alloc(32, 0);

export interface ChainedEventFields {
  position: number;
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
  recordedAt: string;
}

/**
 * Every text field is prefixed with its length, so no choice of characters inside one field can make
 * two different rows encode to the same bytes.
 */
export function canonicalEventText(fields: ChainedEventFields): string {
  return (
    `${fields.position}|${fields.streamId.length}:${fields.streamId}|${fields.revision}|` +
    `${fields.eventId.length}:${fields.eventId}|${fields.type.length}:${fields.type}|${fields.schemaVersion}|` +
    `${fields.dataJson.length}:${fields.dataJson}|${fields.metadataJson.length}:${fields.metadataJson}|` +
    `${fields.recordedAt.length}:${fields.recordedAt}`
  );
}

export function chainHash(previousHash: Buffer, fields: ChainedEventFields): Buffer {
  return createHash('sha256').update(previousHash).update(canonicalEventText(fields), 'utf8').digest();
}
