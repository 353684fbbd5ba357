// Types of the stopgate socket API reference client (lib/index.js).
import type { ConnectionOptions } from 'node:tls';

export const CONNECTION_LOST: 'connection_lost';
export const NOT_CONNECTED: 'not_connected';
export const CLOSED: 'closed';
export const TIMEOUT: 'timeout';
export const BAD_RESPONSE: 'bad_response';

/** An op failed: `code` is the gateway's error code or one of the client's own codes. */
export class StopgateError extends Error {
  code: string;
  /** The message without the code and op prefix. */
  reason: string;
  op: string | null;
  response: Record<string, unknown> | null;
}
/** The connection failed around the request: `connection_lost`, `not_connected` or `closed`. */
export class StopgateConnectionError extends StopgateError {}
/** No answer within the request's timeout (code `timeout`). */
export class RequestTimeoutError extends StopgateError {}

export interface ClientOptions {
  host?: string;
  port?: number;
  /** A unix socket path instead of host and port. */
  path?: string | null;
  tls?: boolean | ConnectionOptions;
  ca?: string | Buffer | null;
  caFile?: string | null;
  rejectUnauthorized?: boolean;
  servername?: string | null;
  key?: string | null;
  maxInFlight?: number;
  maxBatch?: number;
  maxLineBytes?: number;
  reconnect?: boolean;
  retries?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  maxReconnectAttempts?: number | null;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number | null;
  maxResponseBytes?: number;
}

export type Fields = Record<string, unknown>;
export type Answer = Record<string, any>;

export interface CheckResult {
  to: string;
  decision: 'allow' | 'deny' | 'defer';
  reasons: string[];
  retry_at?: string;
  evidence_id?: string;
  [field: string]: unknown;
}

export interface BatchOptions {
  chunkSize?: number;
  window?: number;
}

export class Client {
  constructor(options?: ClientOptions);
  readonly connected: boolean;
  readonly inFlight: number;
  readonly writeBufferSize: number;
  reconnects: number;
  connect(): Promise<this>;
  close(): Promise<void>;
  request(op: string, fields?: Fields, options?: { timeoutMs?: number | null }): Promise<Answer>;
  auth(key: string): Promise<{ key: string | null; roles?: string[] }>;
  ping(): Promise<{ pong: true; version: string }>;
  check(to: string, fields?: Fields): Promise<CheckResult>;
  check(to: Iterable<string>, fields?: Fields): Promise<CheckResult[]>;
  checkMany(numbers: Iterable<string> | AsyncIterable<string>, fields?: Fields, options?: BatchOptions): Promise<CheckResult[]>;
  iterCheck(numbers: Iterable<string> | AsyncIterable<string>, fields?: Fields, options?: BatchOptions): AsyncGenerator<CheckResult>;
  send(to: string, body: string, fields?: Fields): Promise<Answer>;
  consent(to: string, fields: Fields): Promise<Answer>;
  optin(to: string, fields: Fields): Promise<Answer>;
  optout(to: string, fields?: Fields): Promise<Answer>;
  lookup(to: string): Promise<Answer>;
  forget(to: string): Promise<Answer>;
  stats(): Promise<Answer>;
}

export function connect(options?: ClientOptions): Promise<Client>;
export function retryIsSafe(op: string, fields: Fields): boolean;
