// Type declarations for the `hyperstack-rpc` Node client (hand-written; the package has no build step).

import { EventEmitter } from 'node:events';

/** Options for spawning and talking to `hyperstack-rpc`. */
export interface ClientOptions {
  /** Server executable. Default: $HYPERSTACK_RPC_BIN, then the binary the npm tarball carries (bin/hyperstack-rpc), then `hyperstack-rpc` on PATH. */
  path?: string;
  /** Use the built-in emulator instead of the real API (`--sandbox`). */
  sandbox?: boolean;
  /** Persist sandbox state in this file (`--sandbox-state`). */
  sandboxState?: string;
  /** Hyperstack API key. Passed to the child as HYPERSTACK_API_KEY, never on the command line. */
  apiKey?: string;
  /** Hyperstack access token (Authorization: Bearer; apiKeys.generate prefers it). Passed as HYPERSTACK_ACCESS_TOKEN, never on the command line. */
  accessToken?: string;
  /** API base URL (`--base-url`), e.g. a local `hyperstack-sandbox`. */
  baseUrl?: string;
  /**
   * Share one server among every client on the machine (`--remote`): `'auto'` runs a forwarder to
   * the per-user daemon, starting it when none runs; `'unix:PATH'` uses the daemon listening on
   * PATH, with no auto-start. Absent: standalone, unless the inherited environment sets
   * HYPERSTACK_RPC_REMOTE. Any other value throws a TypeError from the constructor. The API key
   * still travels in the environment, and on to the daemon over the socket only.
   */
  remote?: RemoteOption | null;
  /** Extra command-line arguments, appended after the ones above. */
  args?: readonly string[];
  /** Extra environment variables, merged over process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Sent in `initialize`. */
  clientInfo?: { name: string; version?: string };
  /** Sent in `initialize` as `initializationOptions`. */
  initializationOptions?: Record<string, unknown>;
  /** Milliseconds to wait for the initialize reply. Default 15000. */
  startTimeout?: number;
  /** How many stderr lines to keep for error messages. Default 50. */
  stderrLines?: number;
  /**
   * Called with every message sent and received, for debugging. Receives generate results
   * verbatim, secrets included: do not log them unfiltered.
   */
  trace?: (direction: 'send' | 'receive', message: unknown) => void;
}

/** The values of `ClientOptions.remote`. */
export type RemoteOption = 'auto' | `unix:${string}`;

/** Per-call options. A fired signal or an elapsed timeout sends `$/cancelRequest`. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds. */
  timeout?: number;
}

/** Options of `generate`: the per-call ones, and where the server should write the secret. */
export interface GenerateOptions extends CallOptions {
  /**
   * Write the secret to this new file (mode 0600, never overwritten) instead of returning it. A
   * relative path resolves inside the server's `--secrets-dir`; an absolute one must lie under it
   * or an `--allow-secrets-in` directory. Needs `supportsSecretFile`.
   */
  secretFile?: string | null;
}

export interface ApiKey {
  id: number;
  name: string;
  description: string | null;
  /** RFC 3339, UTC, e.g. "2026-05-06T15:18:42Z". */
  createdAt: string | null;
  maskedKey: string | null;
}

export interface ListResult {
  keys: ApiKey[];
  revision: number;
  fetchedAt: string;
  fromCache: boolean;
}

export interface GenerateResult {
  /** `secret` is returned exactly once: store it, never log it. */
  key: ApiKey & { secret: string };
  revision: number;
}

/** generate's result with `secretFile`: the key without its secret, and where the secret now is. */
export interface GenerateToFileResult {
  key: ApiKey;
  revision: number;
  /** The absolute path of the new 0600 file holding the secret and a newline. */
  secretFile: string;
}

/** 1505's `data`: the key that was created although its secret could not be written. */
export interface SecretNotWrittenData {
  key: ApiKey;
  revision: number;
  secretFile: string;
  reason: string;
}

export interface UpdateResult {
  key: ApiKey;
  revision: number;
}

export interface DeleteResult {
  id: number;
  revision: number;
}

export interface WatchResult {
  interval: number;
}

export interface DidChange {
  revision: number;
  cause: 'generate' | 'update' | 'delete' | 'refresh';
  added: ApiKey[];
  updated: ApiKey[];
  removed: number[];
}

