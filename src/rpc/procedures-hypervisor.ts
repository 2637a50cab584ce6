// Node-RPC procedures about hypervisors themselves. noded's handlers are in src/node/hypervisor-backend.ts.
//   hypervisor_validate_params  [hvname, hvparams] → null, or fails with the problem
//                               (upstream's backend.ValidateHVParams: the hypervisor's
//                               ValidateParameters on this node; kvm checks the values
//                               against the installed qemu)
import { RPC_TMO } from '../core/constants.ts';
import type { ProcedureSpec } from './procedures.ts';

export const HYPERVISOR_PROCEDURES = {
  hypervisor_validate_params: { timeout: RPC_TMO.URGENT },
} satisfies Record<string, ProcedureSpec>;
