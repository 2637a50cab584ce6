// A network's IPv4 address pool (upstream's lib/network.py AddressPool): two bitmaps
// over the subnet's addresses, stored in the Network object as strings of '0' and '1'
// (`reservations`: addresses instances use; `ext_reservations`: network, broadcast,
// gateway and addresses reserved by the operator).
import type { NetworkObject } from './model.ts';

export type { NetworkObject } from './model.ts';
import { isIPv4Address, isIPv4Network } from '../../core/netaddr.ts';

/** upstream's errors.AddressPoolError. */
export class AddressPoolError extends Error {}

export const IPV4_NETWORK_MIN_SIZE = 30;
export const IPV4_NETWORK_MAX_SIZE = 16;
const MIN_HOSTS = 2 ** (32 - IPV4_NETWORK_MIN_SIZE);
const MAX_HOSTS = 2 ** (32 - IPV4_NETWORK_MAX_SIZE);

export function ipToNumber(addr: string): number {
  return addr.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The subnet of a network string: base address and prefix length; host bits set is an error, as ipaddress.ip_network. */
export function parseSubnet(network: string): { base: number; prefix: number } {
  if (!isIPv4Network(network)) throw new AddressPoolError(`'${network}' does not appear to be an IPv4 network`);
  const [addr, p] = network.split('/');
  const prefix = p === undefined ? 32 : Number(p);
  const base = ipToNumber(addr);
  if (base % 2 ** (32 - prefix) !== 0) throw new AddressPoolError(`${network} has host bits set`);
  return { base, prefix };
}

export class AddressPool {
  readonly net: NetworkObject;
  readonly base: number;
  readonly prefix: number;
  readonly size: number;
  private readonly res: Uint8Array;
  private readonly ext: Uint8Array;

  constructor(net: NetworkObject) {
    this.net = net;
    ({ base: this.base, prefix: this.prefix } = parseSubnet(net.network));
    this.size = 2 ** (32 - this.prefix);
    if (this.size > MAX_HOSTS) {
      throw new AddressPoolError(`A big network with ${this.size} host(s) is currently not supported. please specify at most a /${IPV4_NETWORK_MAX_SIZE} network`);
    }
    if (this.size < MIN_HOSTS) {
      throw new AddressPoolError(`A network with only ${this.size} host(s) is too small, please specify at least a /${IPV4_NETWORK_MIN_SIZE} network`);
    }
    this.res = this.bits(net.reservations);
    this.ext = this.bits(net.ext_reservations);
  }

  private bits(s: string | undefined): Uint8Array {
    const a = new Uint8Array(this.size);
    if (s) {
      if (s.length !== this.size) throw new AddressPoolError(`Reservation map of network ${this.net.name} has ${s.length} entries, expected ${this.size}`);
      for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i) === 49 ? 1 : 0;
    }
    return a;
  }

  /** The network as ipaddress prints it. */
  get subnet(): string {
    return `${numberToIp(this.base)}/${this.prefix}`;
  }

  contains(address: string | null | undefined): boolean {
    if (address === null || address === undefined || !isIPv4Address(address)) return false;
    const i = ipToNumber(address) - this.base;
    return i >= 0 && i < this.size;
  }

  private index(address: string): number {
    if (!this.contains(address)) throw new AddressPoolError(`${this.subnet} does not contain ${address}`);
    return ipToNumber(address) - this.base;
  }

  /** Write the bitmaps back into the Network object. */
  update(): void {
    this.net.reservations = toBits(this.res);
    this.net.ext_reservations = toBits(this.ext);
  }

  isReserved(address: string, external = false): boolean {
    return (external ? this.ext : this.res)[this.index(address)] === 1;
  }

  reserve(address: string, external = false): void {
    if (this.isReserved(address, external)) {
      throw new AddressPoolError(external ? `IP ${address} is already externally reserved` : `IP ${address} is already used by an instance`);
    }
    (external ? this.ext : this.res)[this.index(address)] = 1;
    this.update();
  }

  release(address: string, external = false): void {
    if (!this.isReserved(address, external)) {
      throw new AddressPoolError(external ? `IP ${address} is not externally reserved` : `IP ${address} is not used by an instance`);
    }
    (external ? this.ext : this.res)[this.index(address)] = 0;
    this.update();
  }

  /** Reserved by an instance or externally. */
  private taken(i: number): boolean {
    return this.res[i] === 1 || this.ext[i] === 1;
  }

  reservedCount(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.taken(i)) n++;
    return n;
  }

  freeCount(): number {
    return this.size - this.reservedCount();
  }

  isFull(): boolean {
    return this.freeCount() === 0;
  }

  /** The occupation map: X used, . free. */
  map(): string {
    let s = '';
    for (let i = 0; i < this.size; i++) s += this.taken(i) ? 'X' : '.';
    return s;
  }

  /** The first free address (not reserved), skipping `exclude`; the pool is not changed. */
  generateFree(exclude: ReadonlySet<string> = new Set()): string {
    for (let i = 0; i < this.size; i++) {
      if (this.taken(i)) continue;
      const addr = numberToIp(this.base + i);
      if (!exclude.has(addr)) return addr;
    }
    throw new AddressPoolError(`${this.subnet} is full`);
  }

  externalReservations(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) if (this.ext[i] === 1) out.push(numberToIp(this.base + i));
    return out;
  }

  /** Network object checks after a change (AddressPool.Validate). */
  validate(): void {
    if (this.net.gateway && !this.contains(this.net.gateway)) throw new AddressPoolError(`Gateway ${this.net.gateway} is not in ${this.subnet}`);
  }

  /** A new network's pool: network, broadcast and gateway addresses reserved externally (InitializeNetwork). */
  static initialize(net: NetworkObject): AddressPool {
    const pool = new AddressPool(net);
    pool.update();
    for (const addr of [numberToIp(pool.base), numberToIp(pool.base + pool.size - 1)]) pool.reserve(addr, true);
    if (net.gateway) pool.reserve(net.gateway, true);
    pool.validate();
    return pool;
  }
}

function toBits(a: Uint8Array): string {
  let s = '';
  for (const b of a) s += b === 1 ? '1' : '0';
  return s;
}
