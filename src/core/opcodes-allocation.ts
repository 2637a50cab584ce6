// Allocation through an iallocator (upstream's OpInstanceMultiAlloc, OpTestAllocator).
// Only types come from ./opcodes.ts: it imports this module before its own values exist.
import { DISK_TEMPLATES, HYPERVISORS } from './constants.ts';
import type { OpcodeSpec, ParamSpec, ParamType } from './opcodes.ts';

const t = (name: string, check: (v: unknown) => boolean): ParamType => ({ name, check });
/** The checks of ./opcodes.ts's T that these opcodes use (same names, so errors read alike). */
const T = {
  bool: t('boolean', (v) => typeof v === 'boolean'),
  nonEmptyString: t('non-empty string', (v) => typeof v === 'string' && v.length > 0),
  nonNegInt: t('non-negative integer', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0),
  stringList: t('list of strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')),
  list: t('list', (v) => Array.isArray(v)),
  dictList: t('list of dictionaries', (v) => Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))),
};

const oneOf = (values: readonly string[]): ParamType => ({
  name: `one of ${values.map((v) => `'${v}'`).join(', ')}`,
  check: (v) => typeof v === 'string' && values.includes(v),
});
const optString: ParamSpec = { type: T.nonEmptyString, default: null, optional: true };

export const IALLOCATOR_MODES = ['allocate', 'allocate-secondary', 'change-group', 'multi-allocate', 'node-evacuate', 'relocate'] as const;

export const ALLOCATION_OPCODES: OpcodeSpec[] = [
  {
    id: 'OP_INSTANCE_MULTI_ALLOC',
    doc: 'Allocates multiple instances: one OP_INSTANCE_CREATE job per instance the allocator places.',
    params: {
      opportunistic_locking: { type: T.bool, default: false },
      iallocator: optString,
      instances: { type: T.dictList, default: [], doc: 'OP_INSTANCE_CREATE opcodes describing the instances to allocate' },
    },
  },
  {
    id: 'OP_TEST_ALLOCATOR',
    doc: "Allocator framework testing: the allocator's input (direction in) or its answer (direction out) for a request.",
    summaryParam: 'iallocator',
    params: {
      direction: { type: oneOf(['in', 'out']) },
      mode: { type: oneOf(IALLOCATOR_MODES) },
      name: { type: T.nonEmptyString },
      nics: { type: T.dictList, default: null, optional: true },
      disks: { type: T.list, default: null, optional: true },
      hypervisor: { type: oneOf(HYPERVISORS), default: null, optional: true },
      iallocator: optString,
      tags: { type: T.stringList, default: [] },
      memory: { type: T.nonNegInt, default: null, optional: true },
      vcpus: { type: T.nonNegInt, default: null, optional: true },
      os: optString,
      disk_template: { type: oneOf(DISK_TEMPLATES), default: null, optional: true },
      instances: { type: T.stringList, default: null, optional: true },
      evac_mode: { type: oneOf(['all', 'primary-only', 'secondary-only']), default: null, optional: true },
      target_groups: { type: T.stringList, default: null, optional: true },
      spindle_use: { type: T.nonNegInt, default: 1 },
      count: { type: T.nonNegInt, default: 1 },
      group_name: optString,
    },
  },
];
