#!/usr/bin/env node
// Waits until a Kafka broker answers an admin describeCluster through kafkajs, the client the ledger
// uses, so "ready" means ready for our code rather than "port open".
//
//   node test/support/kafka/wait-for-kafka.mjs [--brokers host:port[,host:port]] [--timeout-ms 60000] [--pid N]
//                                               [--warm-up]
//
// --brokers defaults to $KAFKA_BROKERS, then 127.0.0.1:19092. With --pid, gives up as soon as that process
// exits (a broker that crashed during start will never become ready). With --warm-up, once ready it also
// makes a fresh broker create its group coordinator (__consumer_offsets) and hand out a producer id, so the
// first consumer group and idempotent producer of a test run do not meet "coordinator is loading" errors.
// Exit codes: 0 ready, 1 timed out, 2 the watched process exited, 64 bad usage.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

function parseArgs(argv) {
  const args = {
    brokers: process.env.KAFKA_BROKERS || '127.0.0.1:19092',
    timeoutMs: 60000,
    pid: undefined,
    warmUp: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--brokers' && value) args.brokers = value;
    else if (flag === '--timeout-ms' && value) args.timeoutMs = Number(value);
    else if (flag === '--pid' && value) args.pid = Number(value);
    else if (flag === '--warm-up') {
      args.warmUp = true;
      continue;
    } else {
      console.error(`wait-for-kafka: unknown or incomplete argument ${flag}`);
      process.exit(64);
    }
    i += 1;
  }
  if (!Number.isFinite(args.timeoutMs) || args.timeoutMs <= 0) {
    console.error('wait-for-kafka: --timeout-ms must be a positive number');
    process.exit(64);
  }
  return args;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function client(brokers, retries) {
  return new Kafka({
    clientId: 'wait-for-kafka',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

async function describeOnce(brokers) {
  const admin = client(brokers, 0).admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// kafkajs retries the retriable "coordinator not available / loading" answers itself.
async function warmUp(brokers) {
  const kafka = client(brokers, 30);
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.describeGroups(['wait-for-kafka-warm-up']);
    await producer.connect();
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

async function main() {
  const { brokers, timeoutMs, pid, warmUp: wantWarmUp } = parseArgs(process.argv.slice(2));
  const list = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  const started = Date.now();
  let lastError = 'no attempt made';
  while (Date.now() - started < timeoutMs) {
    if (pid !== undefined && !alive(pid)) {
      console.error(`wait-for-kafka: process ${pid} exited before the broker became ready`);
      process.exit(2);
    }
    try {
      const cluster = await describeOnce(list);
      if (wantWarmUp) await warmUp(list);
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `wait-for-kafka: ready after ${elapsed}s: cluster ${cluster.clusterId}, ` +
          `controller ${cluster.controller}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')}`,
      );
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  console.error(`wait-for-kafka: ${list.join(',')} not ready after ${timeoutMs} ms (last error: ${lastError})`);
  process.exit(1);
}

await main();
