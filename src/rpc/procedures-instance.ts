// Node-RPC procedures for instances and their disks (spec/core.md §4.3 "Instances" and
// "Block devices"): hypervisor calls and blockdev_*. noded's handlers are in
// src/node/instance-backend.ts.
import type { ProcedureSpec } from './procedures.ts';

export const INSTANCE_PROCEDURES = {
} satisfies Record<string, ProcedureSpec>;
