// Instance logical units (upstream's cmdlib/instance*.py) and the backup ones.
import type { LUFactory } from './base.ts';

export const INSTANCE_LUS: Readonly<Record<string, LUFactory>> = {
};
