// The client: spawns hyperstack-rpc, speaks LSP-framed JSON-RPC 2.0 over its stdio,
// and turns responses into promises and `apiKeys.didChange` into events.

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FrameDecoder, ProtocolError, encodeFrame } from './framing.js';
import {
  AbortError, ClientClosedError, RpcError, ServerDiedError, TimeoutError,
} from './errors.js';
import { StderrTail } from './stderr-tail.js';

/** The version has one home per package: this package's own package.json. */
const PACKAGE_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const CLIENT_INFO = Object.freeze({ name: 'hyperstack-rpc-node', version: PACKAGE_VERSION });

/** How long after the child's `exit` we wait for its stdout to drain before failing pending calls. */
const EXIT_DRAIN_MS = 200;
/** Ids of cancelled requests kept so their late replies can be recognised and dropped. */
const MAX_ABANDONED_IDS = 10_000;

/** Where `make npm-pack` puts the release binaries in the package; a checkout has no such folder. */
const BUNDLE_DIR = fileURLToPath(new URL('../bin/', import.meta.url));

/**
 * Resolves the server executable: the `path` option, then $HYPERSTACK_RPC_BIN (empty counts as
 * unset), then the binary the npm package carries (bin/hyperstack-rpc, with the thin forwarder
 * beside it for `remote: 'auto'`), then `hyperstack-rpc` on PATH. The same order as the Python
 * client. A bundled file that is not executable is an error, not a reason to run whatever
 * version PATH holds. `env` and `bundleDir` are for tests.
 */
export function resolveBinary(path, { env = process.env, bundleDir = BUNDLE_DIR } = {}) {
  if (path != null) return path;
  if (env.HYPERSTACK_RPC_BIN) return env.HYPERSTACK_RPC_BIN;
  const bundled = join(bundleDir, 'hyperstack-rpc');
  if (existsSync(bundled)) {
    try {
      accessSync(bundled, constants.X_OK);
    } catch {
      throw new ServerDiedError({
        exitCode: null, signal: null, stderrTail: [],
        message: `The hyperstack-rpc bundled with this package at ${bundled} is not executable; reinstall the package, `
          + 'or set the `path` option or HYPERSTACK_RPC_BIN to another hyperstack-rpc.',
      });
    }
    return bundled;
  }
  return 'hyperstack-rpc';
}

/** The environment variable the server reads itself when no `--remote` is given. */
const REMOTE_ENV = 'HYPERSTACK_RPC_REMOTE';

/**
 * The server's `--remote` arguments for the `remote` option; throws a TypeError for a bad value.
 * Absent (undefined or null) adds nothing: standalone, unless the inherited environment sets
 * HYPERSTACK_RPC_REMOTE. Checked in the constructor, so a typo fails where it was made instead of
 * as a server that exits with a usage message.
 */
function remoteArgs(remote) {
  if (remote == null) return [];
  if (remote === 'auto' || (typeof remote === 'string' && /^unix:[^\0]+$/.test(remote))) return ['--remote', remote];
  throw new TypeError(`remote must be undefined (standalone, or $${REMOTE_ENV} if set), 'auto' (the shared daemon, `
    + `started when needed) or 'unix:PATH' (the daemon listening on PATH), not ${describe(remote)}`);
}

