/** Injection tokens for the ports the service wires to adapters. */
export const LEDGER_CONFIG = Symbol('LedgerConfig');
export const EVENT_STORE = Symbol('EventStore');
export const READ_MODEL_DB = Symbol('ReadModelDb');
export const PROJECTION_RUNNER = Symbol('ProjectionRunner');
export const PAYOUT_DEPENDENCIES = Symbol('PayoutDependencies');
export const PAYOUT_REACTIONS = Symbol('PayoutReactions');
/** The Kafka integration (relay, consumers), or null when no brokers are configured. */
export const KAFKA_INTEGRATION = Symbol('KafkaIntegration');
export const CLOCK = Symbol('Clock');
/** The projector role of this process (projects while it holds the lease). */
export const PROJECTOR = Symbol('Projector');
/** How far the read models are: what reads and commands that must see a position wait on. */
export const READ_MODEL_PROGRESS = Symbol('ReadModelProgress');
export const CHECKPOINT_FOLLOWER = Symbol('CheckpointFollower');
export const DISPUTE_ADJUSTMENTS = Symbol('DisputeAdjustmentPort');

/** The service clock: commands take "now" and "today" from it, and the dispute processes decide what is overdue by it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
