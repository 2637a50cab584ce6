// /2/instances, /2/instances-multi-alloc and /2/instances/<i>/... (upstream's rlib2
// R_2_instances*): listing, creation (request version 1 only), and one job per action.
import { badRequest, HttpError, notFound } from '../errors.ts';
import { checkType, fillOpcode, isPyType } from '../opcode-input.ts';
import { RAPI_ACCESS_READ, RAPI_ACCESS_WRITE } from '../users.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { bodyDict, classicQuery, listOrBulk, oneItem, opcodeHandler, tagsResource } from './common.ts';

/** The fields of an instance dictionary (upstream's I_FIELDS). */
export const I_FIELDS = [
  'name', 'admin_state', 'os', 'pnode', 'snodes', 'disk_template', 'nic.ips', 'nic.macs', 'nic.modes', 'nic.uuids', 'nic.names',
  'nic.links', 'nic.networks', 'nic.networks.names', 'nic.bridges', 'network_port', 'disk.sizes', 'disk.spindles', 'disk_usage',
  'disk.uuids', 'disk.names', 'beparams', 'hvparams', 'oper_state', 'oper_ram', 'oper_vcpus', 'status', 'custom_hvparams',
  'custom_beparams', 'custom_nicparams', 'ctime', 'mtime', 'uuid', 'serial_no', 'tags',
] as const;

const CREATE_RENAME = { os: 'os_type', name: 'instance_name' };

/** Clients of old still read beparams.memory: it mirrors maxmem (upstream's _UpdateBeparams). */
function withMemory(inst: Record<string, unknown>): Record<string, unknown> {
  const be = inst.beparams;
  if (be && typeof be === 'object' && !Array.isArray(be)) (be as Record<string, unknown>).memory = (be as Record<string, unknown>).maxmem;
  return inst;
}

/** usb_devices once took commas, now spaces: RAPI accepts both (upstream's _ConvertUsbDevices). */
function convertUsbDevices(data: Record<string, unknown>): void {
  const hv = data.hvparams;
  if (isPyType(hv, 'dict') && typeof (hv as Record<string, unknown>).usb_devices === 'string') {
    data.hvparams = { ...(hv as Record<string, unknown>), usb_devices: ((hv as Record<string, string>).usb_devices).replace(/ /g, ',') };
  }
}

/** Python's == against an int for the request version (true is 1, false is 0). */
function versionNumber(v: unknown): unknown {
  return typeof v === 'boolean' ? Number(v) : v;
}

/** POST /2/instances: only the version-1 body (`__version__: 1`) is understood. */
function create(ctx: RequestContext): Promise<unknown> {
  const body = checkType<Record<string, unknown>>(ctx.body, 'dict', 'Body contents');
  const version = versionNumber(Object.hasOwn(body, '__version__') ? body.__version__ : 0);
  if (version === 0) throw badRequest('Instance creation request version 0 is no longer supported');
  if (version !== 1) throw badRequest(`Unsupported request data version ${typeof version === 'string' ? version : JSON.stringify(version)}`);
  const data = { ...body };
  delete data.__version__;
  convertUsbDevices(data);
  return ctx.submitOpcode({ opId: 'OP_INSTANCE_CREATE', body: data, fixed: { dry_run: ctx.dryRun }, rename: CREATE_RENAME });
}

function multiAlloc(ctx: RequestContext): Promise<unknown> {
  const body = bodyDict(ctx);
  if (!Object.hasOwn(body, 'instances')) throw badRequest("Request is missing required 'instances' field in body");
  const instances = checkType<unknown[]>(body.instances, 'list', "'instances' parameter")
    .map((inst) => fillOpcode({ opId: 'OP_INSTANCE_CREATE', body: inst, fixed: {}, rename: CREATE_RENAME }));
  return ctx.submitOpcode({ opId: 'OP_INSTANCE_MULTI_ALLOC', body: { ...body, instances }, fixed: { dry_run: ctx.dryRun } });
}

/**
 * POST /2/instances/<i>/reinstall: a job of shutdown, reinstall and (unless start is
 * false) startup. The body form ({os, start, osparams}), or the legacy query form
 * (os=, nostartup=); not both.
 */
