import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import { createStreamsService, type OpenCall, type StreamsServiceProbe } from './streams-service.js';
import { TransactionLog } from './transaction-log.js';

/**
 * A TEST DOUBLE of an EventStoreDB node, not EventStoreDB: a gRPC server (@grpc/grpc-js) that serves the
 * part of EventStoreDB's Streams service the ledger's adapter uses, on the service definitions the
 * @eventstore/db-client package ships, so the real client talks to it over real gRPC (single node,
 * insecure: `esdb://127.0.0.1:<port>?tls=false`). ServerFeatures and Gossip are not served: the client
 * takes UNIMPLEMENTED from ServerFeatures as an older server and uses Append rather than BatchAppend.
 *
 * It follows the server's semantics where the adapter depends on them (see transaction-log.ts and
 * streams-service.ts): expected versions and WrongExpectedVersion details, idempotent appends by event id,
 * byte positions with commit = prepare, reads of one stream and of $all, exclusive subscription starts,
 * server-side filters with checkpoints, invalid positions. A fresh node's own system events ($-streams) are
 * in the log from the start, as on a real server.
 *
 * Tests use it to drop connections: `dropSubscriptions()` ends every open subscription with UNAVAILABLE, as a
 * node does when it goes down; `restart()` stops the server (connections reset) and starts it again on the
 * same port, keeping the log. When EVENTSTORE_CONNECTION_STRING names a real server, the adapter's suite
 * runs against that server as well.
 */
export class EventStoreDbTestDouble {
  readonly log = new TransactionLog();
  readonly probe: StreamsServiceProbe = {
    appendRequests: [],
    subscriptionRequests: [],
    checkpointsSent: [],
    appendAnswersToLose: 0,
  };
  private readonly openCalls = new Set<OpenCall>();
  private server: Server | null = null;
  private portValue = 0;

  static async start(): Promise<EventStoreDbTestDouble> {
    const double = new EventStoreDbTestDouble();
    double.writeNodeSystemEvents();
    await double.listen(0);
    return double;
  }

  get port(): number {
    return this.portValue;
  }

  get connectionString(): string {
    return `esdb://127.0.0.1:${this.portValue}?tls=false`;
  }

  /** Writes an event of the server's own (a `$`-stream), as statistics or projections do on a real node. */
  appendSystemEvent(streamName: string, eventType: string): void {
    if (!streamName.startsWith('$')) throw new Error('System streams start with $');
    this.log.append(streamName, { kind: 'any' }, [
      { eventId: randomUUID(), eventType, contentType: 'application/json', data: Buffer.from('{}'), customMetadata: new Uint8Array() },
    ]);
  }

  /** Ends every open subscription with UNAVAILABLE; the server goes on serving new calls. */
  dropSubscriptions(): number {
    const calls = [...this.openCalls];
    for (const call of calls) call.fail(status.UNAVAILABLE, 'The node dropped the subscription');
    return calls.length;
  }

  /** Stops the server, resetting every connection, and serves again on the same port after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    this.stopServing();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.listen(this.portValue);
  }

  async stop(): Promise<void> {
    this.stopServing();
  }

  private async listen(port: number): Promise<void> {
    const server = new Server();
    server.addService(streamsGrpc.StreamsService, createStreamsService(this.log, this.probe, this.openCalls));
    this.portValue = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      ),
    );
    this.server = server;
  }

  private stopServing(): void {
    for (const call of [...this.openCalls]) call.fail(status.UNAVAILABLE, 'The node is shutting down');
    this.server?.forceShutdown();
    this.server = null;
  }

  /** What a fresh single node writes before any client connects: its users and settings. */
  private writeNodeSystemEvents(): void {
    this.appendSystemEvent('$users', '$User');
    this.appendSystemEvent('$user-admin', '$user');
    this.appendSystemEvent('$user-ops', '$user');
    this.appendSystemEvent('$settings', '$settings');
  }
}
