import { hash } from 'node:crypto';

/**
 * One record for Kafka, encoded and ready to send. The relay builds these from ledger events and hands them to a
 * FeedPublisher; nothing Kafka-specific is needed to build them.
 */
export interface FeedMessage {
  topic: string;
  /** The payee id: Kafka keeps one key's records in one partition, in order. */
  key: string;
  /** Protobuf binary encoding of the topic's message type. */
  value: Uint8Array;
  headers: FeedHeaders;
}

/**
 * The headers every feed record carries (README, "Consuming the payout feed"). Only these four: the value is
 * protobuf (the schema header says which message), and where in the ledger it comes from is in the value's source.
 * Each header adds to the producer's work per record.
 */
export interface FeedHeaders {
  /** Dedupe on it: a record published again carries the same id. */
  'event-id': string;
  /** The kind of change, e.g. PayoutApproved. */
  'event-type': string;
  /** Fully qualified protobuf message name of the value. */
  schema: string;
  'correlation-id': string;
}

/** The outbound side of Kafka: resolves once the broker has acknowledged every message (acks=all). */
export interface FeedPublisher {
  publish(messages: readonly FeedMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** The topic names of the outbound feeds. */
export interface FeedTopics {
  payouts: string;
  attainment: string;
}

export const DEFAULT_FEED_TOPICS: FeedTopics = { payouts: 'icm.payouts.v1', attainment: 'icm.attainment.v1' };

/**
 * The id of a feed message, derived (never drawn) from the ledger event it was made from and what distinguishes it
 * among that event's messages: a message published again after a crash carries the same id, which is what
 * consumers dedupe on. A name-based uuid (RFC 9562 version 5 layout over SHA-1).
 */
export function feedMessageId(ledgerEventId: string, topic: string, discriminator: string): string {
  return nameBasedUuid(`${ledgerEventId}\u0000${topic}\u0000${discriminator}`);
}

/** A uuid in the version 5 layout from a name; the same name always gives the same uuid. */
export function nameBasedUuid(name: string): string {
  // The namespace and the name are hashed from one reused buffer (the relay derives an id per record it publishes).
  if (16 + name.length * 3 > hashInput.length) {
    const larger = Buffer.alloc(Math.max(hashInput.length * 2, 16 + name.length * 3));
    FEED_NAMESPACE.copy(larger);
    hashInput = larger;
  }
  const length = 16 + hashInput.write(name, 16, 'utf8');
  const bytes = hash('sha1', hashInput.subarray(0, length), 'buffer');
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A fixed namespace, so that these ids never collide with name-based uuids other software derives from the same text. */
const FEED_NAMESPACE = Buffer.from('6f1c2d2e8a4b4d1c9f0e3b7a5c6d8e90', 'hex');
let hashInput = Buffer.alloc(512);
FEED_NAMESPACE.copy(hashInput);
