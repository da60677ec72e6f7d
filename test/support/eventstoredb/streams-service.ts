import { randomUUID } from 'node:crypto';
import {
  Metadata,
  status,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import {
  InvalidPositionError,
  matches,
  type AllReadStart,
  type EventFilterExpression,
  type ExpectedVersion,
  type ProposedEvent,
  type StoredEvent,
  type TransactionLog,
} from './transaction-log.js';

const { AppendReq, AppendResp, ReadReq, ReadResp } = streamsPb;
type AppendReq = InstanceType<typeof AppendReq>;
type AppendResp = InstanceType<typeof AppendResp>;
type ReadReq = InstanceType<typeof ReadReq>;
type ReadResp = InstanceType<typeof ReadResp>;
type ReadOptions = InstanceType<typeof ReadReq.Options>;

/** What a test can see of the requests the double answered, and the faults it can inject. */
export interface StreamsServiceProbe {
  appendRequests: { streamName: string; expected: ExpectedVersion; eventIds: string[] }[];
  subscriptionRequests: { start: AllReadStart; filter: EventFilterExpression | null }[];
  /** Positions of the checkpoints sent to filtered subscriptions. */
  checkpointsSent: number[];
  /** The next appends this many times are written, then answered UNAVAILABLE: the answer is lost, the write is not. */
  appendAnswersToLose: number;
}

/** A call the double can end from outside (a dropped connection, a node restart). */
export interface OpenCall {
  fail(code: status, details: string): void;
}

/** The server's default max search window for filtered reads: ReadBatchSize. */
const DEFAULT_MAX_SEARCH_WINDOW = 32;

/**
 * The Streams service (event_store.client.streams.Streams) of the test double: Append, Read of a stream, Read
 * of $all and catch-up subscriptions to $all, over the messages EventStoreDB's own protos define (the
 * generated code the client ships). BatchAppend, Delete, Tombstone and subscriptions to one stream answer
 * UNIMPLEMENTED: the adapter does not use them, and the client falls back to Append when ServerFeatures
 * (not served at all) does not list BatchAppend.
 */
export function createStreamsService(log: TransactionLog, probe: StreamsServiceProbe, openCalls: Set<OpenCall>): UntypedServiceImplementation {
  return {
    append: (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>) =>
      handleAppend(log, probe, call, callback),
    read: (call: ServerWritableStream<ReadReq, ReadResp>) => void handleRead(log, probe, openCalls, call),
    batchAppend: unimplemented('BatchAppend'),
    delete: unimplemented('Delete'),
    tombstone: unimplemented('Tombstone'),
  };
}

function unimplemented(method: string) {
  return (call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, callback?: sendUnaryData<unknown>) => {
    const error = { code: status.UNIMPLEMENTED, details: `${method} is not implemented by the EventStoreDB test double` };
    if (callback) callback(error);
    else (call as ServerWritableStream<unknown, unknown>).emit('error', error);
  };
}

function handleAppend(
  log: TransactionLog,
  probe: StreamsServiceProbe,
  call: ServerReadableStream<AppendReq, AppendResp>,
  callback: sendUnaryData<AppendResp>,
): void {
  let header: { streamName: string; expected: ExpectedVersion } | null = null;
  const proposed: ProposedEvent[] = [];
  let failed = false;
  const fail = (code: status, details: string, exception?: string) => {
    if (failed) return;
    failed = true;
    const metadata = new Metadata();
    if (exception) metadata.set('exception', exception);
    callback({ code, details, metadata });
  };
  call.on('data', (request: AppendReq) => {
    if (failed) return;
    if (header === null) {
      const options = request.getOptions();
      if (!request.hasOptions() || options === undefined) return fail(status.INVALID_ARGUMENT, 'The first append message must carry the options');
      header = { streamName: streamNameOf(options.getStreamIdentifier()), expected: expectedVersionOf(options) };
      return;
    }
    const message = request.getProposedMessage();
    if (!request.hasProposedMessage() || message === undefined) return fail(status.INVALID_ARGUMENT, 'Expected a proposed message');
    const metadata = message.getMetadataMap();
    const eventType = metadata.get('type');
    const contentType = metadata.get('content-type');
    if (eventType === undefined) return fail(status.INVALID_ARGUMENT, 'Required metadata property is missing: type', 'missing-required-metadata-property');
    if (contentType === undefined) {
      return fail(status.INVALID_ARGUMENT, 'Required metadata property is missing: content-type', 'missing-required-metadata-property');
    }
    proposed.push({
      eventId: uuidOf(message.getId()),
      eventType,
      contentType,
      data: message.getData_asU8(),
      customMetadata: message.getCustomMetadata_asU8(),
    });
  });
  call.on('error', () => {
    failed = true;
  });
  call.on('end', () => {
    if (failed) return;
    if (header === null) return fail(status.INVALID_ARGUMENT, 'An append needs its options');
    probe.appendRequests.push({ ...header, eventIds: proposed.map((event) => event.eventId) });
    const outcome = log.append(header.streamName, header.expected, proposed);
    if (probe.appendAnswersToLose > 0) {
      probe.appendAnswersToLose--;
      return fail(status.UNAVAILABLE, 'Connection dropped before the answer was sent');
    }
    const response = new AppendResp();
    if (outcome.kind === 'success') {
      const success = new AppendResp.Success();
      if (outcome.lastEventNumber < 0) success.setNoStream(new sharedPb.Empty());
      else success.setCurrentRevision(String(outcome.lastEventNumber));
      success.setPosition(new AppendResp.Position().setCommitPosition(String(outcome.position)).setPreparePosition(String(outcome.position)));
      response.setSuccess(success);
    } else {
      const wrong = new AppendResp.WrongExpectedVersion();
      if (outcome.currentVersion < 0) wrong.setCurrentNoStream(new sharedPb.Empty());
      else wrong.setCurrentRevision(String(outcome.currentVersion));
      switch (header.expected.kind) {
        case 'any':
          wrong.setExpectedAny(new sharedPb.Empty());
          break;
        case 'stream_exists':
          wrong.setExpectedStreamExists(new sharedPb.Empty());
          break;
        case 'no_stream':
          wrong.setExpectedNoStream(new sharedPb.Empty());
          break;
        case 'revision':
          wrong.setExpectedRevision(String(header.expected.revision));
          break;
      }
      response.setWrongExpectedVersion(wrong);
    }
    callback(null, response);
  });
}

async function handleRead(
  log: TransactionLog,
  probe: StreamsServiceProbe,
  openCalls: Set<OpenCall>,
  call: ServerWritableStream<ReadReq, ReadResp>,
): Promise<void> {
  const options = call.request.getOptions();
  if (options === undefined) return void call.emit('error', { code: status.INVALID_ARGUMENT, details: 'A read needs its options' });
  const uuidAsString = options.getUuidOption()?.hasString() ?? false;
  const direction = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
  const filter = filterOf(options);
  try {
    if (options.hasStream()) {
      if (options.hasSubscription()) {
        return void call.emit('error', { code: status.UNIMPLEMENTED, details: 'Subscriptions to one stream are not implemented by the test double' });
      }
      const streamOptions = options.getStream() as InstanceType<typeof ReadReq.Options.StreamOptions>;
      const streamName = streamNameOf(streamOptions.getStreamIdentifier());
      const from = streamOptions.hasRevision() ? Number(streamOptions.getRevision()) : streamOptions.hasEnd() ? 'end' : 'start';
      const events = log.readStream(streamName, direction, from, countOf(options));
      if (events === null) {
        const notFound = new ReadResp.StreamNotFound().setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from(streamName)));
        await write(call, new ReadResp().setStreamNotFound(notFound));
      } else {
        for (const event of events) await write(call, eventResponse(event, uuidAsString, false));
      }
      call.end();
      return;
    }
    const start = allStartOf(options);
    if (options.hasSubscription()) {
      probe.subscriptionRequests.push({ start, filter });
      await subscribeToAll(log, probe, openCalls, call, start, filter, checkpointIntervalOf(options), uuidAsString);
      return;
    }
    for (const event of log.readAll(direction, start, countOf(options), filter)) await write(call, eventResponse(event, uuidAsString, true));
    call.end();
  } catch (error) {
    if (error instanceof InvalidPositionError) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: error.message });
      return;
    }
    if (error instanceof CallEndedError) return;
    call.emit('error', { code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Confirms, catches up from the start (exclusive of the event there), says CaughtUp, then sends each event as
 * it is written, with a checkpoint every `checkpointInterval` events looked at (matching or not), as the
 * server does for filtered subscriptions. Writes wait for the client to read (flow control): the double never
 * drops a slow subscriber, where the server would.
 */
async function subscribeToAll(
  log: TransactionLog,
  probe: StreamsServiceProbe,
  openCalls: Set<OpenCall>,
  call: ServerWritableStream<ReadReq, ReadResp>,
  start: AllReadStart,
  filter: EventFilterExpression | null,
  checkpointInterval: number,
  uuidAsString: boolean,
): Promise<void> {
  let index = log.subscriptionStartIndex(start);
  let ended = false;
  let wake: (() => void) | null = null;
  const end = () => {
    ended = true;
    wake?.();
  };
  const openCall: OpenCall = {
    fail: (code, details) => {
      end();
      call.emit('error', { code, details });
    },
  };
  openCalls.add(openCall);
  const stopListening = log.onWrite(() => wake?.());
  call.on('cancelled', end);
  call.on('close', end);
  try {
    await write(call, new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())));
    let considered = 0;
    let caughtUp = false;
    while (!ended) {
      while (index < log.events.length && !ended) {
        const event = log.events[index++];
        if (matches(filter, event)) await write(call, eventResponse(event, uuidAsString, true));
        if (filter !== null && ++considered >= checkpointInterval) {
          considered = 0;
          const checkpoint = new ReadResp.Checkpoint().setCommitPosition(String(event.position)).setPreparePosition(String(event.position));
          await write(call, new ReadResp().setCheckpoint(checkpoint));
          probe.checkpointsSent.push(event.position);
        }
      }
      if (ended) break;
      if (!caughtUp) {
        caughtUp = true;
        await write(call, new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (ended || index < log.events.length) resolve();
      });
      wake = null;
    }
  } catch (error) {
    if (!(error instanceof CallEndedError)) throw error;
  } finally {
    stopListening();
    openCalls.delete(openCall);
  }
}