export interface InitializeResult {
  serverInfo: { name: string; version: string };
  capabilities: Record<string, unknown>;
}

export interface ExitInfo {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the exit was not requested through close(). */
  error: Error | null;
}

export interface HyperstackClientEvents {
  didChange: [change: DidChange];
  notification: [method: string, params: unknown];
  stderr: [line: string];
  exit: [info: ExitInfo];
}

export declare class HyperstackClient extends EventEmitter {
  /** Spawns the server and performs initialize + initialized. */
  static start(options?: ClientOptions): Promise<HyperstackClient>;
  constructor(options?: ClientOptions);
  start(): Promise<this>;

  readonly serverInfo: InitializeResult['serverInfo'] | null;
  readonly capabilities: InitializeResult['capabilities'] | null;
  /** Whether generate takes `secretFile` (the server's `capabilities.apiKeys.secretFile`). */
  readonly supportsSecretFile: boolean;
  readonly pid: number | undefined;
  readonly stderrTail: string[];
  readonly closed: boolean;

  list(params?: { refresh?: boolean; maxAge?: number }, options?: CallOptions): Promise<ListResult>;
  /** With `options.secretFile` the secret goes to that file and the result has its path, no secret. */
  generate(name: string, description: string | null | undefined, options: GenerateOptions & { secretFile: string }): Promise<GenerateToFileResult>;
  generate(name: string, description?: string | null, options?: CallOptions & { secretFile?: null }): Promise<GenerateResult>;
  generate(name: string, description?: string | null, options?: GenerateOptions): Promise<GenerateResult | GenerateToFileResult>;
  update(id: number, name: string, description?: string | null, options?: CallOptions): Promise<UpdateResult>;
  delete(id: number, options?: CallOptions): Promise<DeleteResult>;
  watch(interval: number, options?: CallOptions): Promise<WatchResult>;
  ping(options?: CallOptions): Promise<Record<string, never>>;
  discover(options?: CallOptions): Promise<Record<string, unknown>>;

  request<T = unknown>(method: string, params?: Record<string, unknown> | unknown[], options?: CallOptions): Promise<T>;
  notify(method: string, params?: Record<string, unknown> | unknown[]): void;

  /** didChange params from now on; ends on close(), throws ServerDiedError if the server dies. */
  changes(options?: { signal?: AbortSignal }): AsyncIterableIterator<DidChange>;

  /** shutdown + exit, then waits for the child; kills it after `timeout` ms (default 2000). */
  close(options?: { timeout?: number }): Promise<void>;
  // At runtime the client also implements Symbol.asyncDispose (`await using`); it is left out
  // here so the declarations compile without the esnext.disposable lib.

  on<K extends keyof HyperstackClientEvents>(event: K, listener: (...args: HyperstackClientEvents[K]) => void): this;
  once<K extends keyof HyperstackClientEvents>(event: K, listener: (...args: HyperstackClientEvents[K]) => void): this;
  off<K extends keyof HyperstackClientEvents>(event: K, listener: (...args: HyperstackClientEvents[K]) => void): this;
}

export declare function startClient(options?: ClientOptions): Promise<HyperstackClient>;

/** An error the server returned: `{code, message, data}`. Subclasses below, one per code. */
export declare class RpcError extends Error {
  constructor(code: number, message: string, data?: unknown, method?: string);
  readonly code: number;
  readonly data: unknown;
  /** The request method that failed. */
  readonly method: string | undefined;
  /** `data.retryable === true` (upstream errors). */
  readonly retryable: boolean;
  toJSON(): { code: number; message: string; data: unknown };
  static from(error: { code: number; message?: string; data?: unknown }, method?: string): RpcError;
}

/** Constructor shape shared by the per-code classes; `code` is also static. */
export interface RpcErrorClass<C extends number> {
  new (message: string, data?: unknown, method?: string): RpcError & { readonly code: C };
  readonly code: C;
  prototype: RpcError;
}

