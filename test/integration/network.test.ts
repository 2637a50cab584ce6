// gnt-network as an operator drives it on a one-node cluster: add (pool, reservations,
// node addresses, tags), modify, connect/disconnect to the node group, the listings and
// info (byte for byte the same as Ganeti 3.0's own python client against our master, when
// Debian's ganeti-3.0 is installed), hooks, ssconf_networks, config.data's Network objects,
// upstream's errors; and instances with NICs in a network (ip=pool, the group's netparams,
// the address given back at removal).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { noopOsMissing, TestCluster } from './cluster.ts';
import { rapiRequest, type RawResponse } from './rapi-http.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
const node = cluster.init('node1.net.test', 'cluster.net.test', ['--nic-parameters=mode=bridged,link=gnt0']);

const PYTHONPATH = '/usr/share/ganeti/3.0';
const realClient = fs.existsSync(`${PYTHONPATH}/ganeti/client/gnt_network.py`) && fs.existsSync('/usr/bin/python3');

function ok(tool: string, args: string[]): string {
  const r = node.run(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Our tool and Ganeti 3.0's python one print the same (when ganeti-3.0 is installed). */
function sameAsReal(tool: string, args: string[]): string {
  const ours = node.run(tool, args);
  if (realClient) {
    const module = tool.replace('-', '_');
    const r = spawnSync('/usr/bin/python3', ['-c', `import sys; sys.argv[0] = '${tool}'; from ganeti.client import ${module} as m; sys.exit(m.Main())`, ...args], {
      env: { ...node.env, PYTHONPATH }, encoding: 'utf8',
    });
    assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }, { code: r.status, stdout: r.stdout, stderr: r.stderr }, `${tool} ${args.join(' ')}`);
  }
  return ours.stdout;
}

