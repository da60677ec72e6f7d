import { createRequire } from 'node:module';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Kafka } from 'kafkajs';
import type { FeedMessage, FeedPublisher } from '../application/feed-message.js';
import { createKafkaClient } from './kafka-client.js';

export interface KafkaFeedPublisherOptions {
  brokers: readonly string[];
  clientId: string;
  /** Topics created at first publish when missing (an existing topic is left as it is). */
  topics: readonly string[];
  /** Partitions of a topic the publisher creates. Default 6. */
  topicPartitions?: number;
  /** Replication factor of a topic the publisher creates. Default 1 (a single broker); 3 in production. */
  topicReplicationFactor?: number;
  /**
   * Most bytes of records sent in one produce request. The broker refuses a record batch over `message.max.bytes`
   * (1 MiB by default), and kafkajs puts a request's records for one partition into one batch. Default 900 KiB.
   */
  maxBytesPerRequest?: number;
  /** Most time one connection attempt may take, ms. Default 3000. */
  connectionTimeoutMs?: number;
}

interface ThreadSettings {
  brokers: string[];
  clientId: string;
  maxBytesPerRequest: number;
  connectionTimeoutMs: number;
}

type ToThread = { kind: 'publish'; id: number; topics: string[]; packed: ArrayBuffer; count: number } | { kind: 'close' };
interface FromThread {
  id: number;
  error: string | null;
}

interface PublisherThread {
  worker: Worker;
  exited: Promise<void>;
}

const kafkajsPath = createRequire(import.meta.url).resolve('kafkajs');

/**
 * Sends feed records through an idempotent kafkajs producer with acks=all and one request in flight, so records of
 * one key land in the order given, even when a request is retried. Uses the Java client's partitioner (murmur2 of
 * the key), so every client agrees on which partition holds a payee. Requests carry at most `maxBytesPerRequest`.
 *
 * The producer runs on a thread of its own: encoding records for the Kafka protocol is a large part of the relay's CPU,
 * and there it overlaps with the relay reading the log and encoding the next batch. The thread encodes each record in
 * one buffer itself (`encodeKafkaRecord`, decision 0058) instead of kafkajs's encoder, which allocates a buffer per
 * record and per header. A batch crosses to the thread as one packed buffer, transferred rather than copied; keys, values and
 * header values reach kafkajs as views on it.
 *
 * After a failure the thread drops its producer and connects a fresh one for the next batch: a producer that lost its
 * broker mid-request may hold sequence numbers the broker no longer accepts. A thread that dies is replaced.
 */
export class KafkaFeedPublisher implements FeedPublisher {
  private readonly admin: Kafka;
  private readonly settings: ThreadSettings;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private thread: PublisherThread | null = null;
  private topicsEnsured = false;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: KafkaFeedPublisherOptions) {
    this.admin = createKafkaClient({ brokers: options.brokers, clientId: options.clientId, connectionTimeoutMs: options.connectionTimeoutMs });
    this.settings = {
      brokers: [...options.brokers],
      clientId: options.clientId,
      maxBytesPerRequest: options.maxBytesPerRequest ?? 900 * 1024,
      connectionTimeoutMs: options.connectionTimeoutMs ?? 3000,
    };
  }

  async publish(messages: readonly FeedMessage[]): Promise<void> {
    if (this.closed) throw new Error('The publisher is closed');
    if (!this.topicsEnsured) {
      await ensureTopics(this.admin, this.options.topics, this.options.topicPartitions ?? 6, this.options.topicReplicationFactor ?? 1);
      this.topicsEnsured = true;
    }
    if (messages.length === 0) return;
    const { worker } = this.thread ?? this.startThread();
    const id = this.nextId++;
    const { packed, topics } = packMessages(messages);
    await new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ kind: 'publish', id, topics, packed, count: messages.length } satisfies ToThread, [packed]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = null;
    if (thread === null) return;
    thread.worker.ref();
    thread.worker.postMessage({ kind: 'close' } satisfies ToThread);
    await thread.exited;
  }

  private startThread(): PublisherThread {
    const worker = new Worker(PUBLISHER_THREAD_SOURCE, { eval: true, workerData: { kafkajs: kafkajsPath, settings: this.settings } });
    let failure: Error | null = null;
    worker.on('message', (reply: FromThread) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error === null) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    });
    worker.on('error', (error) => (failure = error));
    const thread: PublisherThread = {
      worker,
      exited: new Promise((resolve) => {
        worker.once('exit', (code) => {
          if (this.thread === thread) this.thread = null;
          const error = failure ?? new Error(`The Kafka publisher thread exited with code ${code}`);
          for (const waiter of this.pending.values()) waiter.reject(error);
          this.pending.clear();
          resolve();
        });
      }),
    };
    worker.unref();
    this.thread = thread;
    return thread;
  }
}

