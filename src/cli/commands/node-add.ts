// gnt-node add: joins the new node over the RPC (no ssh), then submits OP_NODE_ADD.
//
// Upstream's client sets the node up over ssh before it submits the job; here the
// client, running as root on the master (it reads the cluster key), gives the node its
// key with the one-time join token the operator read on that node (`ganeti
// join-token`). A node that still has its key (a re-add) needs no token. The join
// brings the node the cluster certificate too (src/rpc/join.ts).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { PROTOCOL_VERSION } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { deriveNodeKey, loadKey } from '../../rpc/auth.ts';
import { RpcClient } from '../../rpc/client.ts';
import { JOIN_PATH, makeJoinRequest, validJoinToken } from '../../rpc/join.ts';
import { clusterTransport, type RpcTransport } from '../../rpc/transport.ts';
import { nodePaths } from '../../util/paths.ts';
import { nodedPort } from '../../util/services.ts';
import { resolveHost } from '../../util/resolve.ts';
import { exitWith, type Command, type CommandContext } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';
import { parseKeyVal } from '../keyvalue.ts';

const yesNo = (what: string, v: unknown): boolean | undefined => {
  if (v === null || v === undefined) return undefined;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return exitWith(`Invalid value for ${what}: '${String(v)}' (expected yes or no)`);
};

/**
 * POST the join request to the node's noded; resolves with its answer or why it failed.
 * Over TLS the node's certificate is not checked: until it joins, a node serves one of
 * its own; the request is authenticated by the token and its secrets are sealed.
 */
