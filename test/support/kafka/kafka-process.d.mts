/** Path of deploy/kafka/kafka.sh. */
export declare const KAFKA_SCRIPT: string;
/** Broker list from KAFKA_BROKERS ("host:port,host:port"), or null when none is configured. */
export declare function kafkaBrokers(): string[] | null;
/** True when KAFKA_REQUIRED=1: a missing broker is then an error, never a skip. */
export declare function kafkaRequired(): boolean;
/** Frames lines in "!!!" for loud console output. */
export declare function banner(lines: string[]): string;
/** For a jest globalSetup: uses KAFKA_BROKERS, else starts deploy/kafka/kafka.sh when Java and Maven exist. */
export declare function startKafkaForTests(): Promise<string[] | null>;
/** For a jest globalTeardown: stops the broker startKafkaForTests started, if any. */
export declare function stopKafkaForTests(): Promise<void>;
