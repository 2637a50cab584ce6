// The `lock` query resource: what `gnt-debug locks` and LUXI Query("lock", ...) read
// from LockManager.info().
import type { Field, FieldKind } from '../../core/query.ts';
import type { LockInfo } from './manager.ts';

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: LockInfo) => unknown): Field<LockInfo> =>
  ({ name, title, kind, doc, get });

export const LOCK_FIELDS: ReadonlyMap<string, Field<LockInfo>> = new Map([
  f('mode', 'Mode', 'other', 'Mode in which the lock is currently acquired (exclusive or shared)', (v) => v.mode),
  f('name', 'Name', 'text', 'Lock name', (v) => v.name),
  f('owner', 'Owner', 'other', 'Current lock owner(s)', (v) => v.owner),
  f('pending', 'Pending', 'other', 'Jobs waiting for the lock', (v) => v.pending),
].map((x) => [x.name, x]));
