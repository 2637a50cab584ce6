// Name resolution with a deadline: a broken resolver must not hang a command or a job.
import dns from 'node:dns/promises';

/** The address a host name resolves to, or null (unknown name, or no answer within 3 s). */
export async function resolveHost(name: string): Promise<string | null> {
  try {
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 3000).unref());
    const res = await Promise.race([dns.lookup(name), timeout]);
    return res ? res.address : null;
  } catch {
    return null;
  }
}
