// Framing on real bytes: split points, multi-byte characters, U+2028, malformed headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FrameDecoder, ProtocolError, encodeFrame } from '../index.js';

function decodeAll(chunks) {
  const messages = [];
  const decoder = new FrameDecoder((message) => messages.push(message));
  for (const chunk of chunks) decoder.push(chunk);
  return { messages, pending: decoder.pendingBytes };
}

test('encodeFrame counts Content-Length in UTF-8 bytes, not characters', () => {
  const frame = encodeFrame({ name: 'é\u2028😀' });
  const text = frame.toString('utf8');
  const body = JSON.stringify({ name: 'é\u2028😀' });
  assert.equal(text, `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  assert.notEqual(Buffer.byteLength(body), body.length);
});

test('two messages in one chunk', () => {
  const bytes = Buffer.concat([encodeFrame({ id: 1 }), encodeFrame({ id: 2 })]);
  assert.deepEqual(decodeAll([bytes]).messages, [{ id: 1 }, { id: 2 }]);
});

test('every split point, including inside a multi-byte character and the header', () => {
  const message = { jsonrpc: '2.0', id: 7, result: { name: 'Ünïcødé \u2028 \u2029 😀 中文' } };
  const bytes = Buffer.concat([encodeFrame(message), encodeFrame({ id: 8 })]);
  for (let split = 1; split < bytes.length; split++) {
    const { messages, pending } = decodeAll([bytes.subarray(0, split), bytes.subarray(split)]);
    assert.deepEqual(messages, [message, { id: 8 }], `split at ${split}`);
    assert.equal(pending, 0);
  }
});

test('byte-at-a-time delivery', () => {
  const message = { method: 'apiKeys.didChange', params: { added: [{ name: '\u2028x' }] } };
  const bytes = encodeFrame(message);
  const chunks = [...bytes].map((byte) => Buffer.from([byte]));
  assert.deepEqual(decodeAll(chunks).messages, [message]);
});

test('header names are case-insensitive and Content-Type is accepted', () => {
  const body = Buffer.from('{"id":3}');
  const bytes = Buffer.concat([
    Buffer.from(`content-length: ${body.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n`),
    body,
  ]);
  assert.deepEqual(decodeAll([bytes]).messages, [{ id: 3 }]);
});

test('a partial body stays pending', () => {
  const bytes = encodeFrame({ id: 1, result: 'abc' });
  const { messages, pending } = decodeAll([bytes.subarray(0, bytes.length - 2)]);
  assert.deepEqual(messages, []);
  assert.ok(pending > 0);
});

test('missing Content-Length is a ProtocolError', () => {
  assert.throws(() => decodeAll([Buffer.from('Content-Type: x\r\n\r\n{}')]), ProtocolError);
});

test('a non-numeric Content-Length is a ProtocolError', () => {
  assert.throws(() => decodeAll([Buffer.from('Content-Length: 1e3\r\n\r\n{}')]), ProtocolError);
});

test('NDJSON where LSP was expected is reported, not buffered forever', () => {
  const line = Buffer.from(`${JSON.stringify({ id: 1, result: 'x'.repeat(9000) })}\n`);
  assert.throws(() => decodeAll([line]), /NDJSON/);
});

test('a body that is not JSON is a ProtocolError', () => {
  assert.throws(() => decodeAll([Buffer.from('Content-Length: 3\r\n\r\n{x}')]), ProtocolError);
});
