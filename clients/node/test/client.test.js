// End-to-end: the client against the real hyperstack-rpc binary with --sandbox.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  AbortError, ClientClosedError, Conflict, HyperstackClient, InvalidParams, NotFound,
  RpcError, ServerDiedError, TimeoutError,
} from '../index.js';
import { startSandboxClient, uniqueName } from './helpers.js';

describe('apiKeys lifecycle', () => {
  let client;
  const events = [];
  before(async () => {
    client = await startSandboxClient();
    client.on('didChange', (change) => events.push(change));
  });
  after(() => client?.close());

  test('initialize reported the server', () => {
    assert.equal(client.serverInfo?.name, 'hyperstack-rpc');
    assert.equal(typeof client.serverInfo?.version, 'string');
  });

  test('list → generate → update → delete, each didChange before its response, in revision order', async () => {
    const iterator = client.changes();
    const initial = await client.list();
    assert.ok(Array.isArray(initial.keys));
    assert.equal(typeof initial.revision, 'number');

    const name = uniqueName('node-e2e');
    const generated = await client.generate(name, 'made by the node tests');
    assert.equal(generated.key.name, name);
    assert.equal(generated.key.description, 'made by the node tests');
    assert.equal(typeof generated.key.secret, 'string');
    assert.ok(generated.key.secret.length > 0, 'generate returns the secret');
    // didChange is written before the response, so the listener has already seen it.
    assert.equal(events.at(-1)?.revision, generated.revision);
    assert.equal(events.at(-1)?.cause, 'generate');
    assert.deepEqual(events.at(-1)?.added.map((key) => key.id), [generated.key.id]);

    const listed = await client.list();
    assert.ok(listed.keys.some((key) => key.id === generated.key.id && key.name === name));
    assert.ok(!JSON.stringify(listed).includes(generated.key.secret), 'list never shows the secret');

    const renamed = `${name}-renamed`;
    const updated = await client.update(generated.key.id, renamed, 'renamed by the node tests');
    assert.equal(updated.key.name, renamed);
    assert.equal(updated.key.description, 'renamed by the node tests');
    assert.equal(events.at(-1)?.revision, updated.revision);
    assert.equal(events.at(-1)?.cause, 'update');

    const deleted = await client.delete(generated.key.id);
    assert.equal(deleted.id, generated.key.id);
    assert.equal(events.at(-1)?.revision, deleted.revision);
    assert.deepEqual(events.at(-1)?.removed, [generated.key.id]);

    const revisions = events.map((change) => change.revision);
    assert.deepEqual(revisions, [generated.revision, updated.revision, deleted.revision]);
    assert.ok(revisions.every((revision, i) => i === 0 || revision > revisions[i - 1]), `monotonic: ${revisions}`);
    assert.deepEqual(events.map((change) => change.cause), ['generate', 'update', 'delete']);
    assert.ok(!JSON.stringify(events).includes(generated.key.secret), 'didChange never carries the secret');

    // The async iterator saw the same three changes, in the same order.
    const iterated = [];
    for await (const change of iterator) {
      iterated.push(change);
      if (iterated.length === 3) break;
    }
    assert.deepEqual(iterated, events);

    const after = await client.list();
    assert.ok(!after.keys.some((key) => key.id === generated.key.id));
  });

  test('update of an unknown id rejects with NotFound (1404)', async () => {
    await assert.rejects(client.update(999999, uniqueName('ghost')), (error) => {
      assert.ok(error instanceof NotFound, `${error?.name}: ${error?.message}`);
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, 1404);
      assert.equal(error.method, 'apiKeys.update');
      return true;
    });
  });

  test('a duplicate name rejects with Conflict (1409)', async () => {
    const name = uniqueName('dup');
    const first = await client.generate(name);
    try {
      await assert.rejects(client.generate(name), (error) => {
        assert.ok(error instanceof Conflict, `${error?.name}: ${error?.message}`);
        assert.equal(error.code, 1409);
        return true;
      });
    } finally {
      await client.delete(first.key.id);
    }
  });

  test('an empty name rejects with InvalidParams (-32602) naming the field', async () => {
    await assert.rejects(client.generate(''), (error) => {
      assert.ok(error instanceof InvalidParams, `${error?.name}: ${error?.message}`);
      assert.equal(error.code, -32602);
      assert.equal(error.data?.field, 'name');
      return true;
    });
  });

  test('non-ASCII names, including U+2028 and U+2029, round-trip', async () => {
    const name = `ключ \u2028 中文 😀 \u2029 é ${uniqueName('u')}`;
    const description = 'line\u2028separator and "quotes" and \\ and \u0000 nul';
    const generated = await client.generate(name, description);
    try {
      assert.equal(generated.key.name, name);
      assert.equal(generated.key.description, description);
      const listed = await client.list();
      const found = listed.keys.find((key) => key.id === generated.key.id);
      assert.equal(found?.name, name);
      assert.equal(found?.description, description);
    } finally {
      await client.delete(generated.key.id);
    }
  });

  test('ping and rpc.discover answer', async () => {
    assert.deepEqual(await client.ping(), {});
    const document = await client.discover();
    assert.equal(typeof document.openrpc, 'string');
  });
});

