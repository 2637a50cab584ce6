// noded's handlers for src/rpc/procedures-hypervisor.ts. Hypervisor-level procedures (upstream's backend.ValidateHVParams and friends).
import { HypervisorError } from '../core/errors.ts';
import type { HYPERVISOR_PROCEDURES } from '../rpc/procedures-hypervisor.ts';
import { RpcFail, type Handler } from './context.ts';
import { getHypervisor } from './hypervisor/index.ts';

export const HYPERVISOR_BACKEND: Record<keyof typeof HYPERVISOR_PROCEDURES, Handler> = {
  hypervisor_validate_params: async (ctx, args) => {
    const [hvName, hvparams] = args;
    if (hvparams === null || typeof hvparams !== 'object' || Array.isArray(hvparams)) {
      throw new RpcFail(`Invalid hypervisor parameters ${JSON.stringify(hvparams)}`);
    }
    let problem: string | null;
    try {
      problem = await getHypervisor(ctx.paths, hvName, ctx.log).validateParameters(hvparams as Record<string, unknown>);
    } catch (err) {
      if (err instanceof HypervisorError) throw new RpcFail(err.message);
      throw err;
    }
    if (problem) throw new RpcFail(problem);
    return null;
  },
};
