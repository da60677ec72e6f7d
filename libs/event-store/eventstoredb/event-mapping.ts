import {
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type EventData,
  type Filter,
  type JSONType,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { DuplicateEventIdError, type EventFilter, type EventMetadata, type ExpectedRevision, type NewEvent, type RecordedEvent } from '../event-store.port.js';
import { toSafeNumber } from './positions.js';

/**
 * How a port event is written to EventStoreDB and read back:
 *
 * - event id: the writer's uuid, as the EventStoreDB event id (so the server recognises a retried append);
 * - type: the event type; data: the event's JSON (content type application/json);
 * - custom metadata (JSON): the port's metadata as it is (actor, correlationId, causationId, commandId,
 *   occurredAt), plus `schemaVersion`, plus EventStoreDB's own `$correlationId` and `$causationId`, which its
 *   system projections ($by_correlation_id) read;
 * - recordedAt: the server's `created` stamp; stream, revision and position: the server's.
 */
interface StoredMetadata extends EventMetadata {
  schemaVersion: number;
  $correlationId: string;
  $causationId?: string;
}

/** An append, checked and serialized when append() is called. */
export interface PreparedAppend {
  streamId: string;
  expectedRevision: ExpectedRevision;
  eventIds: string[];
  types: string[];
  schemaVersions: number[];
  dataJsons: string[];
  eventData: EventData[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks an append's arguments and serializes its events; throws before anything is sent when it is malformed. */
export function prepareAppend(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): PreparedAppend {
  assertLedgerStream(streamId);
  if (
    !(expectedRevision === 'any' || expectedRevision === 'no_stream' || expectedRevision === 'stream_exists') &&
    !(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0)
  ) {
    throw new TypeError(`expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${String(expectedRevision)}`);
  }
  const prepared: PreparedAppend = { streamId, expectedRevision, eventIds: [], types: [], schemaVersions: [], dataJsons: [], eventData: [] };
  const seen = new Set<string>();
  for (const { eventId, type, schemaVersion, data, metadata } of events) {
    if (typeof eventId !== 'string' || !UUID.test(eventId)) {
      throw new TypeError(`eventId must be a lower-case uuid (EventStoreDB event ids are uuids), got ${String(eventId)}`);
    }
    if (typeof type !== 'string' || type.length === 0) throw new TypeError('type must be a non-empty string');
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) throw new TypeError('schemaVersion must be an integer >= 1');
    if (metadata === null || typeof metadata !== 'object') throw new TypeError('metadata is required');
    if (seen.has(eventId)) throw new DuplicateEventIdError(eventId);
    seen.add(eventId);
    const dataJson = JSON.stringify(data);
    if (dataJson === undefined) throw new TypeError('data must be JSON');
    const stored: StoredMetadata = { ...metadata, schemaVersion, $correlationId: metadata.correlationId };
    if (metadata.causationId !== null) stored.$causationId = metadata.causationId;
    prepared.eventIds.push(eventId);
    prepared.types.push(type);
    prepared.schemaVersions.push(schemaVersion);
    prepared.dataJsons.push(dataJson);
    // The client serializes data and metadata with JSON.stringify, as above.
    prepared.eventData.push(jsonEvent({ id: eventId, type, data: data as JSONType, metadata: stored as unknown as JSONType }));
  }
  return prepared;
}

/** EventStoreDB's own streams start with `$` (users, settings, statistics, projections): not the ledger's. */
export function isSystemStream(streamId: string): boolean {
  return streamId.startsWith('$');
}

export function assertLedgerStream(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (isSystemStream(streamId)) throw new TypeError(`Stream ids starting with $ are EventStoreDB's own streams, got ${streamId}`);
}

/** A ledger event as read from EventStoreDB, at the position the caller worked out (see positions.ts). */
export function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent, position: number): RecordedEvent {
  const event = resolved.event;
  if (event === undefined) throw new Error('EventStoreDB returned a link to a deleted event');
  const where = `event ${event.id} (stream ${event.streamId}, revision ${event.revision})`;
  if (!event.isJson) throw new Error(`EventStoreDB ${where} is not JSON: it was not written by the ledger`);
  const stored = event.metadata as Partial<StoredMetadata> | undefined;
  if (stored === undefined || stored === null || typeof stored !== 'object' || stored instanceof Uint8Array || !Number.isSafeInteger(stored.schemaVersion)) {
    throw new Error(`EventStoreDB ${where} has no ledger metadata: it was not written by the ledger`);
  }
  const { schemaVersion, $correlationId, $causationId, ...metadata } = stored as StoredMetadata;
  return {
    eventId: event.id,
    type: event.type,
    schemaVersion,
    data: event.data,
    metadata,
    streamId: event.streamId,
    revision: toSafeNumber(event.revision, `revision of ${where}`),
    position,
    recordedAt: event.created.toISOString(),
  };
}

/**
 * A port filter as EventStoreDB can apply it on the server, plus the same test on the client.
 *
 * The server filters on one thing: stream-name prefixes, or a regular expression over the event type, or
 * over the stream name. With stream prefixes, those go to the server (they also keep `$`-streams out) and
 * event types are checked here; with event types only, an anchored alternation of them goes to the server;
 * with neither, the server drops the `$`-streams. The client always applies the whole filter as well.
 */
export interface FilterPlan {
  server: Filter;
  accepts(streamId: string, type: string): boolean;
}

export function planFilter(filter: EventFilter | undefined, searchWindow: number): FilterPlan {
  const prefixes = filter?.streamPrefixes ?? [];
  const types = filter?.eventTypes ?? [];
  const typeSet = new Set(types);
  const accepts = (streamId: string, type: string) =>
    !isSystemStream(streamId) &&
    (prefixes.length === 0 || prefixes.some((prefix) => streamId.startsWith(prefix))) &&
    (typeSet.size === 0 || typeSet.has(type));
  const window = { maxSearchWindow: searchWindow, checkpointInterval: 1 };
  let server: Filter;
  if (prefixes.length > 0 && !prefixes.includes('')) server = streamNameFilter({ prefixes: [...prefixes], ...window });
  else if (types.length > 0) server = eventTypeFilter({ regex: `^(?:${types.map(escapeRegex).join('|')})$`, ...window });
  else server = streamNameFilter({ regex: '^[^$]', ...window });
  return { server, accepts };
}

/** Escapes the characters that are special in .NET (the server's) and JavaScript regular expressions. */
function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, (character) => `\\${character}`);
}
