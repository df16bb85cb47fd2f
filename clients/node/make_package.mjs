// Packs the npm tarball that carries the server: what `make npm-pack` runs.
//
//   node clients/node/make_package.mjs --binaries DIR --dist DIR
//
// DIR holds the stripped release binaries (`make npm-pack` strips them into .build/package-bin
// with `install -s`, as `make install` does). A copy of this package is staged in a temporary
// folder with the binaries in bin/ (mode 0755: the thin forwarder must sit beside the server and
// be executable, since `remote: 'auto'` execs it), its package.json gains `bin` (the
// hyperstack-rpc and hyperstack-sandbox commands, for npx and npm scripts) and `os`/`cpu` (the
// binaries' platform, so npm refuses the tarball where they cannot run), and `npm pack` writes
// DIST/hyperstack-rpc-<version>.tgz. The checkout's package.json stays platform-free: from a
// checkout the client runs whatever server $HYPERSTACK_RPC_BIN or PATH names. Offline: a package
// with no dependencies packs without the registry.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
/** What the tarball carries in bin/. */
const BINARIES = ['hyperstack-rpc', 'hyperstack-rpc-forwarder', 'hyperstack-sandbox'];
/** The commands npm links into node_modules/.bin. */
const COMMANDS = ['hyperstack-rpc', 'hyperstack-sandbox'];
/** ELF e_machine values and npm's names for them. */
const CPUS = new Map([[62, 'x64'], [183, 'arm64']]);

function fail(message) {
  process.stderr.write(`make_package.mjs: ${message}\n`);
  process.exit(1);
}

/** npm's `cpu` for a 64-bit little-endian Linux ELF executable. */
function elfCpu(path) {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try { readSync(fd, header, 0, 20, 0); } finally { closeSync(fd); }
  if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) fail(`${path} is not a 64-bit little-endian ELF executable`);
  const cpu = CPUS.get(header.readUInt16LE(18));
  if (!cpu) fail(`${path}: unsupported ELF machine ${header.readUInt16LE(18)}`);
  return cpu;
}

const { values } = parseArgs({ options: { binaries: { type: 'string' }, dist: { type: 'string' } } });
if (!values.binaries || !values.dist) fail('usage: make_package.mjs --binaries DIR --dist DIR');
const binaries = resolve(values.binaries);
const dist = resolve(values.dist);

const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const cpus = new Set(BINARIES.map((name) => elfCpu(join(binaries, name))));
if (cpus.size !== 1) fail(`the binaries are for different architectures: ${[...cpus].join(', ')}`);

const stage = mkdtempSync(join(tmpdir(), 'hyperstack-rpc-npm-'));
try {
  for (const entry of manifest.files) {
    if (entry === 'bin/') continue;
    cpSync(join(here, entry), join(stage, entry), { recursive: true });
  }
  mkdirSync(join(stage, 'bin'), { mode: 0o755 });
  for (const name of BINARIES) {
    copyFileSync(join(binaries, name), join(stage, 'bin', name));
    chmodSync(join(stage, 'bin', name), 0o755);
  }
  const packed = {
    ...manifest,
    files: [...new Set([...manifest.files, 'bin/'])],
    bin: Object.fromEntries(COMMANDS.map((name) => [name, `bin/${name}`])),
    os: ['linux'],
    cpu: [...cpus],
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(packed, null, 2)}\n`);
  mkdirSync(dist, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', '--offline', '--ignore-scripts', '--pack-destination', dist, stage], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename }] = JSON.parse(output);
  console.log(join(dist, filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
