/**
 * The publisher thread encodes Kafka records itself instead of with kafkajs's record encoder; the bytes must be what
 * kafkajs's own encoder gives for the same record, for every size class of the varint lengths, and kafkajs's encoder
 * must still get what the relay's does not handle.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { encodeKafkaRecord, KAFKAJS_RECORD_ENCODER_VERSION, type KafkaRecordInput } from './kafka-feed-publisher.js';

const require = createRequire(import.meta.url);
const kafkajsRoot = dirname(require.resolve('kafkajs'));
const kafkajsRecord = require(join(kafkajsRoot, 'src/protocol/recordBatch/record/v0/index.js')) as (record: KafkaRecordInput) => { buffer: Buffer };

const bytes = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, index) => (index * 31 + seed) & 0xff));
const feedHeaders = (correlationId: string): Record<string, Buffer> => ({
  'event-id': Buffer.from('0b7e2c1d-5a4f-5e3b-9c2d-1f0e9d8c7b6a'),
  'event-type': Buffer.from('PayoutApproved'),
  schema: Buffer.from('incentive_ledger.payouts.v1.PayoutEvent'),
  'correlation-id': Buffer.from(correlationId),
});

describe('encodeKafkaRecord', () => {
  it('is checked against the installed kafkajs', () => {
    expect((require(join(kafkajsRoot, 'package.json')) as { version: string }).version).toBe(KAFKAJS_RECORD_ENCODER_VERSION);
  });

  const cases: [string, KafkaRecordInput][] = [
    ['a feed record', { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('p17'), value: bytes(600, 1), headers: feedHeaders('c-1') }],
    ['a later record of a large batch', { offsetDelta: 4999, timestampDelta: 3, key: Buffer.from('payee-ü-9'), value: bytes(300, 2), headers: feedHeaders('') }],
    ['a value over 16 KiB (three-byte lengths)', { offsetDelta: 70_000, timestampDelta: 200_000, key: bytes(130, 3), value: bytes(17_000, 4), headers: feedHeaders('x'.repeat(200)) }],
    ['no headers', { offsetDelta: 1, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.alloc(0), headers: {} }],
    ['headers left out', { offsetDelta: 63, timestampDelta: 64, key: Buffer.from('k'), value: bytes(127, 5) }],
    ['a header name outside ASCII', { offsetDelta: 2, timestampDelta: 0, key: Buffer.from('k'), value: bytes(10, 6), headers: { 'ñame': bytes(129, 7) } }],
  ];
  it.each(cases)('writes the bytes kafkajs writes: %s', (_, record) => {
    const encoded = encodeKafkaRecord(record);
    expect(encoded).not.toBeNull();
    expect(encoded!.buffer.equals(kafkajsRecord(record).buffer)).toBe(true);
    expect(encoded!.offset).toBe(encoded!.buffer.length);
  });

  it.each<[string, KafkaRecordInput]>([
    ['a string value', { key: Buffer.from('k'), value: 'text' }],
    ['a null key', { key: null, value: Buffer.from('v') }],
    ['a string header value', { key: Buffer.from('k'), value: Buffer.from('v'), headers: { a: 'b' } }],
    ['a negative timestamp delta', { key: Buffer.from('k'), value: Buffer.from('v'), timestampDelta: -5 }],
  ])('leaves %s to kafkajs', (_, record) => {
    expect(encodeKafkaRecord(record)).toBeNull();
  });
});
