// node_powercycle [hypervisor, hvparams] → "Reboot scheduled in 5 seconds" (upstream's
// backend.PowercycleNode): the answer goes back first, the hard reboot follows 5 seconds
// later, through the hypervisor (the fake one only records it). A hypervisor this node
// has no backend for reboots the way upstream's kvm, xen-hvm and lxc do: the kernel's
// sysrq trigger. A node of a virtual cluster shares its machine with the other nodes and
// never reboots it.
import { HypervisorError } from '../core/errors.ts';
import { getHypervisor, isMissingHypervisor } from './hypervisor/index.ts';
import { linuxPowercycle } from './hypervisor/linux.ts';
import { RpcFail, type NodeContext } from './context.ts';

export const POWERCYCLE_DELAY_MS = 5000;

export function nodePowercycle(ctx: NodeContext, args: unknown[]): string {
  const [hvName, hvparams] = args as [unknown, Record<string, unknown> | null | undefined];
  let reboot: () => Promise<void>;
  if (isMissingHypervisor(hvName)) {
    if (ctx.paths.root !== '/') {
      throw new RpcFail(`Not powercycling node ${ctx.hostname}: it is a virtual node (${ctx.paths.root}); rebooting would take down the whole machine`);
    }
    reboot = async () => {
      throw new Error(linuxPowercycle());
    };
  } else {
    let hv;
    try {
      hv = getHypervisor(ctx.paths, hvName);
    } catch (err) {
      if (err instanceof HypervisorError) throw new RpcFail(err.message);
      throw err;
    }
    reboot = () => hv.powercycle(hvparams ?? {});
  }
  ctx.log.warn({ hypervisor: hvName, delay_s: POWERCYCLE_DELAY_MS / 1000 }, 'node powercycle requested');
  setTimeout(() => {
    ctx.log.warn({ hypervisor: hvName }, 'powercycling the node now');
    reboot().catch((err: Error) => ctx.log.error({ err: err.message }, 'node powercycle failed'));
  }, POWERCYCLE_DELAY_MS);
  return `Reboot scheduled in ${POWERCYCLE_DELAY_MS / 1000} seconds`;
}
