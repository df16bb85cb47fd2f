// The code → class mapping that callers rely on for `instanceof` checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as rpc from '../index.js';

const EXPECTED = {
  ParseError: -32700, InvalidRequest: -32600, MethodNotFound: -32601, InvalidParams: -32602,
  InternalError: -32603, RequestCancelled: -32800, ServerBusy: -32802, UpstreamRejected: 1400, Unauthorized: 1401,
  Forbidden: 1403, NotFound: 1404, Conflict: 1409, RateLimited: 1429, UpstreamError: 1500,
  BadUpstreamResponse: 1502, UpstreamUnavailable: 1503, OutcomeUnknown: 1504, SecretNotWritten: 1505,
};

test('each documented code maps to its own RpcError subclass', () => {
  for (const [name, code] of Object.entries(EXPECTED)) {
    const Class = rpc[name];
    assert.equal(Class.code, code, name);
    const error = rpc.RpcError.from({ code, message: `m${code}`, data: { retryable: code === 1503 } }, 'apiKeys.list');
    assert.ok(error instanceof Class, name);
    assert.ok(error instanceof rpc.RpcError);
    assert.equal(error.name, name);
    assert.equal(error.code, code);
    assert.equal(error.message, `m${code}`);
    assert.equal(error.method, 'apiKeys.list');
    assert.equal(error.retryable, code === 1503);
  }
  assert.equal(rpc.ERROR_CLASSES.size, Object.keys(EXPECTED).length);
});

test('an unknown code is a plain RpcError that keeps code and data', () => {
  const error = rpc.RpcError.from({ code: 4242, message: 'odd', data: { x: 1 } });
  assert.equal(error.constructor, rpc.RpcError);
  assert.deepEqual(error.toJSON(), { code: 4242, message: 'odd', data: { x: 1 } });
});

test('ServerDiedError carries exit details and the stderr tail in its message', () => {
  const error = new rpc.ServerDiedError({ exitCode: null, signal: 'SIGKILL', stderrTail: ['boom'] });
  assert.equal(error.signal, 'SIGKILL');
  assert.match(error.message, /killed by SIGKILL[\s\S]*boom/);
});
