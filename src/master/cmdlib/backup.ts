// Backup logical units (upstream's cmdlib/backup.py): export, remove, prepare; and the
// import half that OP_INSTANCE_CREATE with mode "import" uses.
import type { LUFactory } from './base.ts';

export const BACKUP_LUS: Readonly<Record<string, LUFactory>> = {
};