function reinstall(ctx: RequestContext): Promise<unknown> {
  const name = ctx.items[0];
  // The reason is every request's own argument, not part of the legacy form.
  const legacyArgs = [...ctx.query.keys()].filter((k) => k !== 'reason');
  const hasBody = ctx.body !== null && !(isPyType(ctx.body, 'dict') && Object.keys(ctx.body as object).length === 0);
  let data: unknown = {};
  if (hasBody) {
    if (legacyArgs.length > 0) throw badRequest("Can't combine query and body parameters");
    data = ctx.body;
  } else if (legacyArgs.length > 0) {
    data = { os: ctx.stringArg('os'), start: !ctx.intArg('nostartup') };
  }
  if (!isPyType(data, 'dict')) throw badRequest('Invalid body contents, not a dictionary');
  const d = data as Record<string, unknown>;
  const os = Object.hasOwn(d, 'os') ? d.os : null;
  const start = Object.hasOwn(d, 'start') ? checkType<boolean>(d.start, 'bool', "'start' parameter") : true;
  const osparams = Object.hasOwn(d, 'osparams') ? d.osparams : null;
  const ops = [
    ctx.opcode({ opId: 'OP_INSTANCE_SHUTDOWN', body: {}, fixed: { instance_name: name } }),
    ctx.opcode({ opId: 'OP_INSTANCE_REINSTALL', body: {}, fixed: { instance_name: name, os_type: os, osparams } }),
  ];
  if (start) ops.push(ctx.opcode({ opId: 'OP_INSTANCE_STARTUP', body: {}, fixed: { instance_name: name, force: false } }));
  return ctx.submit(ops);
}

/** POST /2/instances/<i>/replace-disks: the body, or the legacy query form; disks as a list or "0,1". */
function replaceDisks(ctx: RequestContext): Promise<unknown> {
  let data: Record<string, unknown> = {};
  if (ctx.body !== null && !(isPyType(ctx.body, 'dict') && Object.keys(ctx.body as object).length === 0)) {
    data = { ...checkType<Record<string, unknown>>(ctx.body, 'dict', 'Body contents') };
  } else if (ctx.query.size > 0) {
    data = { remote_node: ctx.stringArg('remote_node'), mode: ctx.stringArg('mode'), disks: ctx.stringArg('disks'), iallocator: ctx.stringArg('iallocator') };
  }
  if (Object.hasOwn(data, 'disks')) {
    const raw = data.disks;
    delete data.disks;
    if (raw) {
      if (Array.isArray(raw) && raw.every((d) => Number.isInteger(d))) data.disks = raw;
      else {
        const parts = String(raw).split(',').map((p) => p.trim());
        if (!parts.every((p) => /^[+-]?\d+$/.test(p))) throw badRequest(`Invalid disk index passed: invalid literal for int() with base 10: '${parts.find((p) => !/^[+-]?\d+$/.test(p))}'`);
        data.disks = parts.map(Number);
      }
    }
  }
  return ctx.submitOpcode({ opId: 'OP_INSTANCE_REPLACE_DISKS', body: data, fixed: { instance_name: ctx.items[0] } });
}

function modify(ctx: RequestContext): Promise<unknown> {
  const data = { ...bodyDict(ctx) };
  convertUsbDevices(data);
  return ctx.submitOpcode({
    opId: 'OP_INSTANCE_SET_PARAMS', body: data, fixed: { instance_name: ctx.items[0] },
    rename: { custom_beparams: 'beparams', custom_hvparams: 'hvparams' },
  });
}

/** GET /2/instances/<i>/console: how to reach the console of a running instance (503 otherwise). */
async function console(ctx: RequestContext): Promise<unknown> {
  const rows = await classicQuery(ctx, 'QueryInstances', [ctx.items[0]], ['console', 'oper_state']);
  if (rows.length === 0) throw notFound();
  const [info, running] = rows[0];
  if (!running) throw new HttpError(503, 'Instance console unavailable');
  return info;
}

const instanceName = (ctx: RequestContext) => ({ instance_name: ctx.items[0] });