function sendJoin(transport: RpcTransport, address: string, port: number, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: address, port, method: 'POST', path: JOIN_PATH, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = transport.kind === 'tls'
      ? https.request({ ...options, rejectUnauthorized: false }, onResponse)
      : http.request(options, onResponse);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Give the node its key, unless it already answers with it. */
async function joinNode(ctx: CommandContext, name: string, address: string, token: string | null): Promise<void> {
  const paths = nodePaths();
  let secret: Uint8Array;
  try {
    secret = loadKey(paths.clusterKey, 'cluster key');
  } catch (err) {
    return exitWith(`Cannot read the cluster key (run gnt-node add as root on the master): ${(err as Error).message}`);
  }
  let transport: RpcTransport;
  try {
    transport = clusterTransport(paths);
  } catch (err) {
    return exitWith(`${(err as Error).message} (run gnt-node add as root on the master)`);
  }
  const port = nodedPort();
  const rpc = new RpcClient(() => secret, () => transport);
  try {
    const r = await rpc.call({ name, address, port }, 'version', []);
    if (r.ok) {
      if (r.payload !== PROTOCOL_VERSION) exitWith(`Node ${name} speaks protocol version ${String(r.payload)}, the master ${PROTOCOL_VERSION}`);
      return; // it already holds its key (re-add)
    }
    if (token === null) {
      exitWith(`Node ${name} (${address}) does not answer with this cluster's key: ${r.error}\n` +
        `Run "ganeti join-token" on ${name} and pass the token with --join-token`);
    }
  } finally {
    rpc.close();
  }
  if (!validJoinToken(token!)) exitWith('The join token is malformed (expected the 43 characters "ganeti join-token" prints)');
  const cluster = (await (await ctx.client()).call('QueryConfigValues', [['cluster_name']]) as string[])[0];
  const serverPem = transport.kind === 'tls' ? fs.readFileSync(paths.serverCert, 'utf8') : null;
  const { body, headers } = makeJoinRequest(token!, name, cluster, deriveNodeKey(secret, name), serverPem);
  let answer: { status: number; text: string };
  try {
    answer = await sendJoin(transport, address, port, body, headers);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = transport.kind === 'tls' && /wrong version number|packet length too long/i.test(e.message)
      ? ' (the node does not answer with TLS: is its ganeti-noded running with --no-ssl? this cluster uses TLS)' : '';
    return exitWith(`Cannot contact the node daemon of ${name} at ${address}:${port}: ${e.message}${hint}`);
  }
  if (answer.status !== 200) {
    let msg = answer.text;
    try {
      msg = String(JSON.parse(answer.text));
    } catch { /* plain text */ }
    exitWith(`Node ${name} refused to join: ${msg}`);
  }
}

export const add: Command = {
  name: 'add',
  usage: '[-s ip] [-g group] [--readd] [--join-token TOKEN] <node-name>',
  description: 'Add a node to the cluster',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-s', '--secondary-ip'], dest: 'secondary_ip', type: 'string', metavar: 'ADDRESS', help: 'Specify the secondary ip for the node' },
    { flags: ['--primary-ip'], dest: 'primary_ip', type: 'string', metavar: 'ADDRESS', help: "The node's primary IP address (default: the address its name resolves to)" },
    { flags: ['--readd'], dest: 'readd', help: 'Readd old node after replacing it' },
    { flags: ['-g', '--node-group'], dest: 'nodegroup', type: 'string', metavar: 'NODEGROUP', help: 'Node group (name or uuid)' },
    { flags: ['--master-capable'], dest: 'master_capable', type: 'choice', choices: ['yes', 'no'], metavar: 'yes|no', help: 'Set the master_capable flag on the node' },
    { flags: ['--vm-capable'], dest: 'vm_capable', type: 'choice', choices: ['yes', 'no'], metavar: 'yes|no', help: 'Set the vm_capable flag on the node' },
    { flags: ['--node-parameters'], dest: 'ndparams', type: 'string', metavar: 'PARAMS', help: 'Node parameters' },
    { flags: ['--join-token'], dest: 'join_token', type: 'string', metavar: 'TOKEN', help: 'The one-time token that "ganeti join-token" prints on the new node' },
    // Accepted for compatibility with upstream's scripts; there is no ssh to set up here.
    { flags: ['--no-ssh-key-check'], dest: 'no_ssh_key_check', help: 'Accepted for compatibility (no ssh is used)' },
    { flags: ['--no-node-setup'], dest: 'no_node_setup', help: 'Accepted for compatibility (no ssh is used)' },
    ...JOB_OPTIONS,
  ],
  async run(ctx) {
    const name = ctx.args[0];
    const client = await ctx.client();
    // All nodes, not a name filter: a query naming an unknown node is an error.
    const known = (await client.call('Query', ['node', ['name', 'pip'], null])) as { data: Array<Array<[number, unknown]>> };
    const existing = known.data.find((row) => row[0][1] === name);
    if (existing && !ctx.opts.readd) throw new OpPrereqError(`Node ${name} is already in the configuration`, ECODE.EXISTS);
    const primaryIp = (ctx.opts.primary_ip as string | null) ?? (existing ? String(existing[1][1]) : await resolveHost(name));
    if (!primaryIp) throw new OpPrereqError(`Cannot resolve node name '${name}'; give its address with --primary-ip`, ECODE.RESOLVER);
    if (net.isIP(primaryIp) === 0) throw new OpPrereqError(`Invalid primary IP address '${primaryIp}'`, ECODE.INVAL);
    if (!ctx.opts.dry_run) await joinNode(ctx, name, primaryIp, (ctx.opts.join_token as string | null) ?? null);
    const op: Record<string, unknown> = { OP_ID: 'OP_NODE_ADD', node_name: name, primary_ip: primaryIp, readd: Boolean(ctx.opts.readd) };
    if (ctx.opts.secondary_ip) op.secondary_ip = ctx.opts.secondary_ip;
    if (ctx.opts.nodegroup) op.group = ctx.opts.nodegroup;
    const mc = yesNo('--master-capable', ctx.opts.master_capable);
    const vc = yesNo('--vm-capable', ctx.opts.vm_capable);
    if (mc !== undefined) op.master_capable = mc;
    if (vc !== undefined) op.vm_capable = vc;
    if (ctx.opts.ndparams) op.ndparams = parseKeyVal('--node-parameters', String(ctx.opts.ndparams));
    await submitAndWait(ctx, [op]);
    return 0;
  },
};