function config(): Record<string, any> {
  const journal = node.file('var/lib/ganeti/config.journal');
  const deadline = Date.now() + 10_000;
  while (fs.existsSync(journal) && fs.statSync(journal).size > 0 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8'));
}

const netByName = (name: string) => Object.values(config().networks as Record<string, any>).find((n) => n.name === name);
const nodeNet = node.ip.replace(/\.\d+$/, '.0/24');

test('gnt-network add: the pool, external reservations, tags, config.data\'s Network object, ssconf and hooks', () => {
  const hooks = node.file('etc/ganeti/hooks/network-add-post.d');
  fs.mkdirSync(hooks, { recursive: true });
  fs.writeFileSync(`${hooks}/record`, `#!/bin/sh\nenv | grep -E '^GANETI_(NETWORK|OBJECT_TYPE|HOOKS_PATH)' | sort > ${node.file('network-add.env')}\n`, { mode: 0o755 });
  ok('gnt-network', ['add', '--network', '10.9.0.0/28', '--gateway', '10.9.0.1', '--add-reserved-ips', '10.9.0.5', '-m', 'AA:BB:CC', '--tags', 't2,t1', 'net1']);
  const net = netByName('net1');
  assert.deepEqual(Object.keys(net).sort(), ['ctime', 'ext_reservations', 'gateway', 'mac_prefix', 'mtime', 'name', 'network', 'reservations', 'serial_no', 'tags', 'uuid']);
  assert.equal(net.reservations, '0000000000000000');
  assert.equal(net.ext_reservations, '1100010000000001');
  assert.equal(net.mac_prefix, 'aa:bb:cc');
  assert.deepEqual(net.tags, ['t1', 't2']);
  assert.equal(net.serial_no, 1);
  assert.equal(fs.readFileSync(node.file('network-add.env'), 'utf8'),
    'GANETI_HOOKS_PATH=network-add\nGANETI_NETWORK_GATEWAY=10.9.0.1\nGANETI_NETWORK_MAC_PREFIX=aa:bb:cc\nGANETI_NETWORK_NAME=net1\n' +
    'GANETI_NETWORK_SUBNET=10.9.0.0/28\nGANETI_NETWORK_TAGS=t2 t1\nGANETI_OBJECT_TYPE=NETWORK\n');
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/ssconf_networks'), 'utf8'), `${net.uuid} net1\n`);

  // The node's own address in a new network is reserved (conflicts check), unless told not to.
  const out = ok('gnt-network', ['add', '--network', nodeNet, 'nodes']);
  // Here the primary, secondary and master addresses are one: reserved once, then warned about (as upstream).
  const ip = node.ip;
  assert.equal(out.replace(/^.{24} /gm, ''), [
    ` - INFO: Reserved IP address of node 'node1.net.test' (${ip})`,
    ` - WARNING: Cannot reserve IP address '${ip}' of node 'node1.net.test': IP ${ip} is already externally reserved`,
    ` - WARNING: Cannot reserve cluster master IP address (${ip}): IP ${ip} is already externally reserved`, ''].join('\n'));
  ok('gnt-network', ['add', '--no-conflicts-check', '--network', '10.8.0.0/24', 'free']);
  assert.equal(netByName('free').ext_reservations, `1${'0'.repeat(254)}1`);
});

test('gnt-network add and modify refuse what upstream refuses, with its messages', () => {
  const fail = (args: string[], code: number, stderr: string | RegExp) => {
    const r = node.run('gnt-network', args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    if (typeof stderr === 'string') assert.equal(r.stderr, stderr);
    else assert.match(r.stderr, stderr);
  };
  fail(['add', 'nonet'], 1, 'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nThe --network option must be given\n');
  fail(['add', '--network', '10.7.0.0/24', 'net1'], 1, /Desired network name 'net1' already exists as a network \(UUID: [0-9a-f-]+\)/);
  fail(['add', '--network', '10.7.0.0/31', 'tiny'], 1, /Cannot create IP address pool for network 'tiny': A network with only 2 host\(s\) is too small, please specify at least a \/30 network/);
  fail(['add', '--network', '10.7.0.0/24', '--gateway', '10.6.0.1', 'outside'], 1, /Cannot create IP address pool for network 'outside': 10\.7\.0\.0\/24 does not contain 10\.6\.0\.1/);
  fail(['add', '--network', '10.7.0.0/24', '-m', 'zz:00', 'badmac'], 1, /Invalid MAC address prefix 'zz:00'/);
  fail(['add', '--network', 'nonsense', 'bad'], 1, /network/);
  fail(['modify', 'net1'], 1, 'Please give at least one of the parameters.\n');
  // Only an instance's address makes the check fail (as upstream); an external reservation fails the change itself.
  fail(['modify', '--gateway', '10.9.0.5', 'net1'], 1, 'Failure: command execution error:\nIP 10.9.0.5 is already externally reserved\n');
  fail(['modify', '--gateway', '10.9.0.2', '--add-reserved-ips', '10.9.0.3', 'net1'], 1, /Cannot modify gateway and reserved ips at once/);
  fail(['info', 'nosuch'], 0, '');
  assert.equal(Object.values(config().networks).length, 3);
});

test('gnt-network modify: gateway, reservations (warnings for what cannot be done), MAC prefix and IPv6', () => {
  ok('gnt-network', ['modify', '--gateway', '10.9.0.2', 'net1']);
  const out = ok('gnt-network', ['modify', '--add-reserved-ips', '10.9.0.7,10.9.0.99', '--remove-reserved-ips', '10.9.0.5', 'net1']);
  assert.match(out, / - WARNING: Cannot reserve IP address 10\.9\.0\.99: 10\.9\.0\.0\/28 does not contain 10\.9\.0\.99\n/);
  ok('gnt-network', ['modify', '--network6', '2001:db8::/64', '--gateway6', '2001:db8::1', '-m', 'none', 'net1']);
  const net = netByName('net1');
  assert.equal(net.gateway, '10.9.0.2');
  assert.equal(net.ext_reservations, '1010000100000001');
  assert.equal(net.network6, '2001:db8::/64');
  assert.equal(net.gateway6, '2001:db8::1');
  assert.equal(net.mac_prefix, undefined);
  assert.equal(net.serial_no, 4);
});

test('gnt-network connect, list, list-fields, info and tags (as Ganeti 3.0\'s own client prints them)', () => {
  ok('gnt-network', ['connect', '-N', 'mode=routed,link=rt0', 'net1']);
  ok('gnt-network', ['connect', '-N', 'mode=bridged,link=br9,vlan=.100', 'free', 'default']);
  const warn = ok('gnt-network', ['connect', '-N', 'link=br0', 'net1', 'default']);
  assert.match(warn, / - WARNING: Network 'net1' is already mapped to group 'default'\n/);
  const group = Object.values(config().nodegroups as Record<string, any>)[0];
  assert.deepEqual(group.networks[netByName('net1').uuid], { mode: 'routed', link: 'rt0', vlan: '' });

  const list = sameAsReal('gnt-network', ['list']);
  assert.match(list, /^Network Subnet +Gateway +MacPrefix GroupList +Tags\n/);
  assert.match(list, /\nnet1 +10\.9\.0\.0\/28 +10\.9\.0\.2 -         default \(routed, rt0, \) +t1,t2\n/);
  assert.match(list, /\nfree +10\.8\.0\.0\/24 +- +- +default \(bridged, br9, \.100\) *\n/);
  sameAsReal('gnt-network', ['list', '--no-headers', '--separator=|', '-o', 'name,free_count,reserved_count,map,external_reservations,group_cnt,inst_cnt,inst_list,tags']);
  sameAsReal('gnt-network', ['list', '-o', 'name,network6,gateway6,mac_prefix,group_list,serial_no', 'net1', 'free']);
  sameAsReal('gnt-network', ['list-fields']);
  sameAsReal('gnt-network', ['list-fields', 'name', 'nosuch']);
  const info = sameAsReal('gnt-network', ['info', 'net1']);
  assert.equal(info.replace(/UUID: \S+/, 'UUID: X'), [
    'Network name: net1', 'UUID: X', 'Serial number: 4', '  Subnet: 10.9.0.0/28', '  Gateway: 10.9.0.2', '  IPv6 Subnet: 2001:db8::/64',
    '  IPv6 Gateway: 2001:db8::1', '  Mac Prefix: None', '  Size: 16', '  Free: 12 (75.00%)', '  Usage map:',
    `        0 ${'X.X....X.......X'.padEnd(64)} 63`, '         (X) used    (.) free', '  externally reserved IPs:',
    '    10.9.0.0, 10.9.0.2, 10.9.0.7, 10.9.0.15', '  connected to node groups:', '    default (mode:routed link:rt0 vlan:)',
    '  not used by any instances', ''].join('\n'));
  sameAsReal('gnt-network', ['info']);

  ok('gnt-network', ['add-tags', 'net1', 'zz']);
  assert.equal(sameAsReal('gnt-network', ['list-tags', 'net1']), 't1\nt2\nzz\n');
  ok('gnt-network', ['remove-tags', 'net1', 'zz']);
  assert.equal(ok('gnt-network', ['list-tags', 'net1']), 't1\nt2\n');
});

test('an instance NIC in a network: the group\'s netparams, ip=pool, conflicts, and the address back at removal', { skip: noopOsMissing }, () => {
  const add = (name: string, net: string) => node.run('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '--no-start', '-n', node.name, '--net', net, name]);
  const r = add('inst1', '0:network=net1,ip=pool');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / - INFO: NIC\/0 inherits netparams \['routed', 'rt0', ''\]\n/);
  assert.match(r.stdout, / - INFO: Chose IP 10\.9\.0\.1 from network net1\n/);
  const inst = Object.values(config().instances as Record<string, any>).find((i) => i.name === 'inst1');
  assert.deepEqual({ ip: inst.nics[0].ip, network: inst.nics[0].network, nicparams: inst.nics[0].nicparams },
    { ip: '10.9.0.1', network: netByName('net1').uuid, nicparams: { mode: 'routed', link: 'rt0', vlan: '' } });
  assert.equal(netByName('net1').reservations, '0100000000000000');
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'nic.ips,nic.networks.names,nic.modes,nic.links', 'inst1']), "10.9.0.1 ['net1'] routed rt0\n");

  // A given address must be free; one that belongs to a connected network needs that network.
  const taken = add('inst2', '0:network=net1,ip=10.9.0.1');
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /IP address 10\.9\.0\.1 already in use or does not belong to network net1/);
  const conflict = add('inst2', '0:ip=10.9.0.3');
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /The requested IP address \(10\.9\.0\.3\) belongs to network net1, but the target NIC does not\./);
  const modeToo = add('inst2', '0:network=net1,mode=bridged');
  assert.match(modeToo.stderr, /If network is given, no mode or link is allowed to be passed/);
  const unconnected = add('inst2', '0:network=nodes,ip=pool');
  assert.match(unconnected.stderr, /No netparams found for network nodes\. Probably not connected to node's node1\.net\.test nodegroup/);
  // One address for two NICs of the request: refused before anything is reserved or held
  // (the same address is then free for the next add, and that change saves no stray bit).
  const twice = node.run('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '--no-start', '-n', node.name,
    '--net', '0:network=net1,ip=pool', '--net', '1:network=net1,ip=10.9.0.4', '--net', '2:network=net1,ip=10.9.0.4', 'inst2']);
  assert.equal(twice.code, 1, twice.stdout);
  assert.equal(twice.stderr, 'Failure: prerequisites not met for this operation:\nerror type: resource_not_unique, error details:\n' +
    'IP address 10.9.0.4 already in use or does not belong to network net1\n');
  assert.equal(netByName('net1').reservations, '0100000000000000');
  assert.equal(Object.values(config().instances as Record<string, any>).some((i) => i.name === 'inst2'), false);
  ok('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '--no-start', '-n', node.name, '--net', '0:network=net1,ip=10.9.0.4', 'inst2']);
  assert.equal(netByName('net1').reservations, '0100100000000000');

  const info = sameAsReal('gnt-network', ['info', 'net1']);
  assert.match(info, /  used by 2 instances:\n    inst\d: 0:10\.9\.0\.\d\n    inst\d: 0:10\.9\.0\.\d\n$/);
  sameAsReal('gnt-network', ['list', '-o', 'name,inst_cnt,inst_list,free_count,map']);

  // Disconnecting needs the group's NICs out of the network first.
  const disc = node.run('gnt-network', ['disconnect', 'net1', 'default']);
  assert.equal(disc.code, 1);
  assert.match(disc.stdout, / - WARNING: IP addresses from network 'net1', which is about to disconnect from node group 'default', are in use: inst\d: nic0\/10\.9\.0\.\d, inst\d: nic0\/10\.9\.0\.\d\n/);
  assert.match(disc.stderr, /Conflicting IP addresses found;  remove\/modify the corresponding network interfaces/);

  ok('gnt-instance', ['remove', '-f', 'inst1']);
  ok('gnt-instance', ['remove', '-f', 'inst2']);
  assert.equal(netByName('net1').reservations, '0'.repeat(16));
});

