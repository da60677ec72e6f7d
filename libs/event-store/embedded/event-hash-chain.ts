import { hash } from 'node:crypto';

/**
 * Tamper evidence for the embedded store: each event row carries
 *   hash = hex(sha256(utf8(previousHash + canonicalEventText(row))))
 * so editing, inserting or deleting a row breaks the chain from that row on. The first event chains
 * from GENESIS_HASH. The fields are taken exactly as stored (data and metadata as their JSON text),
 * so verification never depends on how a JSON serializer orders keys.
 *
 * The chain cannot reveal that the newest events were cut off the end: compare the `headHash` that
 * verification reports with one kept elsewhere (a closed statement, a backup, an audit note) for that.
 */
export const GENESIS_HASH = '0'.repeat(64);

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
 * two different rows encode to the same text.
 */
export function canonicalEventText(fields: ChainedEventFields): string {
  return (
    `${fields.position}|${fields.streamId.length}:${fields.streamId}|${fields.revision}|` +
    `${fields.eventId.length}:${fields.eventId}|${fields.type.length}:${fields.type}|${fields.schemaVersion}|` +
    `${fields.dataJson.length}:${fields.dataJson}|${fields.metadataJson.length}:${fields.metadataJson}|` +
    `${fields.recordedAt.length}:${fields.recordedAt}`
  );
}

/** One-shot hashing of one string: the cheapest form in Node, and appends hash every event. */
export function chainHash(previousHash: string, fields: ChainedEventFields): string {
  return hash('sha256', previousHash + canonicalEventText(fields), 'hex');
}