class CallEndedError extends Error {}

async function write(call: ServerWritableStream<ReadReq, ReadResp>, response: ReadResp): Promise<void> {
  if (call.cancelled || call.destroyed || call.writableEnded) throw new CallEndedError('The call has ended');
  if (!call.write(response)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        call.off('drain', done).off('close', done).off('cancelled', done);
        resolve();
      };
      call.on('drain', done).on('close', done).on('cancelled', done);
    });
    if (call.cancelled || call.destroyed) throw new CallEndedError('The call has ended');
  }
}

function eventResponse(event: StoredEvent, uuidAsString: boolean, fromAll: boolean): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidMessage(event.eventId, uuidAsString))
    .setStreamIdentifier(new sharedPb.StreamIdentifier().setStreamName(Buffer.from(event.streamName)))
    .setStreamRevision(String(event.eventNumber))
    .setCommitPosition(String(event.position))
    .setPreparePosition(String(event.position))
    .setData(event.data)
    .setCustomMetadata(event.customMetadata);
  recorded.getMetadataMap().set('type', event.eventType).set('content-type', event.contentType).set('created', String(event.created));
  const readEvent = new ReadResp.ReadEvent().setEvent(recorded);
  // Reads of $all carry the commit position of the event; reads of one stream go through the index and do not.
  if (fromAll) readEvent.setCommitPosition(String(event.position));
  else readEvent.setNoPosition(new sharedPb.Empty());
  return new ReadResp().setEvent(readEvent);
}

