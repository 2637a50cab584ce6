// Node storage units (upstream's OpNodeQueryStorage, OpNodeModifyStorage,
// OpRepairNodeStorage: parameters, types and defaults of opcodes.py / OpParams.hs, which
// gnt-node and the RAPI client send).
// Only types come from ./opcodes.ts: it imports this module before its own values exist.
import type { OpcodeSpec, ParamSpec, ParamType } from './opcodes.ts';

/** Upstream's STORAGE_TYPES (ht.TStorageType). */
export const STORAGE_TYPES = ['blockdev', 'diskless', 'ext', 'file', 'gluster', 'lvm-pv', 'lvm-vg', 'rados', 'sharedfile'] as const;

const t = (name: string, check: (v: unknown) => boolean): ParamType => ({ name, check });
const T = {
  bool: t('boolean', (v) => typeof v === 'boolean'),
  string: t('string', (v) => typeof v === 'string'),
  nonEmptyString: t('non-empty string', (v) => typeof v === 'string' && v.length > 0),
  nonEmptyStringList: t('list of non-empty strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0)),
  dict: t('dictionary', (v) => v !== null && typeof v === 'object' && !Array.isArray(v)),
  storageType: t(`one of ${STORAGE_TYPES.map((s) => `'${s}'`).join(', ')}`, (v) => typeof v === 'string' && (STORAGE_TYPES as readonly string[]).includes(v)),
};

const NODE_NAME: Record<string, ParamSpec> = {
  node_name: { type: T.nonEmptyString, doc: 'A required node name (for single-node LUs)' },
  node_uuid: { type: T.nonEmptyString, default: null, optional: true, doc: 'A node UUID (for single-node LUs)' },
};
const STORAGE_NAME: ParamSpec = { type: T.string, default: null, optional: true, doc: 'Storage name' };

export const STORAGE_OPCODES: OpcodeSpec[] = [
  {
    id: 'OP_NODE_QUERY_STORAGE',
    doc: 'Get information on storage for node(s).',
    params: {
      output_fields: { type: T.nonEmptyStringList, doc: 'Selected output fields' },
      storage_type: { type: T.storageType, default: null, optional: true, doc: 'Storage type' },
      nodes: { type: T.nonEmptyStringList, default: [], doc: 'Empty list to query all, list of names to query otherwise' },
      name: STORAGE_NAME,
    },
  },
  {
    id: 'OP_NODE_MODIFY_STORAGE',
    doc: 'Modifies the properies of a storage unit',
    summaryParam: 'node_name',
    params: {
      ...NODE_NAME,
      storage_type: { type: T.storageType, doc: 'Storage type' },
      name: STORAGE_NAME,
      changes: { type: T.dict, doc: 'Requested storage changes' },
    },
  },
  {
    id: 'OP_REPAIR_NODE_STORAGE',
    doc: 'Repairs the volume group on a node.',
    summaryParam: 'node_name',
    params: {
      ...NODE_NAME,
      storage_type: { type: T.storageType, doc: 'Storage type' },
      name: STORAGE_NAME,
      ignore_consistency: { type: T.bool, default: false, doc: 'Whether to ignore disk consistency' },
    },
  },
];
