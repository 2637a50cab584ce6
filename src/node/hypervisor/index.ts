// Hypervisors by name: `fake` and `kvm` (qemu, ./kvm/). Every instance procedure picks
// one by the instance's `hypervisor` field; a caller with a logger passes it on (kvm logs
// its starts, the acceleration used, its forced stops).
import { HYPERVISORS } from '../../core/constants.ts';
import { HypervisorError } from '../../core/errors.ts';
import type { NodePaths } from '../../util/paths.ts';
import type { Logger } from '../../util/log.ts';
import { FakeHypervisor } from './fake.ts';
import { KvmHypervisor } from './kvm/index.ts';
import type { Hypervisor } from './types.ts';

export type * from './types.ts';

export type HypervisorFactory = (paths: NodePaths, log?: Logger) => Hypervisor;

const FACTORIES = new Map<string, HypervisorFactory>([
  ['fake', (paths) => new FakeHypervisor(paths)],
  ['kvm', (paths, log) => new KvmHypervisor(paths, log)],
]);

export function registerHypervisor(name: string, factory: HypervisorFactory): void {
  FACTORIES.set(name, factory);
}

/** A hypervisor of Ganeti's that this node has no backend for (no instance can run under it here). */
export function isMissingHypervisor(name: unknown): boolean {
  return typeof name === 'string' && !FACTORIES.has(name) && (HYPERVISORS as readonly string[]).includes(name);
}

/** The hypervisor `name` on the node whose layout is `paths` (upstream's GetHypervisor). */
export function getHypervisor(paths: NodePaths, name: unknown, log?: Logger): Hypervisor {
  const factory = typeof name === 'string' ? FACTORIES.get(name) : undefined;
  if (factory) return factory(paths, log);
  if (typeof name === 'string' && (HYPERVISORS as readonly string[]).includes(name)) {
    throw new HypervisorError(`Hypervisor '${name}' is not available on this node (available: ${[...FACTORIES.keys()].join(', ')})`);
  }
  throw new HypervisorError(`Unknown hypervisor type '${String(name)}'`);
}