export const INSTANCE_ROUTES: Route[] = [
  ['/2/instances', {
    name: 'instances',
    GET: async (ctx) => {
      const r = await listOrBulk(ctx, 'QueryInstances', I_FIELDS, '/2/instances/', 'id');
      return ctx.bulk ? (r as Array<Record<string, unknown>>).map(withMemory) : r;
    },
    POST: create,
  }],
  ['/2/instances-multi-alloc', { name: 'instances_multi_alloc', POST: multiAlloc }],
  ['/2/instances/{name}', {
    name: 'instances_name',
    GET: async (ctx) => withMemory(await oneItem(ctx, 'QueryInstances', ctx.items[0], I_FIELDS)),
    DELETE: opcodeHandler('OP_INSTANCE_REMOVE', (ctx) => ({ ...instanceName(ctx), ignore_failures: false, dry_run: ctx.dryRun })),
  }],
  ['/2/instances/{name}/info', {
    name: 'instances_name_info',
    GET: (ctx) => ctx.submitOpcode({ opId: 'OP_INSTANCE_QUERY_DATA', body: {}, fixed: { instances: [ctx.items[0]], static: ctx.flag('static') } }),
  }],
  ['/2/instances/{name}/tags', tagsResource('instances_name_tags', 'instance')],
  ['/2/instances/{name}/reboot', {
    name: 'instances_name_reboot',
    POST: opcodeHandler('OP_INSTANCE_REBOOT', (ctx) => ({
      ...instanceName(ctx), reboot_type: ctx.stringArg('type', 'hard'), ignore_secondaries: ctx.flag('ignore_secondaries'), dry_run: ctx.dryRun,
    })),
  }],
  ['/2/instances/{name}/reinstall', { name: 'instances_name_reinstall', POST: reinstall }],
  ['/2/instances/{name}/replace-disks', { name: 'instances_name_replace_disks', POST: replaceDisks }],
  ['/2/instances/{name}/shutdown', {
    name: 'instances_name_shutdown',
    PUT: opcodeHandler('OP_INSTANCE_SHUTDOWN', (ctx) => ({ ...instanceName(ctx), no_remember: ctx.flag('no_remember'), dry_run: ctx.dryRun })),
  }],
  ['/2/instances/{name}/startup', {
    name: 'instances_name_startup',
    PUT: (ctx) => ctx.submitOpcode({
      opId: 'OP_INSTANCE_STARTUP', body: {}, fixed: { ...instanceName(ctx), force: ctx.force, dry_run: ctx.dryRun, no_remember: ctx.flag('no_remember') },
    }),
  }],
  ['/2/instances/{name}/activate-disks', {
    name: 'instances_name_activate_disks',
    PUT: (ctx) => ctx.submitOpcode({ opId: 'OP_INSTANCE_ACTIVATE_DISKS', body: {}, fixed: { ...instanceName(ctx), ignore_size: ctx.flag('ignore_size') } }),
  }],
  ['/2/instances/{name}/deactivate-disks', {
    name: 'instances_name_deactivate_disks',
    PUT: (ctx) => ctx.submitOpcode({ opId: 'OP_INSTANCE_DEACTIVATE_DISKS', body: {}, fixed: { ...instanceName(ctx), force: ctx.force } }),
  }],
  ['/2/instances/{name}/recreate-disks', { name: 'instances_name_recreate_disks', POST: opcodeHandler('OP_INSTANCE_RECREATE_DISKS', instanceName) }],
  ['/2/instances/{name}/prepare-export', {
    name: 'instances_name_prepare_export',
    PUT: (ctx) => ctx.submitOpcode({ opId: 'OP_BACKUP_PREPARE', body: {}, fixed: { ...instanceName(ctx), mode: ctx.stringArg('mode') } }),
  }],
  ['/2/instances/{name}/export', {
    name: 'instances_name_export',
    PUT: opcodeHandler('OP_BACKUP_EXPORT', instanceName, { destination: 'target_node' }),
  }],
  ['/2/instances/{name}/migrate', { name: 'instances_name_migrate', PUT: opcodeHandler('OP_INSTANCE_MIGRATE', instanceName) }],
  ['/2/instances/{name}/failover', { name: 'instances_name_failover', PUT: opcodeHandler('OP_INSTANCE_FAILOVER', instanceName) }],
  ['/2/instances/{name}/rename', { name: 'instances_name_rename', PUT: opcodeHandler('OP_INSTANCE_RENAME', instanceName) }],
  ['/2/instances/{name}/modify', { name: 'instances_name_modify', PUT: modify }],
  ['/2/instances/{name}/disk/{disk}/grow', {
    name: 'instances_name_disk_grow',
    POST: opcodeHandler('OP_INSTANCE_GROW_DISK', (ctx) => ({ ...instanceName(ctx), disk: Number(ctx.items[1]) })),
  }],
  ['/2/instances/{name}/console', { name: 'instances_name_console', GET: console, access: { GET: [RAPI_ACCESS_WRITE, RAPI_ACCESS_READ] } }],
];