test('gnt-instance modify --net: a NIC added in a network (ip=pool), its address changed, moved into and out of networks, removed; the pools follow', { skip: noopOsMissing }, async () => {
  const net1 = netByName('net1').uuid;
  const free = netByName('free').uuid;
  const nics = (name: string) => (Object.values(config().instances as Record<string, any>).find((i) => i.name === name).nics as any[])
    .map((n) => ({ ip: n.ip, network: n.network, nicparams: n.nicparams }));
  const counts = () => ok('gnt-network', ['list', '--no-headers', '--separator=|', '-o', 'name,free_count,reserved_count', 'net1', 'free']);
  const modify = (args: string[]) => node.run('gnt-instance', ['modify', ...args, 'inst3']);
  ok('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '--no-start', '-n', node.name, 'inst3']);
  assert.equal(counts(), 'free|254|2\nnet1|12|4\n');

  // A new NIC in a network: the group's netparams, the pool's first free address.
  let out = ok('gnt-instance', ['modify', '--net', 'add:network=net1,ip=pool', 'inst3']);
  assert.match(out, / - INFO: Chose IP 10\.9\.0\.1 from network net1\n/);
  assert.match(out, /\n - nic\.1 -> add:mac=aa:00:00(:[0-9a-f]{2}){3},ip=10\.9\.0\.1,mode=routed,link=rt0,network=net1\n/);
  assert.deepEqual(nics('inst3'), [
    { ip: undefined, network: undefined, nicparams: {} },
    { ip: '10.9.0.1', network: net1, nicparams: { mode: 'routed', link: 'rt0', vlan: '' } }]);
  assert.equal(netByName('net1').reservations, '0100000000000000');
  assert.equal(counts(), 'free|254|2\nnet1|11|5\n');
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'nic.ip/1,nic.network.name/1,nic.mode/1,nic.link/1', 'inst3']), '10.9.0.1 net1 routed rt0\n');

  // Its address changed inside the network: the new one taken, the old one given back.
  out = ok('gnt-instance', ['modify', '--net', '1:ip=10.9.0.4', 'inst3']);
  assert.match(out, / - INFO: Reserving IP 10\.9\.0\.4 in network net1\n/);
  assert.match(out, /\n - nic\.ip\/1 -> 10\.9\.0\.4\n - nic\.link\/1 -> rt0\n - nic\.mode\/1 -> routed\n - nic\.vlan\/1 -> \n/);
  assert.equal(netByName('net1').reservations, '0000100000000000');
  assert.equal(counts(), 'free|254|2\nnet1|11|5\n');

  // Conflicts, with upstream's errors: an address in use or reserved, one of a network the NIC is not in, the mode of a NIC in a network.
  ok('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '--no-start', '-n', node.name, '--net', '0:network=net1,ip=pool', 'inst4']);
  assert.equal(netByName('net1').reservations, '0100100000000000');
  const refused = (args: string[], kind: string, msg: string | RegExp) => {
    const r = modify(args);
    assert.equal(r.code, 1, r.stdout);
    const head = `Failure: prerequisites not met for this operation:\nerror type: ${kind}, error details:\n`;
    assert.ok(r.stderr.startsWith(head), r.stderr);
    if (typeof msg === 'string') assert.equal(r.stderr, `${head}${msg}\n`);
    else assert.match(r.stderr.slice(head.length).trimEnd(), msg);
  };
  refused(['--net', '1:ip=10.9.0.1'], 'resource_not_unique', 'IP 10.9.0.1 not available in network net1');
  refused(['--net', '1:ip=10.9.0.7'], 'resource_not_unique', 'IP 10.9.0.7 not available in network net1');
  refused(['--net', '1:ip=10.8.0.9'], 'resource_not_unique', 'IP 10.8.0.9 not available in network net1');
  refused(['--net', '0:ip=10.9.0.5'], 'wrong_state', 'The requested IP address (10.9.0.5) belongs to network net1, but the target NIC does not.');
  refused(['--net', '1:mode=bridged'], 'wrong_input', 'Not allowed to change link or mode of a NIC that is connected to a network');
  refused(['--net', '1:network=free,link=br0'], 'wrong_input', 'If network is given mode or link should not');
  refused(['--net', '0:network=nodes'], 'wrong_input', 'No netparams found for the network nodes, probably not connected');
  refused(['--net', '0:network=nosuch'], 'unknown_entity', "Network 'nosuch' not found");
  refused(['--net', 'add:ip=pool'], 'wrong_input', 'If ip=pool, parameter network cannot be none');
  refused(['--net', '0:ip=pool'], 'wrong_input', 'ip=pool, but no network found');
  // Nor is the address another NIC of the instance uses.
  refused(['--net', 'add:network=net1,ip=10.9.0.4'], 'resource_not_unique', 'IP 10.9.0.4 not available in network net1');
  // Nor one address for two NICs of the request; nothing is reserved then.
  refused(['--net', 'add:network=net1,ip=10.9.0.6', '--net', 'add:network=net1,ip=10.9.0.6'], 'resource_not_unique', 'IP 10.9.0.6 not available in network net1');
  assert.equal(netByName('net1').reservations, '0100100000000000');
  // Without the conflicts check an externally reserved address may be used.
  ok('gnt-instance', ['modify', '--no-conflicts-check', '--net', '1:ip=10.9.0.7', 'inst3']);
  assert.equal(netByName('net1').reservations, '0100000100000000');
  ok('gnt-instance', ['modify', '--net', '1:ip=10.9.0.4', 'inst3']);

  // The first NIC moved into a network: its netparams and an address from the pool.
  out = ok('gnt-instance', ['modify', '--net', '0:network=free,ip=pool', 'inst3']);
  assert.match(out, / - INFO: Chose IP 10\.8\.0\.1 from network free\n/);
  assert.match(out, /\n - nic\.ip\/0 -> 10\.8\.0\.1\n - nic\.network\/0 -> free\n - nic\.link\/0 -> br9\n - nic\.mode\/0 -> bridged\n - nic\.vlan\/0 -> \.100\n/);
  assert.deepEqual(nics('inst3')[0], { ip: '10.8.0.1', network: free, nicparams: { mode: 'bridged', link: 'br9', vlan: '.100' } });
  assert.equal(counts(), 'free|253|3\nnet1|10|6\n');
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'nic.ip/0,nic.network.name/0,nic.mode/0,nic.link/0', 'inst3']), '10.8.0.1 free bridged br9\n');

  // Out of it: its address would then belong to a network the NIC is not in, so it goes too.
  refused(['--net', '0:network=none'], 'wrong_state', 'The requested IP address (10.8.0.1) belongs to network free, but the target NIC does not.');
  out = ok('gnt-instance', ['modify', '--net', '0:network=none,ip=none', 'inst3']);
  assert.match(out, /\n - nic\.ip\/0 -> None\n - nic\.network\/0 -> None\n - nic\.link\/0 -> br9\n - nic\.mode\/0 -> bridged\n - nic\.vlan\/0 -> \.100\n/);
  assert.deepEqual(nics('inst3')[0], { ip: undefined, network: undefined, nicparams: { mode: 'bridged', link: 'br9', vlan: '.100' } });
  assert.equal(counts(), 'free|254|2\nnet1|10|6\n');

  // Another network with a MAC prefix of its own: the NIC gets a new MAC with it.
  ok('gnt-network', ['add', '--network', '10.7.0.0/29', '-m', 'aa:cc:00', 'prefixed']);
  ok('gnt-network', ['connect', '-N', 'mode=bridged,link=br7', 'prefixed']);
  out = ok('gnt-instance', ['modify', '--net', '0:network=prefixed,ip=10.7.0.3', 'inst3']);
  assert.match(out, /\n - nic\.mac\/0 -> aa:cc:00(:[0-9a-f]{2}){3}\n - nic\.ip\/0 -> 10\.7\.0\.3\n - nic\.network\/0 -> prefixed\n/);
  assert.equal(netByName('prefixed').reservations, '00010000');

  // Removing NICs gives their addresses back.
  ok('gnt-instance', ['modify', '--net', '1:remove', 'inst3']);
  assert.equal(netByName('net1').reservations, '0100000000000000');
  assert.equal(counts(), 'free|254|2\nnet1|11|5\n');
  // The last NIC cannot go (the instance policy wants one): nothing changes then.
  refused(['--net', '0:remove'], 'wrong_input', /^Instance allocation to group \S+ \(default\) violates policy: nic-count value 0 is not in range \[1, 8\]$/);
  assert.equal(netByName('prefixed').reservations, '00010000');

  // RAPI's instance modify (a 2.x style `nics` list) takes the same path.
  fs.mkdirSync(node.file('var/lib/ganeti/rapi'), { recursive: true });
  fs.writeFileSync(node.file('var/lib/ganeti/rapi/users'), 'netop netpass write\n', { mode: 0o600 });
  process.kill(node.pid('ganeti-rapi')!, 'SIGHUP');
  let res: RawResponse | null = null;
  for (let i = 0; i < 20 && (res === null || res.status === 401); i++) {
    if (res) await new Promise((r) => setTimeout(r, 250));
    res = await rapiRequest(node.ip, 5080, '/2/instances/inst3/modify', {
      method: 'PUT', user: 'netop', password: 'netpass', body: JSON.stringify({ nics: [['add', { network: 'net1', ip: 'pool' }]] }),
    });
  }
  assert.equal(res!.status, 200, res!.body);
  ok('gnt-job', ['wait', String(JSON.parse(res!.body))]);
  assert.deepEqual(nics('inst3')[1], { ip: '10.9.0.3', network: net1, nicparams: { mode: 'routed', link: 'rt0', vlan: '' } });
  assert.equal(netByName('net1').reservations, '0101000000000000');
  ok('gnt-instance', ['modify', '--net', '0:remove', 'inst3']);
  assert.equal(netByName('prefixed').reservations, '00000000');
  assert.deepEqual(nics('inst3').map((n) => n.ip), ['10.9.0.3']);

  ok('gnt-instance', ['remove', '-f', 'inst3']);
  ok('gnt-instance', ['remove', '-f', 'inst4']);
  ok('gnt-network', ['disconnect', 'prefixed']);
  ok('gnt-network', ['remove', 'prefixed']);
  assert.equal(netByName('net1').reservations, '0'.repeat(16));
  assert.equal(netByName('free').reservations, '0'.repeat(256));
});

test('gnt-network remove: refused while connected, then gone from the configuration and ssconf', () => {
  const r = node.run('gnt-network', ['remove', 'net1']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, / - WARNING: Network 'net1' is connected to the following node groups: default\n/);
  assert.match(r.stderr, /error type: wrong_state, error details:\nNetwork still connected\n/);
  ok('gnt-network', ['disconnect', 'net1']);
  assert.match(ok('gnt-network', ['disconnect', 'net1']), / - WARNING: Network 'net1' is not mapped to group 'default'\n/);
  ok('gnt-network', ['remove', 'net1']);
  assert.equal(netByName('net1'), undefined);
  assert.doesNotMatch(fs.readFileSync(node.file('var/lib/ganeti/ssconf_networks'), 'utf8'), /net1/);
  const gone = node.run('gnt-network', ['remove', 'net1']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /Network 'net1' not found/);
});