function streamNameOf(identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string {
  if (identifier === undefined) throw new Error('A stream identifier is required');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

function expectedVersionOf(options: InstanceType<typeof AppendReq.Options>): ExpectedVersion {
  switch (options.getExpectedStreamRevisionCase()) {
    case AppendReq.Options.ExpectedStreamRevisionCase.REVISION:
      return { kind: 'revision', revision: Number(options.getRevision()) };
    case AppendReq.Options.ExpectedStreamRevisionCase.NO_STREAM:
      return { kind: 'no_stream' };
    case AppendReq.Options.ExpectedStreamRevisionCase.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    default:
      return { kind: 'any' };
  }
}

function allStartOf(options: ReadOptions): AllReadStart {
  const all = options.getAll() as InstanceType<typeof ReadReq.Options.AllOptions>;
  if (all.hasPosition()) {
    const position = all.getPosition() as InstanceType<typeof ReadReq.Options.Position>;
    const commit = Number(position.getCommitPosition());
    const prepare = Number(position.getPreparePosition());
    // Position (0, 0) is the start of the log.
    if (commit === 0 && prepare === 0) return { kind: 'start' };
    return { kind: 'position', commit, prepare };
  }
  return all.hasEnd() ? { kind: 'end' } : { kind: 'start' };
}

function countOf(options: ReadOptions): number {
  const count = Number(options.getCount());
  return Number.isFinite(count) ? count : Number.MAX_SAFE_INTEGER;
}

function filterOf(options: ReadOptions): EventFilterExpression | null {
  if (!options.hasFilter()) return null;
  const filter = options.getFilter() as InstanceType<typeof ReadReq.Options.FilterOptions>;
  const expression = filter.hasStreamIdentifier() ? filter.getStreamIdentifier() : filter.getEventType();
  if (expression === undefined) return null;
  return { on: filter.hasStreamIdentifier() ? 'stream' : 'event_type', prefixes: expression.getPrefixList(), regex: expression.getRegex() };
}

function checkpointIntervalOf(options: ReadOptions): number {
  const filter = options.getFilter();
  if (filter === undefined) return Number.POSITIVE_INFINITY;
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_MAX_SEARCH_WINDOW;
  return Math.max(1, filter.getCheckpointintervalmultiplier()) * window;
}

function uuidOf(uuid: InstanceType<typeof sharedPb.UUID> | undefined): string {
  if (uuid === undefined) throw new Error('An event id is required');
  if (uuid.hasString()) return uuid.getString().toLowerCase();
  const structured = uuid.getStructured() as InstanceType<typeof sharedPb.UUID.Structured>;
  const hex =
    BigInt.asUintN(64, BigInt(structured.getMostSignificantBits())).toString(16).padStart(16, '0') +
    BigInt.asUintN(64, BigInt(structured.getLeastSignificantBits())).toString(16).padStart(16, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidMessage(eventId: string, asString: boolean): InstanceType<typeof sharedPb.UUID> {
  const uuid = new sharedPb.UUID();
  if (asString) return uuid.setString(eventId);
  const hex = eventId.replaceAll('-', '');
  const structured = new sharedPb.UUID.Structured()
    .setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString())
    .setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  return uuid.setStructured(structured);
}