export declare const ParseError: RpcErrorClass<-32700>;
export type ParseError = InstanceType<typeof ParseError>;
export declare const InvalidRequest: RpcErrorClass<-32600>;
export type InvalidRequest = InstanceType<typeof InvalidRequest>;
export declare const MethodNotFound: RpcErrorClass<-32601>;
export type MethodNotFound = InstanceType<typeof MethodNotFound>;
/** `data` is `{field, reason}`. */
export declare const InvalidParams: RpcErrorClass<-32602>;
export type InvalidParams = InstanceType<typeof InvalidParams>;
export declare const InternalError: RpcErrorClass<-32603>;
export type InternalError = InstanceType<typeof InternalError>;
export declare const RequestCancelled: RpcErrorClass<-32800>;
export type RequestCancelled = InstanceType<typeof RequestCancelled>;
/** -32802: the server is at its `--max-in-flight` limit and did not start the request; retry later. */
export declare const ServerBusy: RpcErrorClass<-32802>;
export type ServerBusy = InstanceType<typeof ServerBusy>;
export declare const UpstreamRejected: RpcErrorClass<1400>;
export type UpstreamRejected = InstanceType<typeof UpstreamRejected>;
export declare const Unauthorized: RpcErrorClass<1401>;
export type Unauthorized = InstanceType<typeof Unauthorized>;
export declare const Forbidden: RpcErrorClass<1403>;
export type Forbidden = InstanceType<typeof Forbidden>;
export declare const NotFound: RpcErrorClass<1404>;
export type NotFound = InstanceType<typeof NotFound>;
export declare const Conflict: RpcErrorClass<1409>;
export type Conflict = InstanceType<typeof Conflict>;
export declare const RateLimited: RpcErrorClass<1429>;
export type RateLimited = InstanceType<typeof RateLimited>;
export declare const UpstreamError: RpcErrorClass<1500>;
export type UpstreamError = InstanceType<typeof UpstreamError>;
export declare const BadUpstreamResponse: RpcErrorClass<1502>;
export type BadUpstreamResponse = InstanceType<typeof BadUpstreamResponse>;
export declare const UpstreamUnavailable: RpcErrorClass<1503>;
export type UpstreamUnavailable = InstanceType<typeof UpstreamUnavailable>;
/** 1504 (with `remote`): a mutation in flight when the daemon connection broke; not re-sent, may or may not have happened. `data` is `{method}`. */
export declare const OutcomeUnknown: RpcErrorClass<1504>;
export type OutcomeUnknown = InstanceType<typeof OutcomeUnknown>;
/** 1505: generate with `secretFile` created the key but could not write its file; delete `data.key.id`. `data` is SecretNotWrittenData. */
export declare const SecretNotWritten: RpcErrorClass<1505>;
export type SecretNotWritten = InstanceType<typeof SecretNotWritten>;

/** code → class, for the codes above. */
export declare const ERROR_CLASSES: ReadonlyMap<number, RpcErrorClass<number>>;

/** The caller's AbortSignal fired; `$/cancelRequest` was sent. */
export declare class AbortError extends Error {
  constructor(method: string, reason?: unknown);
  readonly name: 'AbortError';
  readonly code: 'ABORT_ERR';
  readonly method: string;
}

/** The call's timeout elapsed; `$/cancelRequest` was sent. */
export declare class TimeoutError extends Error {
  constructor(method: string, timeout: number);
  readonly name: 'TimeoutError';
  readonly code: 'ETIMEDOUT';
  readonly method: string;
  readonly timeout: number;
}

/** The server exited or could not be started. */
export declare class ServerDiedError extends Error {
  constructor(info: { exitCode: number | null; signal: string | null; stderrTail: string[]; cause?: unknown; message?: string });
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string[];
}

/** A call was made on (or was pending during) close(). */
export declare class ClientClosedError extends Error {
  constructor(method: string);
  readonly method: string;
}

/** The server's output was not valid LSP framing / JSON. */
export declare class ProtocolError extends Error {}

/** Incremental LSP frame decoder (exported for tests and reuse). */
export declare class FrameDecoder {
  constructor(onMessage: (message: unknown) => void);
  push(chunk: Buffer): void;
  readonly pendingBytes: number;
}

/** One framed message: `Content-Length: N\r\n\r\n` + UTF-8 JSON. */
export declare function encodeFrame(message: unknown): Buffer;
