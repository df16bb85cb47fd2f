// Which server executable the client spawns: the `path` option, then $HYPERSTACK_RPC_BIN, then the
// binary the npm package carries (bin/, written by `make npm-pack`), then `hyperstack-rpc` on PATH.
// Needs no server: files in a temporary folder stand in for the bundled binary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ServerDiedError } from '../index.js';
import { resolveBinary } from '../src/client.js';

describe('the server executable', () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'hs-node-lookup-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the path option comes first, then HYPERSTACK_RPC_BIN, then the bundled binary, then PATH', () => {
    const folder = mkdtempSync(join(dir, 'bin-'));
    const bundled = join(folder, 'hyperstack-rpc');
    writeFileSync(bundled, '#!/bin/sh\n', { mode: 0o755 });
    const explicit = join(dir, 'explicit-hyperstack-rpc');
    const fromEnv = join(dir, 'env-hyperstack-rpc');

    assert.equal(resolveBinary(explicit, { env: { HYPERSTACK_RPC_BIN: fromEnv }, bundleDir: folder }), explicit);
    assert.equal(resolveBinary(undefined, { env: { HYPERSTACK_RPC_BIN: fromEnv }, bundleDir: folder }), fromEnv);
    assert.equal(resolveBinary(undefined, { env: { HYPERSTACK_RPC_BIN: '' }, bundleDir: folder }), bundled,
      'an empty HYPERSTACK_RPC_BIN counts as unset');
    assert.equal(resolveBinary(undefined, { env: {}, bundleDir: folder }), bundled);
    assert.equal(resolveBinary(undefined, { env: {}, bundleDir: join(dir, 'no-such-folder') }), 'hyperstack-rpc',
      'without a bundled binary, the name is looked up on PATH');
  });

  test('a bundled file that is not executable is an error, not a reason to use PATH', () => {
    const folder = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(folder, 'hyperstack-rpc'), 'not a program', { mode: 0o644 });
    assert.throws(() => resolveBinary(undefined, { env: {}, bundleDir: folder }),
      (error) => error instanceof ServerDiedError && /not executable/.test(error.message) && error.message.includes(folder));
  });

  test('a checkout carries no binary: only the packed tarball (make npm-pack) has a bin/', () => {
    const packageBin = fileURLToPath(new URL('../bin/hyperstack-rpc', import.meta.url));
    assert.equal(existsSync(packageBin), false, `${packageBin} exists in the checkout and would shadow PATH`);
  });
});
