// Error classes. Server-reported errors are RpcError subclasses chosen by `code`, so callers
// can write `catch (e) { if (e instanceof NotFound) ... }`. Client-side conditions
// (abort, timeout, server death, closed client) have their own classes outside RpcError.

/** An error object the server sent in a JSON-RPC response: `{code, message, data}`. */
export class RpcError extends Error {
  /**
   * @param {number} code
   * @param {string} message
   * @param {unknown} [data]
   * @param {string} [method] the request method that failed, for messages and logs
   */
  constructor(code, message, data, method) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
    this.method = method;
  }

  /** True when the server marked the failure as worth retrying (upstream errors carry `data.retryable`). */
  get retryable() {
    return Boolean(this.data && typeof this.data === 'object' && this.data.retryable === true);
  }

  toJSON() {
    return { code: this.code, message: this.message, data: this.data };
  }

  /**
   * Builds the most specific subclass for a response's error object.
   * @param {{code: number, message?: string, data?: unknown}} error
   * @param {string} [method]
   * @returns {RpcError}
   */
  static from(error, method) {
    const code = typeof error?.code === 'number' ? error.code : -32603;
    const message = typeof error?.message === 'string' ? error.message : `Error ${code}`;
    const Class = ERROR_CLASSES.get(code) ?? RpcError;
    return Class === RpcError
      ? new RpcError(code, message, error?.data, method)
      : new Class(message, error?.data, method);
  }
}

/**
 * @param {string} name
 * @param {number} code
 * @returns {typeof RpcError}
 */
function defineCode(name, code) {
  // A named class expression per code; `code` is also static for `err.code === NotFound.code`.
  const Class = {
    [name]: class extends RpcError {
      constructor(message, data, method) {
        super(code, message, data, method);
      }
    },
  }[name];
  Object.defineProperty(Class, 'code', { value: code, enumerable: true });
  return Class;
}

/** -32700: the server could not parse what it received. */
export const ParseError = defineCode('ParseError', -32700);
/** -32600: not a valid request (also: any request after `shutdown`). */
export const InvalidRequest = defineCode('InvalidRequest', -32600);
/** -32601: unknown method. */
export const MethodNotFound = defineCode('MethodNotFound', -32601);
/** -32602: params failed local validation; `data` is `{field, reason}`. */
export const InvalidParams = defineCode('InvalidParams', -32602);
/** -32603: a bug or unexpected condition in the server. */
export const InternalError = defineCode('InternalError', -32603);
/** -32800: the request was cancelled (`$/cancelRequest`). */
export const RequestCancelled = defineCode('RequestCancelled', -32800);
/** -32802: the server is at its `--max-in-flight` limit and did not start the request; retry later. */
export const ServerBusy = defineCode('ServerBusy', -32802);
/** 1400: upstream rejected the request as malformed. */
export const UpstreamRejected = defineCode('UpstreamRejected', 1400);
/** 1401: the API key is missing or invalid. */
export const Unauthorized = defineCode('Unauthorized', 1401);
/** 1403: upstream forbade it (e.g. "Maximum API key limit reached"). */
export const Forbidden = defineCode('Forbidden', 1403);
/** 1404: no key with that id. */
export const NotFound = defineCode('NotFound', 1404);
/** 1409: conflict, e.g. a key with that name already exists. */
export const Conflict = defineCode('Conflict', 1409);
/** 1429: upstream rate limit hit. */
export const RateLimited = defineCode('RateLimited', 1429);
/** 1500: upstream answered 5xx. */
export const UpstreamError = defineCode('UpstreamError', 1500);
/** 1502: upstream answered with something unparseable. */
export const BadUpstreamResponse = defineCode('BadUpstreamResponse', 1502);
/** 1503: upstream unreachable or timed out. */
export const UpstreamUnavailable = defineCode('UpstreamUnavailable', 1503);
/**
 * 1504 (with `remote`): a mutation was in flight when the daemon connection broke. It was not sent
 * again and may or may not have happened: check `list()`. `data` is `{method}`.
 */
export const OutcomeUnknown = defineCode('OutcomeUnknown', 1504);
/**
 * 1505: generate with `secretFile` created the key, but its secret could not be written to the file
 * (which was removed). Nobody has the secret: delete the key and generate another. `data` is
 * `{key, revision, secretFile, reason}`.
 */
export const SecretNotWritten = defineCode('SecretNotWritten', 1505);

/** @type {Map<number, typeof RpcError>} code → class */
export const ERROR_CLASSES = new Map(
  [
    ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError, RequestCancelled, ServerBusy,
    UpstreamRejected, Unauthorized, Forbidden, NotFound, Conflict, RateLimited,
    UpstreamError, BadUpstreamResponse, UpstreamUnavailable, OutcomeUnknown, SecretNotWritten,
  ].map((Class) => [Class.code, Class]),
);

/** The caller's AbortSignal fired; `$/cancelRequest` was sent and the late reply will be ignored. */
export class AbortError extends Error {
  /**
   * @param {string} method
   * @param {unknown} [reason] the signal's reason
   */
  constructor(method, reason) {
    super(`${method} was aborted by the caller`, reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
    this.code = 'ABORT_ERR';
    this.method = method;
  }
}

/** The request did not finish within its timeout; `$/cancelRequest` was sent. */
export class TimeoutError extends Error {
  /**
   * @param {string} method
   * @param {number} timeout milliseconds
   */
  constructor(method, timeout) {
    super(`${method} did not answer within ${timeout} ms and was cancelled`);
    this.name = 'TimeoutError';
    this.code = 'ETIMEDOUT';
    this.method = method;
    this.timeout = timeout;
  }
}

/** The server process exited (or could not be started) while calls were outstanding. */
export class ServerDiedError extends Error {
  /**
   * @param {{exitCode: number|null, signal: string|null, stderrTail: string[], cause?: unknown, message?: string}} info
   */
  constructor({ exitCode, signal, stderrTail, cause, message }) {
    const how = signal ? `was killed by ${signal}` : exitCode === null ? 'stopped' : `exited with code ${exitCode}`;
    const tail = stderrTail.length > 0 ? `\nLast lines of its stderr:\n  ${stderrTail.slice(-10).join('\n  ')}` : '';
    super(`${message ?? `hyperstack-rpc ${how}`}${tail}`, cause === undefined ? undefined : { cause });
    this.name = 'ServerDiedError';
    this.exitCode = exitCode;
    this.signal = signal;
    /** Up to the last ~50 lines the server wrote to stderr. */
    this.stderrTail = stderrTail;
  }
}

/** The client was closed with `close()`; start a new one to make more calls. */
export class ClientClosedError extends Error {
  constructor(method) {
    super(`Cannot call ${method}: the hyperstack-rpc client is closed`);
    this.name = 'ClientClosedError';
    this.method = method;
  }
}
