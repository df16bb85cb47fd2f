// Shared setup for tests that run the real hyperstack-rpc binary in sandbox mode.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { HyperstackClient } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** $HYPERSTACK_RPC_BIN, else the debug build of this repository. */
export const SERVER_BIN = process.env.HYPERSTACK_RPC_BIN ?? resolve(here, '../../../.build/debug/hyperstack-rpc');

export function requireServer() {
  if (!existsSync(SERVER_BIN)) {
    throw new Error(`hyperstack-rpc not found at ${SERVER_BIN}. Run \`swift build\` in the repository root or set HYPERSTACK_RPC_BIN.`);
  }
}

/**
 * A sandboxed client with the test-only methods enabled. Any API key from the
 * developer's environment is removed so a test can never reach the real API.
 */
export async function startSandboxClient(options = {}) {
  requireServer();
  return HyperstackClient.start({
    path: SERVER_BIN,
    sandbox: true,
    ...options,
    env: { HYPERSTACK_API_KEY: undefined, HYPERSTACK_API_URL: undefined, HYPERSTACK_RPC_TEST_METHODS: '1', ...options.env },
  });
}

/** Unique-per-run key name so repeated runs against a persistent sandbox do not collide. */
export function uniqueName(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