/** Creates the topics that do not exist yet. */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], partitions: number, replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Packs records into one buffer. Per record: topic index u16, key length u16, key, value length u32, value, header
 * count u8, then per header: name length u8, name, value length u16, value. Little-endian lengths, UTF-8 text.
 */
function packMessages(messages: readonly FeedMessage[]): { packed: ArrayBuffer; topics: string[] } {
  const topics: string[] = [];
  const topicIndex = new Map<string, number>();
  let size = 0;
  for (const message of messages) {
    size += 2 + 2 + message.key.length * 3 + 4 + message.value.byteLength + 1;
    for (const [name, value] of Object.entries(message.headers)) size += 1 + name.length * 3 + 2 + value.length * 3;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const encoder = new TextEncoder();
  let offset = 0;
  const text = (value: string, lengthBytes: 1 | 2): void => {
    const written = encoder.encodeInto(value, bytes.subarray(offset + lengthBytes)).written;
    if (lengthBytes === 1) view.setUint8(offset, written);
    else view.setUint16(offset, written, true);
    offset += lengthBytes + written;
  };
  for (const message of messages) {
    let index = topicIndex.get(message.topic);
    if (index === undefined) {
      index = topics.length;
      topics.push(message.topic);
      topicIndex.set(message.topic, index);
    }
    view.setUint16(offset, index, true);
    offset += 2;
    text(message.key, 2);
    view.setUint32(offset, message.value.byteLength, true);
    bytes.set(message.value, offset + 4);
    offset += 4 + message.value.byteLength;
    const headers = Object.entries(message.headers);
    view.setUint8(offset, headers.length);
    offset += 1;
    for (const [name, value] of headers) {
      text(name, 1);
      text(value, 2);
    }
  }
  return { packed: bytes.buffer.slice(0, offset), topics };
}

/** A record as kafkajs's produce request hands it to its record encoder (`protocol/recordBatch/record/v0`). */
export interface KafkaRecordInput {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}

/** What kafkajs's record batch needs of an encoded record: `buf` (checked to be a Buffer) and `buffer` (the bytes). */
export interface EncodedKafkaRecord {
  buf: Buffer;
  offset: number;
  buffer: Buffer;
}

/**
 * One Kafka record (v2 record format) in one buffer of its exact size: the same bytes as kafkajs's own record
 * encoder, which allocates and zero-fills a 512-byte buffer for the record and another for each header, then copies
 * each header into the record and the record into the batch; that was about half of the producer thread's CPU and
 * most of its garbage. Handles what the relay sends (Buffer key and value, header values as Buffers, non-negative
 * deltas below 2^31) and returns null for anything else, which kafkajs's encoder then takes. Self-contained: its text
 * is part of the publisher thread's source. `feed-publisher-record.unit.spec.ts` compares it with kafkajs's encoder.
 */
export function encodeKafkaRecord(record: KafkaRecordInput): EncodedKafkaRecord | null {
  const { key, value, headers } = record;
  const offsetDelta = record.offsetDelta ?? 0;
  const timestampDelta = record.timestampDelta ?? 0;
  if (!Buffer.isBuffer(key) || !Buffer.isBuffer(value)) return null;
  if (typeof timestampDelta !== 'number' || !Number.isInteger(timestampDelta) || timestampDelta < 0 || timestampDelta >= 0x40000000) return null;
  if (!Number.isInteger(offsetDelta) || offsetDelta < 0 || offsetDelta >= 0x40000000) return null;
  // Zig-zag varints of non-negative values: 2n, 7 bits a byte.
  const varintSize = (n: number): number => {
    let zigzag = n * 2;
    let size = 1;
    while (zigzag >= 0x80) {
      zigzag = Math.floor(zigzag / 128);
      size++;
    }
    return size;
  };
  const names: string[] = [];
  const values: Buffer[] = [];
  if (headers !== undefined && headers !== null) {
    for (const name of Object.keys(headers)) {
      const headerValue = headers[name];
      if (!Buffer.isBuffer(headerValue)) return null;
      names.push(name);
      values.push(headerValue);
    }
  }
  let headersSize = varintSize(names.length);
  const nameLengths: number[] = [];
  for (let index = 0; index < names.length; index++) {
    const nameLength = Buffer.byteLength(names[index], 'utf8');
    nameLengths.push(nameLength);
    headersSize += varintSize(nameLength) + nameLength + varintSize(values[index].length) + values[index].length;
  }
  const bodySize = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + varintSize(key.length) + key.length + varintSize(value.length) + value.length + headersSize;
  const total = varintSize(bodySize) + bodySize;
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  const writeVarint = (n: number): void => {
    let zigzag = n * 2;
    while (zigzag >= 0x80) {
      buf[offset++] = (zigzag & 0x7f) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    buf[offset++] = zigzag;
  };
  writeVarint(bodySize);
  buf[offset++] = 0; // attributes
  writeVarint(timestampDelta);
  writeVarint(offsetDelta);
  writeVarint(key.length);
  offset += key.copy(buf, offset);
  writeVarint(value.length);
  offset += value.copy(buf, offset);
  writeVarint(names.length);
  for (let index = 0; index < names.length; index++) {
    writeVarint(nameLengths[index]);
    offset += buf.write(names[index], offset, nameLengths[index], 'utf8');
    writeVarint(values[index].length);
    offset += values[index].copy(buf, offset);
  }
  return { buf, offset, buffer: buf };
}

/**
 * Runs on the publisher thread. Self-contained, since its text is the thread's source: what it uses arrives as
 * arguments. One batch at a time, in the order sent.
 */
function runPublisherThread({ port, kafkajs, settings }: { port: MessagePort; kafkajs: typeof import('kafkajs'); settings: ThreadSettings }): void {
  const { Kafka, Partitioners, logLevel } = kafkajs;
  const kafka = new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  });
  let producer: import('kafkajs').Producer | null = null;
  const decoder = new TextDecoder();

  async function connected(): Promise<import('kafkajs').Producer> {
    if (producer === null) {
      const created = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await created.connect();
      producer = created;
    }
    return producer;
  }

  async function publish(request: { topics: string[]; packed: ArrayBuffer; count: number }): Promise<void> {
    const ready = await connected();
    const bytes = Buffer.from(request.packed);
    let offset = 0;
    let chunk = new Map<string, import('kafkajs').Message[]>();
    let chunkBytes = 0;
    const send = async (): Promise<void> => {
      if (chunkBytes === 0) return;
      const topicMessages = [...chunk].map(([topic, messages]) => ({ topic, messages }));
      chunk = new Map();
      chunkBytes = 0;
      await ready.sendBatch({ acks: -1, topicMessages });
    };
    for (let record = 0; record < request.count; record++) {
      const start = offset;
      const topic = request.topics[bytes.readUInt16LE(offset)];
      const keyLength = bytes.readUInt16LE(offset + 2);
      const key = bytes.subarray(offset + 4, offset + 4 + keyLength);
      offset += 4 + keyLength;
      const valueLength = bytes.readUInt32LE(offset);
      const value = bytes.subarray(offset + 4, offset + 4 + valueLength);
      offset += 4 + valueLength;
      const headerCount = bytes.readUInt8(offset);
      offset += 1;
      const headers: Record<string, Buffer> = {};
      for (let header = 0; header < headerCount; header++) {
        const nameLength = bytes.readUInt8(offset);
        const name = decoder.decode(bytes.subarray(offset + 1, offset + 1 + nameLength));
        offset += 1 + nameLength;
        const headerLength = bytes.readUInt16LE(offset);
        headers[name] = bytes.subarray(offset + 2, offset + 2 + headerLength);
        offset += 2 + headerLength;
      }
      // Record overhead on the wire (lengths, offsets, timestamps, attributes) is well under 200 bytes.
      const size = offset - start + 200;
      if (chunkBytes > 0 && chunkBytes + size > settings.maxBytesPerRequest) await send();
      let messages = chunk.get(topic);
      if (messages === undefined) chunk.set(topic, (messages = []));
      messages.push({ key, value, headers });
      chunkBytes += size;
    }
    await send();
  }

  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: ToThread) => {
    queue = queue.then(async () => {
      if (message.kind === 'close') {
        const closing = producer;
        producer = null;
        await closing?.disconnect().catch(() => undefined);
        port.close();
        return;
      }
      try {
        await publish(message);
        port.postMessage({ id: message.id, error: null } satisfies FromThread);
      } catch (error) {
        const failed = producer;
        producer = null;
        await failed?.disconnect().catch(() => undefined);
        port.postMessage({ id: message.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies FromThread);
      }
    });
  });
}