describe('cancellation and timeouts', () => {
  let client;
  const sent = [];
  const received = [];
  before(async () => {
    client = await startSandboxClient({
      trace: (direction, message) => (direction === 'send' ? sent : received).push(message),
    });
  });
  after(() => client?.close());

  /** Resolves once the server's reply to `id` arrives (the late -32800 the client must ignore). */
  async function lateReply(id, ms = 5000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const reply = received.find((message) => message.id === id);
      if (reply) return reply;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  test('a timeout sends $/cancelRequest, rejects with TimeoutError, and the client stays usable', async () => {
    const started = Date.now();
    await assert.rejects(client.request('test.sleep', { ms: 2000 }, { timeout: 100 }), (error) => {
      assert.ok(error instanceof TimeoutError, `${error?.name}: ${error?.message}`);
      assert.equal(error.name, 'TimeoutError');
      return true;
    });
    assert.ok(Date.now() - started < 1500, 'rejected at the timeout, not when the sleep ended');
    const request = sent.find((message) => message.method === 'test.sleep');
    const cancel = sent.find((message) => message.method === '$/cancelRequest');
    assert.deepEqual(cancel?.params, { id: request.id });
    // The server answers the cancelled request with -32800 only; the client drops it silently.
    const reply = await lateReply(request.id);
    assert.equal(reply?.error?.code, -32800, JSON.stringify(reply));
    assert.deepEqual(await client.ping(), {});
    assert.ok(Array.isArray((await client.list()).keys));
  });

  test('an AbortSignal sends $/cancelRequest and rejects with AbortError', async () => {
    const controller = new AbortController();
    const pending = client.request('test.sleep', { ms: 2000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof AbortError, `${error?.name}: ${error?.message}`);
      assert.equal(error.name, 'AbortError');
      return true;
    });
    const request = sent.findLast((message) => message.method === 'test.sleep');
    assert.ok(sent.some((message) => message.method === '$/cancelRequest' && message.params?.id === request.id));
    assert.equal((await lateReply(request.id))?.error?.code, -32800);
    assert.deepEqual(await client.ping(), {});
  });

  test('an already-aborted signal rejects without sending', async () => {
    const before = sent.length;
    await assert.rejects(client.ping({ signal: AbortSignal.abort() }), AbortError);
    assert.equal(sent.length, before);
  });

  test('1 MiB of stderr does not deadlock the server', async () => {
    const result = await client.request('test.stderr', { bytes: 1048576 }, { timeout: 30_000 });
    assert.deepEqual(result, {});
    assert.deepEqual(await client.ping({ timeout: 10_000 }), {});
    assert.ok(client.stderrTail.length <= 50);
  });
});

describe('server death', () => {
  test('killing the server mid-call rejects the pending call with ServerDiedError promptly', async () => {
    const client = await startSandboxClient();
    const exits = [];
    client.on('exit', (info) => exits.push(info));
    const iterator = client.changes();
    const pending = client.request('test.sleep', { ms: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the server is now inside the sleep
    const killedAt = Date.now();
    process.kill(client.pid, 'SIGKILL');
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof ServerDiedError, `${error?.name}: ${error?.message}`);
      assert.equal(error.signal, 'SIGKILL');
      assert.ok(Array.isArray(error.stderrTail));
      return true;
    });
    assert.ok(Date.now() - killedAt < 1500, `took ${Date.now() - killedAt} ms`);
    await assert.rejects(client.ping(), ServerDiedError);
    await assert.rejects(iterator.next(), ServerDiedError);
    assert.equal(exits.length, 1);
    assert.ok(exits[0].error instanceof ServerDiedError);
    assert.equal(client.closed, true);
    await client.close(); // harmless on a dead client
  });

  test('a missing executable fails start with a clear ServerDiedError', async () => {
    await assert.rejects(
      HyperstackClient.start({ path: '/nonexistent/hyperstack-rpc', sandbox: true }),
      (error) => {
        assert.ok(error instanceof ServerDiedError, `${error?.name}: ${error?.message}`);
        assert.match(error.message, /Could not start .*ENOENT/);
        return true;
      },
    );
  });
});

describe('close', () => {
  test('close() runs shutdown + exit, the server exits 0, and later calls fail with ClientClosedError', async () => {
    const client = await startSandboxClient();
    const exited = new Promise((resolve) => client.once('exit', resolve));
    const iterator = client.changes();
    await client.close();
    const info = await exited;
    assert.equal(info.exitCode, 0);
    assert.equal(info.error, null);
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    await assert.rejects(client.list(), ClientClosedError);
    await client.close(); // idempotent
  });
});
