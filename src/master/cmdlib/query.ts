// Query logical units that run as jobs: OP_INSTANCE_QUERY_DATA (gnt-instance info),
// OP_OS_DIAGNOSE and OP_BACKUP_QUERY.
import type { LUFactory } from './base.ts';

export const QUERY_LUS: Readonly<Record<string, LUFactory>> = {
};