function describe(value) {
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

function buildArgv(options) {
  const argv = ['--framing', 'lsp', ...remoteArgs(options.remote)];
  if (options.sandbox) argv.push('--sandbox');
  if (options.sandboxState != null) argv.push('--sandbox-state', String(options.sandboxState));
  if (options.baseUrl != null) argv.push('--base-url', String(options.baseUrl));
  argv.push(...(options.args ?? []).map(String));
  return argv;
}

function buildEnv(options) {
  const env = { ...process.env, ...(options.env ?? {}) };
  // The key travels in the environment only: argv is visible to every user via `ps`.
  if (options.apiKey != null) env.HYPERSTACK_API_KEY = String(options.apiKey);
  if (options.accessToken != null) env.HYPERSTACK_ACCESS_TOKEN = String(options.accessToken);
  return env;
}

/** Copies only the defined entries, so optional params are omitted rather than sent as null. */
function defined(object) {
  const out = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[key] = value;
  return out;
}

/** Rethrows a listener's exception outside our read loop, so one bad listener cannot corrupt framing state. */
function safeEmit(emitter, event, ...args) {
  try {
    emitter.emit(event, ...args);
  } catch (error) {
    process.nextTick(() => { throw error; });
  }
}

/**
 * A connection to one hyperstack-rpc child process.
 *
 * Events: `didChange` (params of apiKeys.didChange), `notification` (method, params),
 * `stderr` (one line of server log), `exit` ({exitCode, signal, error}).
 */
export class HyperstackClient extends EventEmitter {
  #options;
  #child = null;
  #decoder;
  #stderr;
  /** @type {Map<number, {method: string, resolve: Function, reject: Function, cleanup: () => void}>} */
  #pending = new Map();
  #abandoned = new Set();
  #nextId = 1;
  /** 'new' | 'starting' | 'running' | 'closing' | 'closed' | 'dead' */
  #state = 'new';
  #exitInfo = null;
  #exitTimer = null;
  /** Set once the child is gone or the stream is unusable; new calls fail with it. */
  #terminalError = null;
  #finalized = false;
  #exited;
  #resolveExited;
  #closePromise = null;
  #changeSinks = new Set();
  #serverInfo = null;
  #capabilities = null;

  /**
   * Spawns the server and performs the initialize handshake.
   * @param {import('../index.js').ClientOptions} [options]
   * @returns {Promise<HyperstackClient>}
   */
  static async start(options = {}) {
    const client = new HyperstackClient(options);
    await client.start();
    return client;
  }

  /** @param {import('../index.js').ClientOptions} [options] */
  constructor(options = {}) {
    super();
    remoteArgs(options.remote);
    this.#options = { ...options };
    this.#stderr = new StderrTail(options.stderrLines ?? 50);
    this.#decoder = new FrameDecoder((message) => this.#onMessage(message));
    this.#exited = new Promise((resolve) => { this.#resolveExited = resolve; });
  }

  /** `serverInfo` from the initialize result. */
  get serverInfo() { return this.#serverInfo; }
  /** `capabilities` from the initialize result. */
  get capabilities() { return this.#capabilities; }
  /** Whether the server's generate takes `secretFile` (`capabilities.apiKeys.secretFile`). */
  get supportsSecretFile() { return this.#capabilities?.apiKeys?.secretFile === true; }
  /** The child's process id (undefined before start or if spawning failed). */
  get pid() { return this.#child?.pid; }
  /** The last lines the server wrote to stderr. */
  get stderrTail() { return this.#stderr.snapshot(); }
  /** True once `close()` finished or the server is gone. */
  get closed() { return this.#finalized; }

  /** Spawns the server and sends initialize + initialized. Rejects (and kills the child) on failure. */
  async start() {
    if (this.#state !== 'new') throw new Error('HyperstackClient.start() may only be called once');
    this.#state = 'starting';
    const options = this.#options;
    let binary;
    try {
      binary = resolveBinary(options.path);
    } catch (error) {
      this.#finalize(error);
      throw error;
    }
    const child = spawn(binary, buildArgv(options), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: buildEnv(options),
      windowsHide: true,
    });
    this.#child = child;

    child.stdout.on('data', (chunk) => this.#onStdout(chunk));
    child.stderr.on('data', (chunk) => this.#stderr.push(chunk, (line) => {
      if (this.listenerCount('stderr') > 0) safeEmit(this, 'stderr', line);
    }));
    // EPIPE after the child died: the exit path reports it, so the write error itself is noise.
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      if (child.pid === undefined) {
        this.#finalize(new ServerDiedError({
          exitCode: null, signal: null, stderrTail: [], cause: error,
          message: `Could not start ${binary}: ${error.message}. Set the \`path\` option or HYPERSTACK_RPC_BIN to the hyperstack-rpc executable.`,
        }));
      }
    });
    child.on('exit', (exitCode, signal) => {
      this.#exitInfo = { exitCode, signal };
      // Responses written just before exiting may still sit in the stdout pipe; give them a moment.
      this.#exitTimer = setTimeout(() => this.#finalize(), EXIT_DRAIN_MS);
    });
    child.on('close', (exitCode, signal) => {
      this.#exitInfo ??= { exitCode, signal };
      this.#finalize();
    });

    try {
      const result = await this.#request('initialize', defined({
        processId: process.pid,
        clientInfo: options.clientInfo ?? CLIENT_INFO,
        initializationOptions: options.initializationOptions,
      }), { timeout: options.startTimeout ?? 15_000 });
      this.#serverInfo = result?.serverInfo ?? null;
      this.#capabilities = result?.capabilities ?? null;
      this.#write({ jsonrpc: '2.0', method: 'initialized', params: {} });
      if (this.#state === 'starting') this.#state = 'running';
      return this;
    } catch (error) {
      if (!this.#finalized) {
        child.kill('SIGKILL');
        await this.#exited;
      }
      throw error;
    }
  }

  // ---- apiKeys.* -------------------------------------------------------------------------

  /**
   * @param {{refresh?: boolean, maxAge?: number}} [params]
   * @param {import('../index.js').CallOptions} [options]
   */
  list({ refresh, maxAge } = {}, options) {
    return this.request('apiKeys.list', defined({ refresh, maxAge }), options);
  }

  /**
   * The result's `key.secret` is shown once only: store it, never log it.
   *
   * With `options.secretFile` (a path), the server writes the secret to that new file instead
   * (mode 0600, never overwriting; a relative path lands in its `--secrets-dir`) and the result is
   * `{key, revision, secretFile}`: the file's absolute path and no secret, so the secret never
   * crosses the pipe or the `trace` option. A refused path is InvalidParams (`data.field ===
   * 'secretFile'`) and creates no key; SecretNotWritten (1505) means the key was created but the
   * write failed: delete `error.data.key.id`. See `supportsSecretFile`.
   * @param {string} name
   * @param {string | null} [description]
   * @param {import('../index.js').GenerateOptions} [options]
   */
  generate(name, description, options = {}) {
    const { secretFile, ...callOptions } = options ?? {};
    if (secretFile != null && typeof secretFile !== 'string') {
      return Promise.reject(new TypeError(`secretFile must be a string path, not ${describe(secretFile)}`));
    }
    return this.request('apiKeys.generate', defined({ name, description, secretFile: secretFile ?? undefined }), callOptions);
  }

  update(id, name, description, options) {
    return this.request('apiKeys.update', defined({ id, name, description }), options);
  }

  delete(id, options) {
    return this.request('apiKeys.delete', { id }, options);
  }

  /** Starts (interval > 0, seconds) or stops (0) background polling that produces didChange events. */
  watch(interval, options) {
    return this.request('apiKeys.watch', { interval }, options);
  }

  ping(options) {
    return this.request('$/ping', undefined, options);
  }

  /** The OpenRPC document describing the server. */
  discover(options) {
    return this.request('rpc.discover', undefined, options);
  }

  // ---- generic -----------------------------------------------------------------------------

  /**
   * Sends a request; resolves with `result`, rejects with an RpcError subclass, AbortError,
   * TimeoutError, ServerDiedError or ClientClosedError.
   */
  request(method, params, options = {}) {
    if (this.#state !== 'running') return Promise.reject(this.#unavailable(method));
    return this.#request(method, params, options);
  }

  /** Sends a notification (no reply). Throws if the client is not running. */
  notify(method, params) {
    if (this.#state !== 'running') throw this.#unavailable(method);
    this.#write(defined({ jsonrpc: '2.0', method, params }));
  }

  /**
   * Async iterator over apiKeys.didChange params, starting now. Ends when the client closes;
   * throws ServerDiedError if the server dies, AbortError if `signal` fires.
   * @param {{signal?: AbortSignal}} [options]
   */
  changes({ signal } = {}) {
    const queue = [];
    const waiters = [];
    let finished = false;
    let failure = null;
    const onAbort = () => sink.end(new AbortError('changes()', signal.reason));
    const sink = {
      push(change) {
        if (waiters.length > 0) waiters.shift().resolve({ value: change, done: false });
        else queue.push(change);
      },
      end: (error) => {
        if (finished) return;
        finished = true;
        failure = error ?? null;
        this.#changeSinks.delete(sink);
        signal?.removeEventListener('abort', onAbort);
        for (const waiter of waiters.splice(0)) {
          if (failure) { waiter.reject(failure); failure = null; } else waiter.resolve({ value: undefined, done: true });
        }
      },
    };
    if (this.#finalized) sink.end(this.#state === 'dead' ? this.#terminalError ?? undefined : undefined);
    else if (signal?.aborted) sink.end(new AbortError('changes()', signal.reason));
    else {
      this.#changeSinks.add(sink);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    return {
      next() {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (finished) {
          if (failure) { const error = failure; failure = null; return Promise.reject(error); }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
      return() {
        queue.length = 0;
        sink.end();
        failure = null;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  /**
   * Graceful stop: `shutdown`, `exit`, close stdin, wait for the child; SIGTERM then SIGKILL
   * if it does not exit within `timeout` ms. Calls still pending reject with ClientClosedError.
   * @param {{timeout?: number}} [options]
   */
  close({ timeout = 2000 } = {}) {
    this.#closePromise ??= this.#close(timeout);
    return this.#closePromise;
  }

  async #close(timeout) {
    const child = this.#child;
    if (this.#state === 'new') { this.#state = 'closed'; this.#finalize(); return; }
    if (this.#finalized || !child) { if (this.#state !== 'dead') this.#state = 'closed'; return; }
    this.#state = 'closing';
    try {
      await this.#request('shutdown', undefined, { timeout });
      this.#write({ jsonrpc: '2.0', method: 'exit' });
    } catch {
      // A dead or stuck server still gets stopped below.
    }
    child.stdin.end();
    const wait = (ms) => new Promise((resolve) => { setTimeout(resolve, ms).unref(); });
    const exitedWithin = (ms) => Promise.race([this.#exited.then(() => true), wait(ms).then(() => false)]);
    if (!(await exitedWithin(timeout))) {
      child.kill('SIGTERM');
      if (!(await exitedWithin(1000))) {
        child.kill('SIGKILL');
        await this.#exited;
      }
    }
    this.#state = 'closed';
  }

  /** `await using client = await HyperstackClient.start(...)` closes it at scope end. */
  async [Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')]() {
    await this.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  #unavailable(method) {
    if (this.#state === 'new') return new Error(`Cannot call ${method}: call start() first`);
    if (this.#state === 'starting') return new Error(`Cannot call ${method}: the client is still starting; await start()`);
    if (this.#state === 'dead' && this.#terminalError) return this.#terminalError;
    return new ClientClosedError(method);
  }

  #write(message) {
    const child = this.#child;
    if (!child || this.#finalized || !child.stdin.writable) throw this.#unavailable(message.method ?? 'write');
    child.stdin.write(encodeFrame(message));
    this.#trace('send', message);
  }

  #request(method, params, { signal, timeout } = {}) {
    if (this.#finalized) return Promise.reject(this.#unavailable(method));
    if (signal?.aborted) return Promise.reject(new AbortError(method, signal.reason));
    const id = this.#nextId++;
    let message;
    let frame;
    try {
      message = defined({ jsonrpc: '2.0', id, method, params });
      frame = encodeFrame(message);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let timer = null;
      const onAbort = () => this.#abandon(id, new AbortError(method, signal.reason));
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#pending.set(id, { method, resolve, reject, cleanup });
      if (timeout != null && Number.isFinite(timeout) && timeout > 0) {
        timer = setTimeout(() => this.#abandon(id, new TimeoutError(method, timeout)), timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#child.stdin.write(frame);
      this.#trace('send', message);
    });
  }

  /** Gives up on a request locally, tells the server to cancel it, and ignores its late reply. */
  #abandon(id, error) {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    entry.cleanup();
    this.#abandoned.add(id);
    if (this.#abandoned.size > MAX_ABANDONED_IDS) {
      this.#abandoned.delete(this.#abandoned.values().next().value);
    }
    try {
      this.#write({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });
    } catch {
      // The server is gone; nothing left to cancel.
    }
    entry.reject(error);
  }

  #onStdout(chunk) {
    if (this.#terminalError) return;
    try {
      this.#decoder.push(chunk);
    } catch (error) {
      // The stream cannot be resynchronised: fail everything and stop the child.
      const fatal = error instanceof ProtocolError ? error : new ProtocolError(String(error?.message ?? error), { cause: error });
      this.#terminalError = fatal;
      this.#rejectAll(() => fatal);
      this.#child?.kill('SIGKILL');
    }
  }

  /** Hands every message to the `trace` option (debugging aid; sees secrets in generate results). */
  #trace(direction, message) {
    const trace = this.#options.trace;
    if (!trace) return;
    try {
      trace(direction, message);
    } catch (error) {
      process.nextTick(() => { throw error; });
    }
  }

  #onMessage(message) {
    if (Array.isArray(message)) {
      for (const item of message) this.#onMessage(item);
      return;
    }
    this.#trace('receive', message);
    if (message === null || typeof message !== 'object') return;
    if (typeof message.method === 'string') {
      if (message.id !== undefined && message.id !== null) {
        // The contract has no server-to-client requests; answer rather than leave the server waiting.
        try {
          this.#write({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `The Node client does not handle ${message.method}` } });
        } catch { /* server gone */ }
        return;
      }
      if (message.method === 'apiKeys.didChange') {
        for (const sink of this.#changeSinks) sink.push(message.params);
        safeEmit(this, 'didChange', message.params);
      }
      safeEmit(this, 'notification', message.method, message.params);
      return;
    }
    const id = message.id;
    const entry = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (!entry) {
      // A late reply (usually -32800) to a request we already gave up on.
      this.#abandoned.delete(id);
      return;
    }
    this.#pending.delete(id);
    entry.cleanup();
    if (message.error !== undefined) entry.reject(RpcError.from(message.error, entry.method));
    else entry.resolve(message.result);
  }

  #rejectAll(makeError) {
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of entries) {
      entry.cleanup();
      entry.reject(makeError(entry.method));
    }
  }

  /** Runs once, when the child is gone: fail pending calls, end iterators, emit `exit`. */
  #finalize(error) {
    if (this.#finalized) return;
    this.#finalized = true;
    if (this.#exitTimer) clearTimeout(this.#exitTimer);
    const { exitCode = null, signal = null } = this.#exitInfo ?? {};
    const graceful = this.#state === 'closing' || this.#state === 'closed';
    let terminal = null;
    if (!graceful) {
      terminal = error ?? this.#terminalError ?? new ServerDiedError({ exitCode, signal, stderrTail: this.#stderr.snapshot() });
      this.#terminalError = terminal;
      this.#rejectAll(() => terminal);
    } else {
      this.#rejectAll((method) => new ClientClosedError(method));
    }
    if (!graceful) this.#state = 'dead';
    for (const sink of [...this.#changeSinks]) sink.end(terminal ?? undefined);
    this.#resolveExited();
    safeEmit(this, 'exit', { exitCode, signal, error: terminal });
  }
}

/** Same as `HyperstackClient.start(options)`. */
export function startClient(options) {
  return HyperstackClient.start(options);
}