/** kafkajs's record encoder, which `encodeKafkaRecord` stands in for; only the produce request requires it. */
const KAFKAJS_RECORD_ENCODER = 'src/protocol/recordBatch/record/v0/index.js';
/** The kafkajs version whose record encoder `encodeKafkaRecord` was checked against; with another, kafkajs's own runs. */
export const KAFKAJS_RECORD_ENCODER_VERSION = '2.2.4';

/**
 * Before kafkajs's produce request is loaded, the thread puts `encodeKafkaRecord` in front of kafkajs's record encoder
 * in the module cache (the produce request takes the encoder from there), when the installed kafkajs is the version
 * it was checked against.
 */
function installRecordEncoder(kafkajsMain: string, encode: typeof encodeKafkaRecord): void {
  const { dirname, join } = require('node:path') as typeof import('node:path');
  const root = dirname(kafkajsMain);
  const version = (require(join(root, 'package.json')) as { version: string }).version;
  if (version !== KAFKAJS_RECORD_ENCODER_VERSION) return;
  const path = join(root, KAFKAJS_RECORD_ENCODER);
  const stock = require(path) as (record: KafkaRecordInput) => unknown;
  const cached = require.cache[path];
  if (cached === undefined) return;
  cached.exports = (record: KafkaRecordInput) => encode(record) ?? stock(record);
}

const PUBLISHER_THREAD_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const KAFKAJS_RECORD_ENCODER = ${JSON.stringify(KAFKAJS_RECORD_ENCODER)};
const KAFKAJS_RECORD_ENCODER_VERSION = ${JSON.stringify(KAFKAJS_RECORD_ENCODER_VERSION)};
const encodeKafkaRecord = ${encodeKafkaRecord.toString()};
(${installRecordEncoder.toString()})(workerData.kafkajs, encodeKafkaRecord);
(${runPublisherThread.toString()})({ port: parentPort, kafkajs: require(workerData.kafkajs), settings: workerData.settings });
`;
